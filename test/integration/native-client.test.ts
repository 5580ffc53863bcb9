/**
 * `createClient` from the browser entry (`src/index.ts`, default adapter: the native `WebSocket`)
 * end to end under Node's built-in WebSocket client: open, keyed request/response, the server
 * restarting on the same port (the client reconnects), and stop.
 *
 * Runs in the `native` vitest project (workers get `--experimental-websocket` on Node 20). Without a
 * global WebSocket it FAILS with a message saying so; it never skips.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type WsClient, createClient } from '../../src/index.js';
import {
  cleanup,
  events,
  startRejectingServer,
  startWsServer,
  track,
  waitForEvent,
  waitForState,
} from '../helpers/servers.js';

/** Fails (never skips) when the runtime has no global WebSocket. */
function requireWebSocket(): void {
  if (typeof (globalThis as { WebSocket?: unknown }).WebSocket !== 'function') {
    throw new Error(
      `This Node (${process.version}) has no global WebSocket: run this file in the "native" vitest ` +
        'project (workers started with --experimental-websocket), e.g. `npm test`.',
    );
  }
}

interface Reply {
  id: number;
  sum: number;
  conn: number;
}

/** A JSON "add" service: `{ id, a, b }` -> `{ id, sum, conn }` (conn: the server connection's index). */
function startAddServer() {
  return startWsServer({
    onConnection(connection) {
      connection.socket.on('message', (data) => {
        const { id, a, b } = JSON.parse(String(data)) as { id: number; a: number; b: number };
        connection.socket.send(JSON.stringify({ id, sum: a + b, conn: connection.index }));
      });
    },
  });
}

describe('createClient over the native adapter (Node built-in WebSocket)', () => {
  afterEach(cleanup);

  it('opens, correlates keyed requests, survives a server restart, stops', async () => {
    requireWebSocket();
    const server = await startAddServer();
    let nextId = 0;
    const client: WsClient = track(
      createClient({
        url: server.url,
        reconnect: { baseDelayMs: 10, maxDelayMs: 50 },
        prepare: (m) => m.json(),
        requests: {
          timeoutMs: 5_000,
          key: {
            request: (data) => (JSON.parse(String(data)) as { id: number }).id,
            response: (m) => (m.prepared as { id?: number } | undefined)?.id,
          },
        },
      }),
    );
    const rec = events(client);
    const add = async (a: number, b: number) => {
      const reply = await client.request(JSON.stringify({ id: ++nextId, a, b }));
      return reply.prepared as Reply;
    };

    await client.start();
    expect(client.state).toBe('open');
    expect(rec.transitions).toEqual(['idle->connecting', 'connecting->opening', 'opening->open']);

    // Out-of-order issue, in-order answers: each promise gets its own reply by key.
    const [r1, r2, r3] = await Promise.all([add(1, 2), add(10, 20), add(100, 200)]);
    expect([r1?.sum, r2?.sum, r3?.sum]).toEqual([3, 30, 300]);
    expect(r1?.conn).toBe(0);

    // The server process dies and comes back on the same port.
    const closed = waitForEvent(client, 'close');
    await server.close();
    expect((await closed).code).toBe(1006);
    await server.restart();
    await waitForEvent(client, 'open', (e) => e.restarting);
    expect(client.state).toBe('open');
    const after = await add(2, 3);
    expect(after).toMatchObject({ sum: 5, conn: 1 });
    expect(rec.of('reconnecting').length).toBeGreaterThanOrEqual(1);

    await client.stop();
    await waitForState(client, 'stopped');
    expect(client.state).toBe('stopped');
    expect((await server.waitForClosed(1)).code).toBe(1000);
    expect(client.stats().pendingRequests).toBe(0);
  });

  it('a rejected handshake fails start() with a StartError', async () => {
    requireWebSocket();
    const server = await startRejectingServer(503);
    const client = track(createClient({ url: server.url }));
    client.on('error', () => {});
    await expect(client.start()).rejects.toMatchObject({ code: 'WSM_ERR_START' });
    expect(client.state).toBe('stopped');
  });
});
