/**
 * Issue 21.3 in a real browser: a frozen tab is not a dead peer. Debian chromium (playwright-core)
 * runs the browser bundle with the native WebSocket and an app-level heartbeat
 * (`heartbeat: { message: 'ping', isPong }`, browsers cannot send protocol pings); the page is frozen
 * through the DevTools protocol (`Page.setWebLifecycleState` frozen, then active), the way Chrome
 * freezes a background tab.
 *
 * - A ping is out when the tab freezes, and the freeze outlasts its pong deadline: on resume the pong
 *   that waited is read first; no heartbeat death, the same session goes on.
 * - On resume the heartbeat probes at once: with a one-minute interval a ping reaches the server right
 *   after the resume (the environment actor listens to `resume` and `visibilitychange`).
 * - A tab shown again during a reconnect's backoff dials at once (FAULTS row 38).
 *
 * Playwright's own launch keeps every page focused and visible (focus emulation holds the page
 * "captured", so Chrome never hides or freezes it). Here chromium is started with a DevTools port and
 * playwright-core attaches with `connectOverCDP(..., { noDefaults: true })`, whose default context has
 * no focus emulation: the page freezes for real (its timers stop, `freeze`/`resume` fire).
 *
 * Run with `npm run test:system`; without chromium every test FAILS with the apt line.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { type Browser, type BrowserContext, type CDPSession, type Page, chromium } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BROWSER_BUNDLE, bundleBrowser } from '../../scripts/bundle-browser.mjs';
import { observe } from '../faults/observe.js';
import { CHROMIUM, CHROMIUM_ARGS, requireChromium } from '../helpers/chromium.js';
import { startTestPage } from '../helpers/page-server.js';
import { type TestWsServer, cleanup, startWsServer } from '../helpers/servers.js';

/**
 * Playwright's waits re-check on animation frames by default; a page that was hidden has none, so
 * these re-check on a short interval instead (the timeout is a guard, not a wait).
 */
const WAIT = { timeout: 10_000, polling: 25 };

/** What the page exposes (test/browser/page/app.js), plus what these tests record on it. */
interface PageState {
  client: {
    on(event: string, fn: (payload: never) => void): () => void;
    state: string;
    sessionId: number;
  };
  start(options?: unknown): Promise<void>;
  stop(): Promise<void>;
  closes: unknown[];
  errors: string[];
  pongs?: number[];
  missed?: number;
  resumed?: number;
}
declare const wsm: PageState;

/**
 * Debian chromium with a DevTools port, driven by playwright-core over CDP without its default
 * overrides (no focus emulation), so pages can be frozen.
 */
