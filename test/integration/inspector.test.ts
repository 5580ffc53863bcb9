/**
 * The inspector server without a browser: the SSE stream carries every state change of an attached
 * client with the active state ids, the event log and the gauges; detaching stops the stream for
 * that client; close() leaves nothing running.
 */
import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { activeStateIds, createInspector } from '../../src/inspector.js';
import { createClient } from '../../src/node.js';
import { startWsServer } from '../helpers/servers.js';

/** Reads an SSE stream, collecting its JSON messages; `until` resolves when one matches. */
function readEvents(url: string) {
  const messages: any[] = [];
  const waiters: Array<{ test: (m: any) => boolean; resolve: (m: any) => void }> = [];
  let req!: http.ClientRequest;
  const ready = new Promise<void>((resolve) => {
    req = http.get(`${url}events`, (res) => {
      resolve();
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let i = buffer.indexOf('\n\n');
        while (i >= 0) {
          const frame = buffer.slice(0, i);
          buffer = buffer.slice(i + 2);
          if (frame.startsWith('data: ')) {
            const m = JSON.parse(frame.slice(6));
            messages.push(m);
            for (const w of [...waiters]) {
              if (w.test(m)) {
                waiters.splice(waiters.indexOf(w), 1);
                w.resolve(m);
              }
            }
          }
          i = buffer.indexOf('\n\n');
        }
      });
    });
    req.on('error', () => {});
  });
  return {
    messages,
    ready,
    until: (test: (m: any) => boolean) =>
      new Promise<any>((resolve) => {
        const hit = messages.find(test);
        if (hit) resolve(hit);
        else waiters.push({ test, resolve });
      }),
    close: () => req.destroy(),
  };
}

describe('inspector server', () => {
  it('serves the page and the statechart, and streams state changes with active state ids', async () => {
    const server = await startWsServer({ echo: true });
    const inspector = await createInspector({ statsIntervalMs: 20 });
    const client = createClient({ url: server.url, reconnect: { baseDelayMs: 0 }, heartbeat: false });
    client.on('error', () => {});
    try {
      const page = await fetch(inspector.url).then((r) => r.text());
      expect(page).toContain('wsmachine inspector');
      expect(page).not.toMatch(/https?:\/\/(?!127\.0\.0\.1)/); // no external assets
      const svg = await fetch(`${inspector.url}statechart.svg`).then((r) => r.text());
      expect(svg).toContain('id="state:connection.session.open"');

      const stream = readEvents(inspector.url);
      await stream.ready;
      inspector.attach(client, 'feed');
      const hello = await stream.until((m) => m.type === 'client');
      expect(hello).toMatchObject({ name: 'feed', state: 'idle' });

      await client.start();
      const open = await stream.until((m) => m.type === 'snapshot' && m.state === 'open');
      expect(open.active).toContain('connection.session.open');
      expect(open.active).toContain('connection.session.open.heartbeat');

      server.terminateAll();
      const reconnecting = await stream.until((m) => m.type === 'snapshot' && m.state === 'reconnecting');
      expect(reconnecting.active).toContain('connection.reconnecting');
      await stream.until((m) => m.type === 'log' && /close 1006 \(transient\)/.test(m.line));
      await stream.until((m) => m.type === 'countdown');
      const seenAt = stream.messages.indexOf(reconnecting);
      await stream.until(
        (m) => m.type === 'snapshot' && m.state === 'open' && stream.messages.indexOf(m) > seenAt,
      );
      await stream.until((m) => m.type === 'stats' && m.pendingRequests === 0 && m.queuedSends === 0);
      stream.close();
    } finally {
      await client.stop();
      await inspector.close();
      await server.close();
    }
  });

  it("lists an attached client's subscriptions as actors, with their state and events", async () => {
    const server = await startWsServer({ echo: true });
    const inspector = await createInspector({ statsIntervalMs: 1_000 });
    const client = createClient({ url: server.url, heartbeat: false });
    try {
      const stream = readEvents(inspector.url);
      await stream.ready;
      inspector.attach(client, 'feed');
      const sub = client.subscribe({ name: 'prices', subscribe: (s) => void s.send('subscribe prices') });
      await client.start();
      const subscribed = await stream.until(
        (m) => m.type === 'actor' && m.id === 'subscription:prices' && m.state === 'subscribed',
      );
      expect(subscribed.logic).toBe('machine subscription');
      await stream.until(
        (m) => m.type === 'actor-log' && m.key === subscribed.key && /connection\.opened/.test(m.line),
      );
      await sub.unsubscribe();
      await stream.until((m) => m.type === 'actor' && m.key === subscribed.key && m.state === 'unsubscribed');
      stream.close();
    } finally {
      await client.stop();
      await inspector.close();
      await server.close();
    }
  });

  it('detach stops streaming that client; close() leaves no server, stream or timer behind', async () => {
    const server = await startWsServer({ echo: true });
    const before = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const inspector = await createInspector({ statsIntervalMs: 10 });
    const client = createClient({ url: server.url, heartbeat: false });
    try {
      const stream = readEvents(inspector.url);
      await stream.ready;
      const detach = inspector.attach(client, 'a');
      await stream.until((m) => m.type === 'client');
      detach();
      await stream.until((m) => m.type === 'detached');
      const count = stream.messages.length;
      await client.start();
      await client.stop();
      // A round trip through the inspector proves the stream is still live but silent for the client.
      const other = createClient({ url: server.url, heartbeat: false });
      inspector.attach(other, 'b');
      await stream.until((m) => m.type === 'client' && m.name === 'b');
      expect(stream.messages.slice(count).filter((m) => m.id === 1)).toEqual([]);
      stream.close();
      await inspector.close();
      const after = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
      expect(after).toBeLessThanOrEqual(before);
      await expect(fetch(inspector.url)).rejects.toThrow();
    } finally {
      await client.stop();
      await inspector.close().catch(() => {});
      await server.close();
    }
  });

  it('computes the active state ids of a snapshot value', () => {
    expect(activeStateIds('connection', { session: { establishing: 'opening' } })).toEqual([
      'connection',
      'connection.session',
      'connection.session.establishing',
      'connection.session.establishing.opening',
    ]);
    expect(activeStateIds('connection', 'idle')).toEqual(['connection', 'connection.idle']);
  });
});
