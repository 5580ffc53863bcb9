/**
 * Issue 21.6: inbound memory is bounded by bytes, not only by counts, against a real loopback `ws`
 * server sending 256 KiB messages.
 *
 * - A `messages()` iterator holds at most `inbound.iteratorBufferBytes` (default 16 MiB): a slow reader
 *   ends with QueueOverflowError (WSM_ERR_QUEUE_OVERFLOW), what it held is reported `unhandled`, and
 *   the session and the other readers go on.
 * - The inbound queue of an adapter that cannot pause reading (the `ws` adapter with `pause` declared
 *   unavailable, as in browsers) is bounded by `inbound.maxQueuedBytes`: past it the queued messages
 *   are reported `unhandled`, QueueOverflowError is reported, the session restarts, and every received
 *   message is either handled or reported. With an adapter that can pause, the same flood pauses
 *   reading at `highWaterBytes` instead and everything is handled.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  type Message,
  QueueOverflowError,
  type SocketAdapter,
  type WsmError,
  createClient,
  createWsAdapter,
} from '../../src/node.js';
import { observe } from '../faults/observe.js';
import { cleanup, startWsServer, track, waitFor, waitForEvent } from '../helpers/servers.js';

afterEach(cleanup);

const KIB = 1024;
const MIB = 1024 * KIB;

/** Message `i` of `count` 256 KiB messages: its index in the first 4 bytes. */
function bigMessage(i: number): Buffer {
  const b = Buffer.alloc(256 * KIB, i % 256);
  b.writeUInt32BE(i, 0);
  return b;
}
const indexOf = (m: Message) => Buffer.from(m.data as Uint8Array).readUInt32BE(0);

/** A promise with its resolve exposed. */
function gate(): { opened: Promise<void>; open(): void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

describe('messages() iterators are bounded by bytes', () => {
  it('a slow reader of 256 KiB messages ends with QueueOverflowError at iteratorBufferBytes (16 MiB); what it held is reported unhandled; a fast reader gets everything', async () => {
    const note = observe(48);
    const COUNT = 80; // 20 MiB
    const server = await startWsServer({
      onConnection(conn) {
        conn.socket.on('message', () => {
          for (let i = 0; i < COUNT; i++) conn.socket.send(bigMessage(i));
        });
      },
    });
    const client = track(createClient({ url: server.url, heartbeat: false }));
    const unhandled: Array<{ messages: Message[]; reason: WsmError }> = [];
    client.on('unhandled', (e) => unhandled.push(e));
    await client.start();

    const fast: number[] = [];
    const fastDone = (async () => {
      for await (const m of client.messages()) {
        fast.push(indexOf(m));
        if (fast.length === COUNT) return;
      }
    })();
    // The slow reader takes one message, then does not read again until the flood is over.
    const slow = client.messages();
    const first = slow.next();
    client.send('go');
    expect(indexOf((await first).value as Message)).toBe(0);
    await fastDone;
    expect(fast).toEqual(Array.from({ length: COUNT }, (_, i) => i));

    const after = await slow.next().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(after).toBeInstanceOf(QueueOverflowError);
    expect((after as WsmError).code).toBe('WSM_ERR_QUEUE_OVERFLOW');
    expect((after as Error).message).toMatch(/iteratorBufferBytes/);
    // It held 16 MiB (64 messages of 256 KiB, after message 0 it had read), and the 65th overflowed.
    await waitFor(client, () => unhandled.length > 0, 'the unhandled report');
    const dropped = unhandled.flatMap((u) => u.messages.map(indexOf));
    expect(dropped).toEqual(Array.from({ length: 65 }, (_, i) => i + 1));
    expect(unhandled.every((u) => u.reason.code === 'WSM_ERR_QUEUE_OVERFLOW')).toBe(true);
    expect(client.stats().unhandled).toBe(65);
    // Ended for good: the next read says done; the session itself is untouched.
    expect(await slow.next()).toEqual({ value: undefined, done: true });
    expect(client.state).toBe('open');
    expect(client.stats().sessions).toBe(1);
    note(
      '80 x 256 KiB: the slow iterator overflowed after holding 64 (16 MiB), 65 reported unhandled (QueueOverflowError), the fast one got all 80, the session stayed open',
    );
  });
});

describe('the inbound queue is bounded by bytes', () => {
  /** The ws adapter, declared unable to pause reading (what a browser's WebSocket is). */
  function unpausable(): SocketAdapter {
    const ws = createWsAdapter();
    return {
      name: 'ws-without-pause',
      capabilities: { ...ws.capabilities, pause: false },
      connect: (o, l) => ws.connect(o, l),
    };
  }

  it('a stuck handler, 12 messages of 256 KiB, an adapter that cannot pause reading (as in a browser): the queue is bounded by maxQueuedBytes (1 MiB); every message is handled or reported', async () => {
    const note = observe(48);
    const COUNT = 12; // 3 MiB
    const server = await startWsServer({
      onConnection(conn) {
        if (conn.index > 0) return;
        for (let i = 0; i < COUNT; i++) conn.socket.send(bigMessage(i));
      },
    });
    const slowHandler = gate();
    const handled: number[] = [];
    const client = track(
      createClient({
        url: server.url,
        heartbeat: false,
        reconnect: { baseDelayMs: 0 },
        adapter: unpausable(),
        inbound: { highWaterBytes: 512 * KIB, maxQueuedBytes: 1 * MIB },
        hooks: {
          onMessage: async (m: Message) => {
            handled.push(indexOf(m));
            if (handled.length === 1) await slowHandler.opened;
          },
        },
      }),
    );
    const errors: WsmError[] = [];
    client.on('error', (e) => errors.push(e));
    const unhandled: number[] = [];
    const reasons = new Set<string>();
    client.on('unhandled', (e) => {
      for (const m of e.messages) unhandled.push(indexOf(m));
      reasons.add(e.reason.code);
    });
    let received = 0;
    client.on('message', () => received++);
    await client.start();
    // Past 1 MiB queued the session is restarted; the handler is still stuck on message 0.
    await waitForEvent(client, 'open', (e) => e.sessionId === 2);
    expect(errors.map((e) => e.code)).toContain('WSM_ERR_QUEUE_OVERFLOW');
    expect(reasons.has('WSM_ERR_QUEUE_OVERFLOW')).toBe(true);
    slowHandler.open();
    await waitFor(client, () => handled.length + unhandled.length >= received, 'every message accounted');
    expect(received).toBeLessThanOrEqual(COUNT);
    expect(handled[0]).toBe(0);
    // Each received message exactly once: handled, or reported.
    expect([...handled, ...unhandled].sort((a, b) => a - b)).toEqual(
      Array.from({ length: received }, (_, i) => i),
    );
    // The queue passed 1 MiB with its 5th message of 256 KiB: those 5 at least were reported.
    expect(unhandled.length).toBeGreaterThanOrEqual(5);
    expect(client.stats().unhandled).toBe(unhandled.length);
    expect(client.stats().inboundQueued).toBe(0);
    note(
      `cannot pause: the queue passed 1 MiB -> QueueOverflowError, ${unhandled.length} reported unhandled, ${handled.length} handled, the session restarted`,
    );
  });
});
