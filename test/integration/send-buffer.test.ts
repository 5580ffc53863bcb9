/**
 * The send buffer against real servers: sends while not open are queued and delivered in order after
 * onOpen, overflow throws a typed error, stop() reports what was never sent, and `sendBuffer: false`
 * refuses sends while not open.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { NotOpenError, SendBufferFullError, createClient } from '../../src/node.js';
import { cleanup, events, startWsServer, track, waitForEvent } from '../helpers/servers.js';

afterEach(cleanup);

/** The error `fn` throws, failing the test if it does not throw. */
function thrownBy(fn: () => unknown): any {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('send while reconnecting', () => {
  it('is queued and delivered in order after reopen, after the auth message onOpen sends', async () => {
    const server = await startWsServer();
    const client = track(
      createClient({
        url: server.url,
        heartbeat: false,
        reconnect: { baseDelayMs: 10, maxDelayMs: 10, jitter: 'none' },
        hooks: {
          onOpen: async (session) => {
            session.send(`auth ${session.id}`);
          },
        },
      }),
    );
    const rec = events(client);
    await client.start();
    expect(await server.waitForMessages(0, 1)).toEqual(['auth 1']);

    // The server goes down; the client is between attempts.
    await server.close();
    await waitForEvent(client, 'reconnecting');
    expect(client.isOpen).toBe(false);
    expect(client.send('m1')).toBe('queued');
    expect(client.send('m2')).toBe('queued');
    expect(client.send(new Uint8Array([1, 2, 3]))).toBe('queued');
    expect(client.send('m4')).toBe('queued');
    expect(client.stats().queuedSends).toBe(4);

    const reopened = waitForEvent(client, 'open');
    await server.restart();
    const { sessionId } = await reopened;
    const last = server.connections.length - 1;
    expect(await server.waitForMessages(last, 5)).toEqual([
      `auth ${sessionId}`,
      'm1',
      'm2',
      'binary:3',
      'm4',
    ]);
    expect(client.stats().queuedSends).toBe(0);
    expect(rec.of('undelivered')).toEqual([]);
    // Once open again, sends go straight out.
    expect(client.send('live')).toBe('sent');
    expect(await server.waitForMessages(last, 6)).toContain('live');
  });

  it('sends made before start() are queued and flushed after onOpen', async () => {
    const server = await startWsServer();
    const client = track(
      createClient({
        url: server.url,
        heartbeat: false,
        hooks: { onOpen: (session) => void session.send('auth') },
      }),
    );
    events(client);
    expect(client.send('early')).toBe('queued');
    await client.start();
    expect(await server.waitForMessages(0, 2)).toEqual(['auth', 'early']);
  });
});

describe('overflow', () => {
  it('throws SendBufferFullError at maxMessages; the queue keeps what it had', async () => {
    const server = await startWsServer();
    const client = track(
      createClient({
        url: server.url,
        heartbeat: false,
        reconnect: { baseDelayMs: 60_000, jitter: 'none', maxDelayMs: 60_000 },
        sendBuffer: { maxMessages: 2 },
      }),
    );
    const rec = events(client);
    await client.start();
    server.terminateAll();
    await waitForEvent(client, 'reconnecting');

    expect(client.send('a')).toBe('queued');
    expect(client.send('b')).toBe('queued');
    const error = thrownBy(() => client.send('c'));
    expect(error).toBeInstanceOf(SendBufferFullError);
    expect(error.code).toBe('WSM_ERR_SEND_BUFFER_FULL');
    expect(error.maxMessages).toBe(2);
    expect(client.stats().queuedSends).toBe(2);

    await client.stop();
    // The rejected message is not among the undelivered: the caller already got the error.
    expect(rec.of('undelivered').map((u) => u.messages)).toEqual([['a', 'b']]);
  });

  it('throws SendBufferFullError at maxBytes, counting UTF-8 bytes', async () => {
    const server = await startWsServer();
    const client = track(
      createClient({
        url: server.url,
        heartbeat: false,
        reconnect: { baseDelayMs: 60_000, jitter: 'none', maxDelayMs: 60_000 },
        sendBuffer: { maxBytes: 10 },
      }),
    );
    const rec = events(client);
    await client.start();
    server.terminateAll();
    await waitForEvent(client, 'reconnecting');

    expect(client.send('12345')).toBe('queued');
    const error = thrownBy(() => client.send('123456'));
    expect(error).toBeInstanceOf(SendBufferFullError);
    expect(error.code).toBe('WSM_ERR_SEND_BUFFER_FULL');
    expect(error.maxBytes).toBe(10);
    // 'éé' is 4 UTF-8 bytes (2 UTF-16 units): 5 + 4 fits, then 1 more byte fills it exactly.
    expect(client.send('éé')).toBe('queued');
    expect(client.send('x')).toBe('queued');
    expect(thrownBy(() => client.send('y'))).toBeInstanceOf(SendBufferFullError);
    expect(client.stats().queuedSends).toBe(3);

    await client.stop();
    expect(rec.of('undelivered').map((u) => u.messages)).toEqual([['12345', 'éé', 'x']]);
  });
});

describe('stop() with queued sends', () => {
  it('emits one undelivered event with those messages and a reason, before stopped', async () => {
    const server = await startWsServer();
    const client = track(
      createClient({
        url: server.url,
        heartbeat: false,
        reconnect: { baseDelayMs: 60_000, jitter: 'none', maxDelayMs: 60_000 },
      }),
    );
    const rec = events(client);
    await client.start();
    server.terminateAll();
    await waitForEvent(client, 'reconnecting');
    client.send('one');
    client.send('two');
    client.send('three');

    await client.stop();
    const undelivered = rec.of('undelivered');
    expect(undelivered).toHaveLength(1);
    expect(undelivered[0]!.messages).toEqual(['one', 'two', 'three']);
    expect(undelivered[0]!.reason).toMatchObject({ code: 'WSM_ERR_UNDELIVERED' });
    expect(undelivered[0]!.reason.cause).toMatchObject({ code: 'WSM_ERR_CLIENT_STOPPED' });
    const order = rec.log.map((e) => e.type).filter((t) => t === 'undelivered' || t === 'stopped');
    expect(order).toEqual(['undelivered', 'stopped']);
    expect(client.stats()).toMatchObject({ queuedSends: 0, undelivered: 3 });
    // Nothing reached the server, and a later start does not resend them.
    expect(server.connections[0]!.received).toEqual([]);
    await client.start();
    expect(client.send('fresh')).toBe('sent');
    expect(await server.waitForMessages(1, 1)).toEqual(['fresh']);
  });

  it('stop() with an empty queue emits no undelivered event', async () => {
    const server = await startWsServer();
    const client = track(createClient({ url: server.url, heartbeat: false }));
    const rec = events(client);
    await client.start();
    await client.stop();
    expect(rec.of('undelivered')).toEqual([]);
  });
});

describe('sendBuffer: false', () => {
  it('send while not open throws NotOpenError; while open it sends', async () => {
    const server = await startWsServer();
    const client = track(
      createClient({
        url: server.url,
        heartbeat: false,
        sendBuffer: false,
        reconnect: { baseDelayMs: 60_000, jitter: 'none', maxDelayMs: 60_000 },
      }),
    );
    const rec = events(client);
    const before = thrownBy(() => client.send('too early'));
    expect(before).toBeInstanceOf(NotOpenError);
    expect(before.code).toBe('WSM_ERR_NOT_OPEN');

    await client.start();
    expect(client.send('now')).toBe('sent');
    expect(await server.waitForMessages(0, 1)).toEqual(['now']);

    server.terminateAll();
    await waitForEvent(client, 'reconnecting');
    const during = thrownBy(() => client.send('while reconnecting'));
    expect(during).toBeInstanceOf(NotOpenError);
    expect(during.code).toBe('WSM_ERR_NOT_OPEN');
    expect(client.stats().queuedSends).toBe(0);
    await client.stop();
    expect(rec.of('undelivered')).toEqual([]);
  });
});
