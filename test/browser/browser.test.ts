/**
 * wsmachine in a real browser: Debian's `chromium` (never a downloaded browser) driven by
 * `playwright-core`. A `node:http` server on 127.0.0.1 serves a page and the browser bundle
 * (`dist/browser/wsmachine.js`, built here by scripts/bundle-browser.mjs); the page loads it with
 * `<script type="module">` and talks to a `ws` server on loopback through the native adapter.
 *
 * Run with `npm run test:system` (vitest.system.config.ts). Needs `apt-get install -y chromium`;
 * without it every test here FAILS saying so (never skips).
 *
 * Assertions read the page's own state and events (`window.wsm`, see page/app.js). Nothing sleeps:
 * every wait is a Playwright `waitForFunction` on the page's state, or a server-side event.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BROWSER_BUNDLE, bundleBrowser } from '../../scripts/bundle-browser.mjs';
import { CHROMIUM, launchChromium, requireChromium } from '../helpers/chromium.js';
import { Opcode, closeRawPeers, startRawPeer } from '../helpers/raw-peer.js';
import { type DemoServer, startDemoServer } from '../../src/server.js';
import { startTestPage } from '../helpers/page-server.js';
import { type TestWsServer, cleanup, startWsServer } from '../helpers/servers.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const OUTPUT = join(root, 'test-output');
const WAIT = { timeout: 10_000 };

/** What the page exposes on `window.wsm` (see page/app.js). */
interface PageState {
  client: unknown;
  state: string;
  transitions: string[];
  log: string[];
  connecting: number;
  connectingAt: number[];
  opens: Array<{ sessionId: number; restarting: boolean }>;
  closes: Array<{ code: number; reason: string; wasClean: boolean }>;
  reconnecting: Array<{ attempt: number; delayMs: number }>;
  errors: string[];
  onlineAt: number | undefined;
  start(options?: unknown): Promise<void>;
  add(a: number, b: number): Promise<{ id: number; sum: number; conn: number }>;
  binaryRoundTrip(bytes: number[]): Promise<{ isUint8Array: boolean; bytes: number[] }>;
  machineState(): string;
  stop(): Promise<void>;
}
declare const wsm: PageState;

/** A JSON "add" service on `ws`; binary messages come back reversed. */
function startAddServer(): Promise<TestWsServer> {
  return startWsServer({
    onConnection(connection) {
      connection.socket.on('message', (data: Buffer, isBinary: boolean) => {
        if (isBinary) {
          connection.socket.send(Buffer.from(data).reverse(), { binary: true });
          return;
        }
        const { id, a, b } = JSON.parse(data.toString()) as { id: number; a: number; b: number };
        connection.socket.send(JSON.stringify({ id, sum: a + b, conn: connection.index }));
      });
    },
  });
}

/**
 * Waits (Playwright's waitForFunction, re-evaluated on every animation frame) until `predicate` holds
 * in the page; on timeout the error carries the page's state and event log.
 */
async function until(page: Page, predicate: () => boolean, label: string): Promise<void> {
  try {
    await page.waitForFunction(predicate, undefined, WAIT);
  } catch (error) {
    const dump = await page
      .evaluate(() => ({
        state: wsm.state,
        machine: wsm.client === undefined ? undefined : wsm.machineState(),
        log: wsm.log,
      }))
      .catch((e: unknown) => String(e));
    throw new Error(`Waiting for ${label}: ${String(error)}\npage: ${JSON.stringify(dump, null, 2)}`);
  }
}