async function launchFreezableChromium(): Promise<{ browser: Browser; process: ChildProcess }> {
  requireChromium();
  const child = spawn(CHROMIUM, [...CHROMIUM_ARGS, '--remote-debugging-port=0', 'about:blank'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const endpoint = await new Promise<string>((resolve, reject) => {
    let err = '';
    const guard = setTimeout(
      () => reject(new Error(`chromium did not open its DevTools port: ${err}`)),
      20_000,
    );
    child.once('exit', (code) => reject(new Error(`chromium exited with ${code}: ${err}`)));
    child.stderr!.on('data', (chunk: Buffer) => {
      err += chunk.toString();
      const m = /DevTools listening on (ws:\/\/\S+)/.exec(err);
      if (m) {
        clearTimeout(guard);
        resolve(m[1]!);
      }
    });
  });
  const browser = await chromium.connectOverCDP(endpoint, { noDefaults: true });
  return { browser, process: child };
}

/** Answers the app ping 'ping' with 'pong' after `delayMs`; records when each ping arrived. */
function startPongServer(delayMs: number): Promise<TestWsServer & { pings: number[] }> {
  const pings: number[] = [];
  return startWsServer({
    onConnection(connection) {
      connection.socket.on('message', (data: Buffer) => {
        if (String(data) !== 'ping') return;
        pings.push(performance.now());
        setTimeout(() => connection.socket.send('pong'), delayMs);
      });
    },
  }).then((s) => Object.assign(s, { pings }));
}

describe('a frozen tab (chromium, native WebSocket, app-level heartbeat)', () => {
  let browser: Browser | undefined;
  let chromiumProcess: ChildProcess | undefined;
  let pageServer: { url: string; close(): Promise<void> } | undefined;
  const pages: Page[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) return; // each test fails with the install hint
    const report = await bundleBrowser({ write: true });
    expect(report.forbidden).toEqual([]);
    pageServer = await startTestPage(readFileSync(BROWSER_BUNDLE));
    ({ browser, process: chromiumProcess } = await launchFreezableChromium());
  });

  afterEach(async () => {
    for (const p of pages.splice(0)) await p.close();
    await cleanup();
  });

  afterAll(async () => {
    await browser?.close();
    if (chromiumProcess !== undefined && chromiumProcess.exitCode === null) {
      const exited = once(chromiumProcess, 'exit');
      chromiumProcess.kill();
      await exited;
    }
    await pageServer?.close();
  });

  async function openPage(wsUrl: string): Promise<{ page: Page; cdp: CDPSession }> {
    requireChromium();
    if (browser === undefined || pageServer === undefined) throw new Error('The browser did not start');
    // The default context: the one without Playwright's focus emulation.
    const context: BrowserContext = browser.contexts()[0]!;
    const page = await context.newPage();
    pages.push(page);
    await page.goto(`${pageServer.url}/?ws=${encodeURIComponent(wsUrl)}`);
    await page.waitForFunction(
      () => (window as unknown as { wsm?: { ready?: boolean } }).wsm?.ready === true,
    );
    return { page, cdp: await context.newCDPSession(page) };
  }

  /** Starts the page's client with an app heartbeat and records pongs, misses and resumes. */
  async function startWithHeartbeat(page: Page, intervalMs: number, timeoutMs: number): Promise<void> {
    await page.evaluate(
      async ({ intervalMs, timeoutMs }) => {
        await wsm.start({
          reconnect: { baseDelayMs: 50 },
          heartbeat: {
            intervalMs,
            timeoutMs,
            message: 'ping',
            isPong: (m: { data: unknown }) => m.data === 'pong',
          },
        });
        wsm.pongs = [];
        wsm.missed = 0;
        wsm.resumed = 0;
        wsm.client.on('pong', ((p: { rttMs: number }) => wsm.pongs!.push(p.rttMs)) as never);
        wsm.client.on('heartbeat-missed', (() => {
          wsm.missed! += 1;
        }) as never);
        document.addEventListener('resume', () => {
          wsm.resumed! += 1;
        });
      },
      { intervalMs, timeoutMs },
    );
  }

  /**
   * Keeps the tab frozen for `ms` (the scenario: a background tab Chrome froze, not a wait), then
   * resumes it (`resume` fires; the tab stays hidden).
   */
  async function freezeFor(cdp: CDPSession, ms: number): Promise<void> {
    await cdp.send('Page.setWebLifecycleState', { state: 'frozen' });
    await new Promise<void>((r) => setTimeout(r, ms));
    await cdp.send('Page.setWebLifecycleState', { state: 'active' });
  }

  it('frozen 1.5 s with a ping out (200/200 ms heartbeat): on resume, no heartbeat death; the session goes on, or the browser closed it and the client reconnects', async () => {
    const note = observe(45);
    const server = await startPongServer(100);
    const { page, cdp } = await openPage(server.url);
    await startWithHeartbeat(page, 200, 200);
    await page.waitForFunction(() => (wsm.pongs?.length ?? 0) >= 1, undefined, WAIT);
    // Freeze as soon as the next ping reaches the server: its pong (100 ms later) arrives frozen.
    const before = server.pings.length;
    await new Promise<void>((resolve, reject) => {
      const guard = setTimeout(() => reject(new Error('no ping reached the server')), 5_000);
      const conn = server.connections[0]!;
      const onPing = (data: Buffer) => {
        if (String(data) !== 'ping' || server.pings.length <= before) return;
        conn.socket.off('message', onPing);
        clearTimeout(guard);
        resolve();
      };
      conn.socket.on('message', onPing);
    });
    await freezeFor(cdp, 1_500);
    // After the resume the heartbeat goes on: three more pongs, on whichever session is open.
    const pongsAfter = await page.evaluate(() => wsm.pongs!.length);
    await page.waitForFunction(
      (n) => wsm.pongs!.length >= n + 3 && wsm.client.state === 'open',
      pongsAfter,
      WAIT,
    );
    const seen = await page.evaluate(() => ({
      missed: wsm.missed,
      resumed: wsm.resumed,
      closes: wsm.closes as Array<{ code: number; reason: string }>,
      sessionId: wsm.client.sessionId,
    }));
    expect(seen.resumed).toBe(1);
    expect(seen.missed).toBe(0);
    expect(seen.closes.filter((c) => c.reason === 'heartbeat timeout')).toEqual([]);
    // Chromium 156 drops a frozen page's WebSocket when it resumes (the server sees 1001, the page
    // 1006): the client reports that close and reconnects. A browser that keeps the socket keeps session 1.
    expect(seen.sessionId).toBe(seen.closes.length + 1);
    note(
      `chromium frozen 1.5 s with a ping out: no heartbeat death; ${seen.closes.length === 0 ? 'session 1 went on' : `the browser closed the socket on resume (${seen.closes.map((c) => c.code).join(', ')}), the client reconnected (session ${seen.sessionId})`}, pongs flow again`,
    );
  });

  it('hidden, then visible again: the heartbeat probes at once (a one-minute interval: the ping comes from the visibility change)', async () => {
    const note = observe(45);
    const server = await startPongServer(0);
    const { page } = await openPage(server.url);
    await startWithHeartbeat(page, 60_000, 2_000);
    expect(server.pings).toEqual([]);
    // Another tab in front hides this one; bringing it back shows it (visibilitychange both times).
    const other = await browser!.contexts()[0]!.newPage();
    pages.push(other);
    await other.bringToFront();
    await page.waitForFunction(() => document.visibilityState === 'hidden', undefined, WAIT);
    expect(server.pings).toEqual([]);
    await page.bringToFront();
    const shownAt = performance.now();
    await page.waitForFunction(() => (wsm.pongs?.length ?? 0) >= 1, undefined, WAIT);
    expect(server.pings).toHaveLength(1);
    const afterShownMs = server.pings[0]! - shownAt;
    expect(await page.evaluate(() => ({ missed: wsm.missed, closes: wsm.closes.length }))).toEqual({
      missed: 0,
      closes: 0,
    });
    note(
      `chromium tab shown again: a ping reached the server ${Math.max(0, Math.round(afterShownMs))} ms later (interval 60 s) and was answered`,
    );
  });
  it('shown again during a reconnect backoff: dials at once (a one-minute backoff: the dial comes from the visibility change)', async () => {
    const note = observe(38);
    const server = await startWsServer();
    const { page } = await openPage(server.url);
    await page.evaluate(async () => {
      await wsm.start({ reconnect: { baseDelayMs: 60_000, maxDelayMs: 60_000, jitter: 'none' } });
    });
    const other = await browser!.contexts()[0]!.newPage();
    pages.push(other);
    await other.bringToFront();
    await page.waitForFunction(() => document.visibilityState === 'hidden', undefined, WAIT);
    // The server drops the socket while the tab is hidden: the next dial is a minute away.
    server.terminateAll();
    await page.waitForFunction(() => wsm.client.state === 'reconnecting', undefined, WAIT);
    await page.bringToFront();
    // WAIT (10 s) is far shorter than the backoff: only the visibility change can open it in time.
    await page.waitForFunction(() => wsm.client.state === 'open', undefined, WAIT);
    await server.waitForConnections(2);
    const seen = await page.evaluate(() => ({ sessionId: wsm.client.sessionId, closes: wsm.closes.length }));
    expect(seen).toEqual({ sessionId: 2, closes: 1 });
    note('chromium tab shown again during a 60 s reconnect backoff: it dialled at once and opened session 2');
  });
});
