/**
 * `wsmachine/compat` in a real browser: Debian's `chromium` (never a downloaded browser) driven by
 * `playwright-core`. A `node:http` server on 127.0.0.1 serves a page and the facade's browser bundle
 * (`src/compat.ts` bundled by scripts/bundle-browser.mjs, as `wsmachine/compat/browser` ships it); the
 * page imports it with `<script type="module">` and the tests drive a `ReconnectingWebSocket` over the
 * browser's native `WebSocket` against `ws` servers on loopback.
 *
 * Run with `npm run test:system`. Needs `apt-get install -y chromium`; without it every test here
 * FAILS saying so (never skips). Nothing sleeps: every wait is an event in the page, awaited by the
 * code `page.evaluate` runs there.
 */
import { existsSync } from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { COMPAT_BROWSER_BUNDLE, bundleBrowser } from '../../scripts/bundle-browser.mjs';
import { CHROMIUM, launchChromium, requireChromium } from '../helpers/chromium.js';
import { serveFiles } from '../helpers/page-server.js';
import { cleanup, startSilentTcpServer, startWsServer } from '../helpers/servers.js';

/**
 * The page: imports the bundle, exposes the class, and a helper that resolves with the next event of
 * a type (with a guard timeout that rejects with what the socket was doing).
 */
const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>wsmachine/compat in a real browser</title></head>
<body><h1>wsmachine/compat: ReconnectingWebSocket over the native WebSocket</h1>
<script type="module">
  import ReconnectingWebSocket, { ReconnectingWebSocket as Named } from '/compat.js';
  window.RWS = ReconnectingWebSocket;
  window.sameClass = ReconnectingWebSocket === Named;
  window.next = (ws, type, predicate = () => true, timeoutMs = 8000) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        ws.removeEventListener(type, listener);
        reject(new Error('no ' + type + ' event (readyState ' + ws.readyState + ', client ' + ws.client.state + ')'));
      }, timeoutMs);
      const listener = (event) => {
        if (!predicate(event)) return;
        clearTimeout(timer);
        ws.removeEventListener(type, listener);
        resolve(event);
      };
      ws.addEventListener(type, listener);
    });
  window.ready = true;
