/**
 * Issue 21.5: the send path cannot be poisoned, against a real loopback `ws` server.
 *
 * - A detached ArrayBuffer (`structuredClone(buf, { transfer: [buf] })`), a view of one, or a value
 *   that is not data at all (a revoked Proxy, a Proxy posing as a Uint8Array) gets a typed error at
 *   `send()` / `request()`, whether the client is open or reconnecting: never `'queued'`.
 * - A queued message the adapter refuses when the queue is flushed (its buffer was detached after it
 *   was queued) is reported `undelivered` and does not block the messages behind it; nothing sent later
 *   (a send from the `open` listener) overtakes the queued ones.
 * - `sendBuffer.maxAgeMs` expires queued messages while the client is away, reporting them, so the
 *   buffer's room is for live messages: a full buffer takes new sends again once its content expired.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  InvalidOptionsError,
  SendBufferFullError,
  type WsClient,
  createClient,
  isWsmError,
} from '../../src/node.js';
import { observe } from '../faults/observe.js';
import {
  type TestWsServer,
  cleanup,
  events,
  startWsServer,
  track,
  waitForEvent,
} from '../helpers/servers.js';

afterEach(cleanup);

/** Detaches `buffer` the way a transfer to a worker does; returns it (now empty and unusable). */
function detach<T extends ArrayBuffer>(buffer: T): T {
  structuredClone(buffer, { transfer: [buffer] });
  return buffer;
}

/** Values send() must refuse with a typed error, made fresh for each use. */
const POISON: Array<[string, () => unknown]> = [
  ['a detached ArrayBuffer', () => detach(new Uint8Array([1, 2, 3]).buffer)],
  [
    'a Uint8Array view of a detached buffer',
    () => {
      const view = new Uint8Array([1, 2, 3]);
      detach(view.buffer);
      return view;
    },
  ],
  [
    'a revoked Proxy',
    () => {
      const { proxy, revoke } = Proxy.revocable({}, {});
      revoke();
      return proxy;
    },
  ],
  ['a Proxy posing as a Uint8Array', () => new Proxy(new Uint8Array([1, 2, 3]), {})],
  ['an object', () => ({ toString: () => 'not data' })],
];

/** A client whose server dropped it: it is reconnecting (the next dial waits a minute). */
async function reconnectingClient(server: TestWsServer): Promise<WsClient> {
  const client = track(
    createClient({
      url: server.url,
      heartbeat: false,
      reconnect: { baseDelayMs: 60_000, maxDelayMs: 60_000, jitter: 'none' },
      requests: { key: { request: (d) => String(d), response: (m) => String(m.data) } },
    }),
  );
  client.on('error', () => {});
  await client.start();
  const reconnecting = waitForEvent(client, 'reconnecting');
  server.terminateAll();
  await reconnecting;
  return client;
}

