/**
 * The live inspector in a real browser (Debian chromium via playwright-core): a client attached to
 * the inspector, the page open, the server killed; the page's highlighted state must go
 * open -> reconnecting -> open. Waits are page functions on the page's own state; nothing sleeps.
 */
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInspector } from '../../src/inspector.js';
import { createClient } from '../../src/node.js';
import { launchChromium } from '../helpers/chromium.js';
import { startWsServer } from '../helpers/servers.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const OUTPUT = join(root, 'test-output');

declare const window: { __inspector: { clients: Record<string, { state: string; history: string[] }> } };

describe('live inspector page', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('highlights open -> reconnecting -> open as the server is killed and comes back', async () => {
    const server = await startWsServer({ echo: true });
    const inspector = await createInspector({ statsIntervalMs: 50 });
    const client = createClient({
      url: server.url,
      reconnect: { baseDelayMs: 400, jitter: 'none' },
      heartbeat: false,
    });
    client.on('error', () => {});
    try {
      inspector.attach(client, 'feed');
      await client.start();
      const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
      await page.goto(inspector.url);
      await page.waitForFunction(() => window.__inspector?.clients?.[1]?.state === 'open');
      const activeAt = async () =>
        page.evaluate(() =>
          Array.from(document.querySelectorAll('.chart g.active'))
            .map((g) => g.id.replace(/^c\d+:/, ''))
            .sort(),
        );
      expect(await activeAt()).toContain('connection.session.open');

      const reopened = new Promise<void>((resolve) => client.once('open', () => resolve()));
      server.terminateAll();
      await page.waitForFunction(() => window.__inspector.clients[1]!.state === 'reconnecting');
      const during = await activeAt();
      expect(during).toContain('connection.reconnecting');
      expect(during).not.toContain('connection.session.open');
      // The countdown to the next attempt is shown while reconnecting.
      await page.waitForFunction(() =>
        /next attempt in/.test(document.querySelector('.countdown')?.textContent ?? ''),
      );
      mkdirSync(OUTPUT, { recursive: true });
      await page.screenshot({ path: join(OUTPUT, 'inspector-reconnecting.png') });

      await reopened;
      await page.waitForFunction(() => window.__inspector.clients[1]!.state === 'open');
      const history = await page.evaluate(() => window.__inspector.clients[1]!.history);
      const from = history.indexOf('open');
      expect(history.slice(from)).toEqual([
        'open',
        'closing',
        'reconnecting',
        'connecting',
        'opening',
        'open',
      ]);
      // The event log shows the close code and the reconnect.
      const log = await page.evaluate(() => document.querySelector('.log')?.textContent ?? '');
      expect(log).toMatch(/close 1006/);
      expect(log).toMatch(/reconnecting: attempt 1 in 400 ms/);
      await page.screenshot({ path: join(OUTPUT, 'inspector.png') });
      await page.close();
    } finally {
      await client.stop();
      await inspector.close();
      await server.close();
    }
  });
});