</script></body></html>`;

interface PageGlobals {
  RWS: any;
  sameClass: boolean;
  next(ws: unknown, type: string, predicate?: (e: any) => boolean, timeoutMs?: number): Promise<any>;
  sockets: any[];
  waits: Record<string, Promise<unknown>>;
}
declare const window: PageGlobals;

/**
 * `page.evaluate`, with a failure in the page rethrown as a plain error carrying the page's message
 * (vitest cannot map a browser stack, whose frames are http:// URLs, and would hide the message).
 */
async function inPage<R, A>(page: Page, fn: (arg: A) => R | Promise<R>, arg?: A): Promise<R> {
  try {
    return await page.evaluate(fn as never, arg);
  } catch (error) {
    throw new Error(`in the page: ${(error as Error).message.split('\n')[0]}`);
  }
}

const startCompatPage = (bundle: Uint8Array) =>
  serveFiles({
    '/': { type: 'text/html', body: PAGE },
    '/compat.js': { type: 'text/javascript', body: bundle },
  });

describe('wsmachine/compat in a real browser (Debian chromium, native WebSocket)', () => {
  let browser: Browser | undefined;
  let pageServer: { url: string; close(): Promise<void> } | undefined;
  const contexts: BrowserContext[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) return; // each test fails with the install hint
    const report = await bundleBrowser({
      write: false,
      entry: 'src/compat.ts',
      outfile: COMPAT_BROWSER_BUNDLE,
    });
    expect(report.forbidden).toEqual([]);
    pageServer = await startCompatPage(report.code);
    browser = await launchChromium();
  });

  afterEach(async () => {
    for (const c of contexts.splice(0)) await c.close();
    await cleanup();
  });

  afterAll(async () => {
    await browser?.close();
    await pageServer?.close();
  });

  async function openPage(): Promise<Page> {
    requireChromium();
    if (browser === undefined || pageServer === undefined) throw new Error('The browser did not start');
    const context = await browser.newContext();
    contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    await page.goto(pageServer.url);
    await page.waitForFunction(() => (window as unknown as { ready?: boolean }).ready === true);
    return page;
  }

  it('connects, sends and receives with the browser’s own event classes, and closes', async () => {
    const server = await startWsServer({ echo: true });
    const page = await openPage();
    const result = await inPage(
      page,
      async (url) => {
        const ws = new window.RWS(url, ['v1', 'v2']);
        window.sockets = [ws];
        const states = [ws.readyState];
        ws.send('queued before open');
        const open = await window.next(ws, 'open');
        states.push(ws.readyState);
        const first = await window.next(ws, 'message');
        ws.send('hello');
        const second = await window.next(ws, 'message');
        ws.close(4000, 'done');
        states.push(ws.readyState);
        const close = await window.next(ws, 'close');
        states.push(ws.readyState);
        let thrown = '';
        try {
          window.RWS(url);
        } catch (error) {
          thrown = (error as Error).constructor.name;
        }
        return {
          sameClass: window.sameClass,
          thrown,
          constants: [window.RWS.CONNECTING, window.RWS.OPEN, ws.CLOSING, ws.CLOSED],
          states,
          protocol: ws.protocol,
          url: ws.url,
          openIsEvent: open instanceof Event,
          openTarget: open.target === ws,
          firstIsMessageEvent: first instanceof MessageEvent,
          data: [first.data, second.data],
          origin: first.origin,
          closeIsCloseEvent: close instanceof CloseEvent,
          close: [close.code, close.reason, close.wasClean],
          clientState: ws.client.state,
        };
      },
      server.url,
    );
    expect(result).toEqual({
      sameClass: true,
      thrown: 'TypeError',
      constants: [0, 1, 2, 3],
      states: [0, 1, 2, 3],
      protocol: 'v1',
      url: `${server.url}/`,
      openIsEvent: true,
      openTarget: true,
      firstIsMessageEvent: true,
      data: ['queued before open', 'hello'],
      origin: server.url,
      closeIsCloseEvent: true,
      close: [4000, 'done', true],
      clientState: 'stopped',
    });
    expect(await server.waitForClosed(0)).toEqual({ code: 4000, reason: 'done' });
    expect(pageErrors).toEqual([]);
  });

  it('delivers binary as Blob or ArrayBuffer, refuses nodebuffer, and throws the DOM errors of close()', async () => {
    const server = await startWsServer({ echo: true });
    const page = await openPage();
    const result = await inPage(
      page,
      async (url) => {
        const ws = new window.RWS(url);
        await window.next(ws, 'open');
        const echo = async () => {
          const received = window.next(ws, 'message');
          ws.send(new Uint8Array([1, 2, 250]));
          return (await received).data;
        };
        const blob = await echo();
        ws.binaryType = 'arraybuffer';
        const buffer = await echo();
        let nodebuffer = '';
        try {
          ws.binaryType = 'nodebuffer';
        } catch (error) {
          nodebuffer = (error as { code: string }).code;
        }
        const closeErrors: string[] = [];
        for (const args of [[1001], [5000], [1000, 'é'.repeat(62)]]) {
          try {
            ws.close(...args);
          } catch (error) {
            closeErrors.push(`${(error as Error).constructor.name}:${(error as Error).name}`);
          }
        }
        const stillOpen = ws.readyState === ws.OPEN;
        ws.close();
        await window.next(ws, 'close');
        return {
          blob: blob instanceof Blob ? [...new Uint8Array(await blob.arrayBuffer())] : String(blob),
          buffer: buffer instanceof ArrayBuffer ? [...new Uint8Array(buffer)] : String(buffer),
          binaryType: ws.binaryType,
          nodebuffer,
          closeErrors,
          stillOpen,
        };
      },
      server.url,
    );
    expect(result).toEqual({
      blob: [1, 2, 250],
      buffer: [1, 2, 250],
      binaryType: 'arraybuffer',
      nodebuffer: 'WSM_ERR_INVALID_OPTIONS',
      closeErrors: [
        'DOMException:InvalidAccessError',
        'DOMException:InvalidAccessError',
        'DOMException:SyntaxError',
      ],
      stillOpen: true,
    });
    expect(pageErrors).toEqual([]);
  });

  it('reconnects after the server restarts, keeping its handlers; reconnect() closes with its code', async () => {
    const server = await startWsServer({ echo: true });
    const page = await openPage();
    await inPage(
      page,
      async (url) => {
        const ws = new window.RWS(url, [], { minReconnectionDelay: 50, maxReconnectionDelay: 200 });
        window.sockets = [ws];
        (ws as { log: string[] }).log = [];
        // An expando, as apps add them: it must not collide with the facade's internals.
        ws.onopen = () => ws.log.push('open');
        ws.onclose = (e: { code: number }) => ws.log.push(`close ${e.code}`);
        ws.onerror = (e: { message: string }) => ws.log.push(`error ${e.message.slice(0, 20)}`);
        await window.next(ws, 'open');
        // Listening before the server goes: nothing is missed between two evaluate calls.
        window.waits = {
          closed: window.next(ws, 'close'),
          failedDial: window.next(ws, 'error'),
          reopened: window.next(ws, 'open', () => true, 20_000),
        };
      },
      server.url,
    );

    await server.close();
    await inPage(page, () => window.waits.closed);
    await inPage(page, () => window.waits.failedDial); // a dial to the stopped server
    await server.restart();
    const reopened = await inPage(page, async () => {
      const ws = window.sockets[0];
      await window.waits.reopened;
      ws.send('after the restart');
      const { data } = await window.next(ws, 'message');
      ws.reconnect(4100, 'again');
      const close = await window.next(ws, 'close');
      await window.next(ws, 'open');
      return { data, close: [close.code, close.reason], log: ws.log, readyState: ws.readyState };
    });
    expect(reopened.data).toBe('after the restart');
    expect(reopened.close).toEqual([4100, 'again']);
    expect(reopened.log[0]).toBe('open');
    expect(reopened.log[1]).toBe('close 1006');
    // Each failed dial to the stopped server: an error (the browser hides why), then its close.
    const dials = reopened.log.slice(2, -3);
    expect(dials.length).toBeGreaterThanOrEqual(2);
    for (let i = 0; i < dials.length; i += 2) {
      expect(dials[i]).toMatch(/^error Could not connect/);
      expect(dials[i + 1]).toBe('close 1006');
    }
    expect(reopened.log.slice(-3)).toEqual(['open', 'close 4100', 'open']);
    expect(reopened.readyState).toBe(1);
    const last = server.connections.length - 2;
    expect(await server.waitForClosed(last)).toEqual({ code: 4100, reason: 'again' });
    expect(pageErrors).toEqual([]);
  });

  it('connectionTimeout: a server that accepts TCP but never answers gives a TIMEOUT error event', async () => {
    const silent = await startSilentTcpServer();
    const page = await openPage();
    const result = await inPage(
      page,
      async (url) => {
        const ws = new window.RWS(url, [], { connectionTimeout: 300, maxRetries: 0 });
        // The error and the close of a failed attempt come in one step: listen to both first.
        const [error, close] = await Promise.all([window.next(ws, 'error'), window.next(ws, 'close')]);
        return {
          message: error.message,
          code: error.error.code,
          close: close.code,
          retryCount: ws.retryCount,
        };
      },
      silent.url,
    );
    expect(result).toEqual({ message: 'TIMEOUT', code: 'WSM_ERR_OPEN_TIMEOUT', close: 1006, retryCount: 0 });
    await silent.waitForAccepted(1);
    expect(pageErrors).toEqual([]);
  });
});
