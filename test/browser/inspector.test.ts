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
import { assign, createActor, setup } from 'xstate';
import { createInspector } from '../../src/inspector.js';
import { type FromClientEvent, createClient, fromClient } from '../../src/node.js';
import { launchChromium } from '../helpers/chromium.js';
import { startWsServer } from '../helpers/servers.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const OUTPUT = join(root, 'test-output');

declare const window: {
  __inspector: {
    clients: Record<string, { name: string; state: string; history: string[] }>;
    actors: Record<
      string,
      { id: string; logic: string; parent?: string; state: string; status: string; log: string[] }
    >;
  };
};

/** The rendered font size, in CSS px, of the label of state `stateId` in the first chart. */
const labelFontPx = (stateId: string) => {
  const text = document.querySelector(`[id="c1:${stateId}"] text`) as SVGTextElement | null;
  if (text === null) return 0;
  return Number.parseFloat(text.getAttribute('font-size') ?? '0') * (text.getScreenCTM()?.a ?? 0);
};

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
      // Readable at the default zoom: state labels at >= 12 CSS px (Graphviz's 10-12 pt at 1 pt = 4/3 px).
      for (const state of ['connection.idle', 'connection.reconnecting', 'connection.stopped']) {
        expect(await page.evaluate(labelFontPx, state)).toBeGreaterThanOrEqual(12);
      }
      // ...and the chart is scrolled so the deepest active state is inside its box.
      const inView = await page.evaluate(() => {
        const box = document.querySelector('.chart')!.getBoundingClientRect();
        const active = Array.from(document.querySelectorAll('.chart g.active'));
        const node = active.at(-1)!.getBoundingClientRect();
        const x = node.left + node.width / 2;
        const y = node.top + node.height / 2;
        return x >= box.left && x <= box.right && y >= box.top && y <= box.bottom;
      });
      expect(inView).toBe(true);

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

  it("lists the user's own actors from inspector.inspect, with a state and an event log per actor", async () => {
    const server = await startWsServer({ echo: true });
    const inspector = await createInspector({ statsIntervalMs: 50 });
    const app = setup({
      types: { context: {} as { opens: number }, events: {} as FromClientEvent | { type: 'leave' } },
      actors: { ws: fromClient({ heartbeat: false, reconnect: { baseDelayMs: 0 } }) },
    }).createMachine({
      id: 'app',
      context: { opens: 0 },
      initial: 'chat',
      states: {
        chat: {
          invoke: { id: 'ws', src: 'ws', input: { url: server.url } },
          initial: 'connecting',
          states: {
            connecting: { on: { 'wsmachine.open': 'connected' } },
            connected: { on: { 'wsmachine.close': 'connecting' } },
          },
          on: { leave: 'lobby' },
        },
        lobby: {},
      },
      on: { 'wsmachine.open': { actions: assign({ opens: ({ context }) => context.opens + 1 }) } },
    });
    const actor = createActor(app, { inspect: inspector.inspect });
    try {
      actor.start();
      const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
      await page.goto(inspector.url);
      const byId = (id: string) =>
        Object.values(window.__inspector.actors).find((a) => a.id === id || (id === 'root' && !a.parent));
      await page.waitForFunction(
        ([find]) => {
          const f = new Function('id', `return (${find})(id)`) as (
            id: string,
          ) => { state: string } | undefined;
          return f('root')?.state === 'chat.connected' && f('ws')?.state === 'open';
        },
        [byId.toString()],
      );
      const actors = await page.evaluate(() =>
        Object.values(window.__inspector.actors).map(({ id, logic, state }) => ({ id, logic, state })),
      );
      expect(actors.map((a) => a.logic)).toEqual(['machine app', 'fromClient']);
      expect(actors[1]).toEqual({ id: 'ws', logic: 'fromClient', state: 'open' });
      // The app's event log shows what the connection told it; the child's log shows its own changes.
      const logs = await page.evaluate(() =>
        Object.values(window.__inspector.actors).map((a) => a.log.join('\n')),
      );
      expect(logs[0]).toMatch(/event wsmachine\.open/);
      expect(logs[0]).toMatch(/state chat\.connected/);
      expect(logs[1]).toMatch(/state connecting[\s\S]*state opening[\s\S]*state open/);
      // The client the child owns gets its own statechart panel beside the app.
      await page.waitForFunction(() =>
        Object.values(window.__inspector.clients).some(
          (c) => c.name === 'ws (connection)' && c.state === 'open',
        ),
      );
      mkdirSync(OUTPUT, { recursive: true });
      await page.screenshot({ path: join(OUTPUT, 'inspector-actors.png'), fullPage: true });

      // Leaving the state: the app's state changes, the child is stopped, its connection closes.
      actor.send({ type: 'leave' });
      await page.waitForFunction(() => {
        const all = Object.values(window.__inspector.actors);
        return all[0]?.state === 'lobby' && all[1]?.status === 'stopped';
      });
      expect(await server.waitForClosed(0)).toEqual({ code: 1000, reason: '' });
      await page.waitForFunction(() =>
        Object.values(window.__inspector.clients).some(
          (c) => c.name === 'ws (connection)' && c.state === 'stopped',
        ),
      );
      await page.close();
    } finally {
      actor.stop();
      await inspector.close();
      await server.close();
    }
  });
});