describe('real browser (Debian chromium, native WebSocket, browser bundle)', () => {
  let browser: Browser | undefined;
  let pageServer: { url: string; close(): Promise<void> } | undefined;
  const contexts: BrowserContext[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) return; // each test fails with the install hint
    const report = await bundleBrowser({ write: true });
    expect(report.forbidden).toEqual([]);
    pageServer = await startTestPage(readFileSync(BROWSER_BUNDLE));
    browser = await launchChromium();
  });

  afterEach(async () => {
    for (const c of contexts.splice(0)) await c.close();
    await cleanup();
    await closeRawPeers();
  });

  afterAll(async () => {
    await browser?.close();
    await pageServer?.close();
  });

  /** A fresh context and page on the test page, connected to `wsUrl`. */
  async function openPage(wsUrl: string): Promise<{ context: BrowserContext; page: Page }> {
    requireChromium();
    if (browser === undefined || pageServer === undefined) throw new Error('The browser did not start');
    const context = await browser.newContext({ viewport: { width: 900, height: 640 } });
    contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    await page.goto(`${pageServer.url}/?ws=${encodeURIComponent(wsUrl)}`);
    await page.waitForFunction(
      () => (window as unknown as { wsm?: { ready?: boolean } }).wsm?.ready === true,
    );
    return { context, page };
  }

  it(`finds Debian chromium at ${CHROMIUM}`, () => {
    requireChromium();
    expect(browser).toBeDefined();
  });

  it('loads the bundle, does request/response, reconnects after a server restart, and stops', async () => {
    const server = await startAddServer();
    const { page } = await openPage(server.url);

    // No adapter option: the browser entry's default is the native WebSocket.
    await page.evaluate(() => wsm.start({ reconnect: { baseDelayMs: 50, maxDelayMs: 250 } }));
    expect(await page.evaluate(() => wsm.state)).toBe('open');
    expect(await page.evaluate(() => wsm.transitions)).toEqual([
      'idle->connecting',
      'connecting->opening',
      'opening->open',
    ]);

    const replies = await page.evaluate(() => Promise.all([wsm.add(1, 2), wsm.add(20, 22), wsm.add(5, 5)]));
    expect(replies.map((r) => r.sum)).toEqual([3, 42, 10]);
    expect(replies.every((r) => r.conn === 0)).toBe(true);
    expect(await page.evaluate(() => wsm.binaryRoundTrip([1, 2, 3, 250]))).toEqual({
      isUint8Array: true,
      bytes: [250, 3, 2, 1],
    });

    // The server dies and comes back on the same port: the page reconnects by itself.
    await server.close();
    await until(page, () => wsm.closes.length >= 1, 'the close of the session');
    expect(await page.evaluate(() => wsm.closes[0])).toMatchObject({ code: 1006, wasClean: false });
    // At least one reconnect dial fails against the stopped server (refused) before it comes back.
    await until(page, () => wsm.connecting >= 3, 'two reconnect dials to the stopped server');
    expect(await page.evaluate(() => wsm.errors.includes('WSM_ERR_CONNECT'))).toBe(true);
    await server.restart();
    await until(page, () => wsm.opens.length === 2 && wsm.state === 'open', 'the second session to open');
    expect(await page.evaluate(() => wsm.opens[1])).toMatchObject({ restarting: true });
    expect(await page.evaluate(() => wsm.add(100, 23))).toMatchObject({ sum: 123, conn: 1 });

    mkdirSync(OUTPUT, { recursive: true });
    await page.screenshot({ path: join(OUTPUT, 'browser-reconnected.png'), fullPage: true });

    await page.evaluate(() => wsm.stop());
    expect(await page.evaluate(() => wsm.state)).toBe('stopped');
    expect(await server.waitForClosed(1)).toEqual({ code: 1000, reason: '' });
    expect(await page.evaluate(() => wsm.errors.filter((c) => c !== 'WSM_ERR_CONNECT'))).toEqual([]);
    expect(pageErrors).toEqual([]);
  });

  it("a server close frame whose TCP is never closed: chromium ends the session with the server's code", async () => {
    const peer = await startRawPeer();
    const { page } = await openPage(peer.url);
    // closeTimeoutMs far below chromium's own 2 s: the adapter must not cut in (and lose the code).
    await page.evaluate(() => wsm.start({ closeTimeoutMs: 100, reconnect: false }));
    const conn = await peer.connection(0);
    conn.closeFrame(4000, 'maintenance');
    await conn.waitForFrame((f) => f.opcode === Opcode.CLOSE, "the browser's answer to the close frame");
    await until(page, () => wsm.closes.length === 1, 'the close of the session');
    expect(await page.evaluate(() => wsm.closes[0])).toEqual({
      code: 4000,
      reason: 'maintenance',
      wasClean: true,
    });
    // The browser closed the TCP connection itself.
    await conn.waitForClientGone();
    expect(pageErrors).toEqual([]);
  });

  it('offline keeps it reconnecting with no dial; online dials at once', async () => {
    const server = await startAddServer();
    const { context, page } = await openPage(server.url);
    // A long, fixed delay: any dial within the test can only come from the `online` signal.
    await page.evaluate(() =>
      wsm.start({ reconnect: { baseDelayMs: 60_000, maxDelayMs: 60_000, jitter: 'none' } }),
    );
    expect(await page.evaluate(() => wsm.connecting)).toBe(1);

    // The server ends the session; the client waits its 60 s backoff.
    (await server.waitForConnections(1)).socket.close(1012, 'service restart');
    await until(page, () => wsm.state === 'reconnecting', 'state reconnecting');
    expect(await page.evaluate(() => wsm.machineState())).toBe(JSON.stringify({ reconnecting: 'backoff' }));

    // Offline: attempts pause (the machine waits for `online`, with no timer), the state stays.
    await context.setOffline(true);
    await until(page, () => !navigator.onLine, 'navigator.onLine to be false');
    await until(
      page,
      () => wsm.machineState() === '{"reconnecting":"offline"}',
      'the machine in reconnecting.offline',
    );
    expect(await page.evaluate(() => wsm.state)).toBe('reconnecting');
    expect(await page.evaluate(() => wsm.connecting)).toBe(1);
    expect(await page.evaluate(() => wsm.transitions.at(-1))).toBe('closing->reconnecting');

    // Online: the next attempt goes out at once (not after the 60 s backoff) and the session reopens.
    await context.setOffline(false);
    await until(page, () => wsm.connecting === 2, 'the second dial');
    const { onlineAt, dialAt } = await page.evaluate(() => ({
      onlineAt: wsm.onlineAt,
      dialAt: wsm.connectingAt[1],
    }));
    expect(onlineAt).toBeDefined();
    expect(dialAt! - onlineAt!).toBeLessThan(1_000);
    await until(page, () => wsm.state === 'open', 'state open');
    expect(await page.evaluate(() => wsm.add(1, 1))).toMatchObject({ sum: 2, conn: 1 });

    await page.evaluate(() => wsm.stop());
    expect(await page.evaluate(() => wsm.state)).toBe('stopped');
    expect(pageErrors).toEqual([]);
  });

  it('subscriptions work the same: subscribed at the open, re-subscribed after a server restart, heartbeats routed to them', async () => {
    const server: DemoServer = await startDemoServer({
      port: 0,
      heartbeatIntervalMs: 20,
      closeTimeoutMs: 200,
    });
    try {
      const { page } = await openPage(server.url);
      await page.evaluate(() => wsm.start({ reconnect: { baseDelayMs: 50, maxDelayMs: 250 } }));
      await page.evaluate(() => {
        const w = window as unknown as { sub: { states: string[]; calls: boolean[]; beats: number[] } };
        w.sub = { states: [], calls: [], beats: [] };
        const client = wsm.client as {
          subscribe(options: unknown): { on(event: string, fn: (x: any) => void): void };
        };
        let id = 0;
        const sub = client.subscribe({
          name: 'heartbeat',
          subscribe: (session: { send(d: string): void }, ctx: { resubscribing: boolean }) => {
            w.sub.calls.push(ctx.resubscribing);
            session.send(JSON.stringify({ type: 'subscribe_request', reqId: ++id, topic: 'heartbeat' }));
          },
          match: (m: { json(): { type?: string } }) => m.json().type === 'heartbeat',
        });
        sub.on('state', ({ to }) => w.sub.states.push(to));
        sub.on('message', (m) => w.sub.beats.push(m.sessionId));
      });
      type Sub = { sub: { states: string[]; calls: boolean[]; beats: number[] } };
      await until(
        page,
        () => (window as unknown as Sub).sub.beats.length >= 2,
        'heartbeats in the subscription',
      );
      const first = await page.evaluate(() => (window as unknown as Sub).sub.beats[0]!);
      await server.restart();
      await until(
        page,
        () =>
          (window as unknown as Sub).sub.beats.some((id) => id !== (window as unknown as Sub).sub.beats[0]),
        'heartbeats of the next session',
      );
      const seen = await page.evaluate(() => (window as unknown as Sub).sub);
      expect(seen.states).toEqual(['subscribed', 'resubscribing', 'subscribed']);
      expect(seen.calls).toEqual([false, true]);
      expect(seen.beats.at(-1)).not.toBe(first);
      await page.evaluate(() => wsm.stop());
      expect(await page.evaluate(() => (window as unknown as Sub).sub.states.at(-1))).toBe('unsubscribed');
      expect(pageErrors).toEqual([]);
    } finally {
      await server.kill();
    }
  });
});