describe('bad data is refused at the call, never queued', () => {
  it.each(POISON)(
    '%s: send() throws InvalidOptionsError and request() rejects with it, open or reconnecting',
    async (_name, make) => {
      const note = observe(47);
      const server = await startWsServer({ echo: true });
      const open = track(
        createClient({
          url: server.url,
          heartbeat: false,
          requests: { key: { request: (d) => String(d), response: (m) => String(m.data) } },
        }),
      );
      await open.start();
      expect(() => open.send(make() as never)).toThrow(InvalidOptionsError);
      await expect(open.request(make() as never)).rejects.toBeInstanceOf(InvalidOptionsError);
      expect(open.stats().messagesOut).toBe(0);

      const away = await reconnectingClient(await startWsServer());
      let thrown: unknown;
      try {
        away.send(make() as never);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(InvalidOptionsError);
      expect(isWsmError(thrown) && thrown.code).toBe('WSM_ERR_INVALID_OPTIONS');
      expect((thrown as Error).message).toMatch(/data/);
      await expect(away.request(make() as never)).rejects.toBeInstanceOf(InvalidOptionsError);
      expect(away.stats().queuedSends).toBe(0);
      expect(away.stats().pendingRequests).toBe(0);
      note(`${_name}: InvalidOptionsError at send() and request(), open and reconnecting; nothing queued`);
    },
  );
});

describe('the queue keeps its order, and one bad item does not block it', () => {
  it('a queued message whose buffer is detached before the flush is reported undelivered; the rest goes out in order, and a send from the open listener comes last', async () => {
    const note = observe(47);
    const server = await startWsServer();
    const client = await reconnectingClient(server);
    const rec = events(client);
    const poisoned = new Uint8Array([9, 9, 9]);
    expect(client.send('A')).toBe('queued');
    expect(client.send(poisoned)).toBe('queued');
    expect(client.send('B')).toBe('queued');
    const request = client.request('R').catch((e: unknown) => e);
    expect(client.send('C')).toBe('queued');
    // The app transfers the buffer to a worker after queueing it: the adapter will refuse it.
    detach(poisoned.buffer);
    client.on('open', () => client.send('D (from the open listener)'));
    const undelivered = waitForEvent(client, 'undelivered');
    client.restart();
    const conn = await server.waitForConnections(2);
    const received = await server.waitForMessages(conn.index, 5);
    expect(received).toEqual(['A', 'B', 'R', 'C', 'D (from the open listener)']);
    const lost = await undelivered;
    expect(lost.messages).toHaveLength(1);
    expect(lost.messages[0]).toBe(poisoned);
    expect(lost.reason.code).toBe('WSM_ERR_UNDELIVERED');
    expect(client.stats().undelivered).toBe(1);
    expect(client.stats().queuedSends).toBe(0);
    expect(client.state).toBe('open');
    // The request is still pending (its bytes went out in order); the server never answers it.
    expect(client.stats().pendingRequests).toBe(1);
    // The refused message did not cost the session.
    expect(rec.of('close')).toEqual([]);
    await client.stop();
    expect(await request).toMatchObject({ code: 'WSM_ERR_CLIENT_STOPPED' });
    note(
      'A, [detached], B, R, C queued; D sent from the open listener: server got A B R C D, the detached one reported undelivered',
    );
  });
});

describe('sendBuffer.maxAgeMs: the room is for live messages', () => {
  it('a full buffer expires during the outage (reported), then takes new sends; only those are delivered', async () => {
    const note = observe(47);
    const server = await startWsServer();
    const client = track(
      createClient({
        url: server.url,
        heartbeat: false,
        reconnect: { baseDelayMs: 0 },
        sendBuffer: { maxMessages: 3, maxAgeMs: 150 },
        requests: { key: { request: (d) => String(d), response: (m) => String(m.data) } },
      }),
    );
    client.on('error', () => {});
    await client.start();
    const reconnecting = waitForEvent(client, 'reconnecting');
    await server.close();
    await reconnecting;
    expect(client.send('old 1')).toBe('queued');
    const oldRequest = client.request('old request').then(
      () => 'resolved',
      (e: unknown) => (isWsmError(e) ? e.code : 'untyped'),
    );
    expect(client.send('old 2')).toBe('queued');
    expect(() => client.send('one too many')).toThrow(SendBufferFullError);
    // Still away: the old messages expire now, not at the next open.
    // Each message expires at its own age: one report, or two when the sweep fell between them.
    const expired: unknown[] = [];
    while (expired.length < 2) {
      const report = await waitForEvent(client, 'undelivered');
      expect(report.reason.code).toBe('WSM_ERR_UNDELIVERED');
      expired.push(...report.messages);
    }
    expect(expired).toEqual(['old 1', 'old 2']);
    expect(await oldRequest).toBe('WSM_ERR_UNDELIVERED');
    expect(client.state === 'reconnecting' || client.state === 'connecting').toBe(true);
    expect(client.stats().queuedSends).toBe(0);
    for (const m of ['live 1', 'live 2', 'live 3']) expect(client.send(m)).toBe('queued');
    await server.restart();
    const conn = await server.waitForConnections(2);
    expect(await server.waitForMessages(conn.index, 3)).toEqual(['live 1', 'live 2', 'live 3']);
    expect(client.stats().undelivered).toBe(2);
    note(
      '3 queued (2 sends + 1 request), a 4th refused (SendBufferFullError); after 150 ms in the outage they expired (reported, the request rejected); 3 live ones queued and delivered',
    );
  });
});
