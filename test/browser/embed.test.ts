/**
 * The README's embed recipe in a real browser: test/browser/embed/app.tsx (a React page whose
 * component runs `useMachine(appMachine)` from @xstate/react, the app machine invoking `fromClient`),
 * bundled with esbuild the way an app would bundle it (`wsmachine` resolves to the browser entry, so
 * the client runs over the native WebSocket), React's development build with `<StrictMode>` (effects
 * run twice: the actor is stopped and started again at mount, as in every React dev server).
 *
 * Debian chromium via playwright-core; a `ws` server on loopback is killed and restarted on the same
 * port. Waits are on the page's DOM (Playwright's waitForFunction) or on server events; nothing sleeps.
 */
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../helpers/chromium.js';
import { type PageServer, serveFiles } from '../helpers/page-server.js';
import { cleanup, startWsServer } from '../helpers/servers.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const OUTPUT = join(root, 'test-output');
const PAGE_SOURCE = 'test/browser/embed/app.tsx';
const HTML =
  '<!doctype html><html><head><meta charset="utf-8"><title>wsmachine embed</title></head><body><div id="root"></div><script type="module" src="/app.js"></script></body></html>';

/** Bundles the page like an app's bundler would: browser platform, React's development build. */
async function bundlePage() {
  const result = await build({
    absWorkingDir: root,
    entryPoints: [PAGE_SOURCE],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    jsx: 'automatic',
    // In this repository `wsmachine` is the source of its browser entry (what `dist/index.js` is built from).
    alias: { wsmachine: './src/index.ts' },
    define: { 'process.env.NODE_ENV': '"development"' },
    metafile: true,
    write: false,
    outfile: 'app.js',
    logLevel: 'silent',
  });
  return { code: result.outputFiles[0]!.contents, inputs: Object.keys(result.metafile.inputs) };
}

const startEmbedPage = (script: Uint8Array) =>
  serveFiles({
    '/': { type: 'text/html', body: HTML },
    '/app.js': { type: 'text/javascript', body: script },
  });

declare const window: { __statuses: string[] };

/** Records every text the status element shows, in order (installed before the page's script runs). */
function recordStatuses() {
  window.__statuses = [];
  new MutationObserver(() => {
    const text = document.querySelector('[data-testid="status"]')?.textContent ?? undefined;
    if (text !== undefined && text !== window.__statuses.at(-1)) window.__statuses.push(text);
  }).observe(document, { subtree: true, childList: true, characterData: true });
}

const statusIs = (page: Page, status: string) =>
  page.waitForFunction((s) => document.querySelector('[data-testid="status"]')?.textContent === s, status, {
    timeout: 15_000,
  });

describe('embed recipe: React + @xstate/react + fromClient in Debian chromium', () => {
  let browser: Browser;
  let pageServer: PageServer;
  let inputs: string[];

  beforeAll(async () => {
    const bundle = await bundlePage();
    inputs = bundle.inputs;
    pageServer = await startEmbedPage(bundle.code);
    browser = await launchChromium();
  });
  afterEach(cleanup);
  afterAll(async () => {
    await browser?.close();
    await pageServer?.close();
  });

  it('bundles the browser entry: native WebSocket, no ws, no Node built-ins', () => {
    expect(inputs).toContain('src/index.ts');
    expect(inputs).toContain('src/transport/native.ts');
    expect(inputs).toContain('src/api/from-client.ts');
    expect(inputs.filter((p) => /node_modules\/ws\/|^node:/.test(p))).toEqual([]);
    expect(inputs.some((p) => p.includes('node_modules/@xstate/react/'))).toBe(true);
  });

  it('shows connected -> reconnecting -> connected across a server restart; leaving closes the socket', async () => {
    // A chat server: every message goes back to its sender.
    const server = await startWsServer({ echo: true });
    const page = await browser.newPage({ viewport: { width: 800, height: 500 } });
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(String(e)));
    page.on('console', (m) => {
      // Chromium's own network log of failed dials: expected while the server is down, and when Strict
      // Mode's first mount closes its still-dialing socket. Anything else (React, XState) is a problem.
      if (/^WebSocket connection to '[^']+' failed: /.test(m.text())) return;
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
    });
    await page.addInitScript(recordStatuses);
    await page.goto(`${pageServer.url}/?ws=${encodeURIComponent(server.url)}`);
    await statusIs(page, 'connected');
    await expect
      .poll(() => page.evaluate(() => document.body.textContent))
      .toMatch(/client: open, attempt 0/);

    // Send through the child actor; the echo comes back as a wsmachine.message.
    await page.fill('input[aria-label="message"]', 'hello from React');
    await page.click('button[type="submit"]');
    await page.waitForSelector('li:text("hello from React")');

    // The server dies: the page shows reconnecting while dials are refused, then connected again.
    await server.close();
    await statusIs(page, 'reconnecting');
    await server.restart();
    await statusIs(page, 'connected');
    expect(await page.evaluate(() => window.__statuses)).toEqual([
      'connecting',
      'connected',
      'reconnecting',
      'connected',
    ]);
    mkdirSync(OUTPUT, { recursive: true });
    await page.screenshot({ path: join(OUTPUT, 'embed-react.png') });

    // Leaving the state stops the actor, which closes the socket: the server sees the close frame.
    const [live] = server.openConnections;
    expect(server.openConnections).toHaveLength(1);
    await page.click('button:text("Leave")');
    await statusIs(page, 'lobby');
    expect(await server.waitForClosed(live!.index)).toEqual({ code: 1000, reason: '' });
    expect(server.openConnections).toHaveLength(0);

    // Joining again opens a new connection.
    await page.click('button:text("Join")');
    await statusIs(page, 'connected');
    expect(server.openConnections).toHaveLength(1);
    expect(problems).toEqual([]);
    await page.close();
  });
});
