/**
 * Issue 21.1: no received message vanishes silently. Every message the client received is handed to
 * `onMessage` (or a request, an iterator, an exclusive section) in order, or reported in an
 * `unhandled` event with the reason, counted once in `stats().unhandled`.
 *
 * - A session the server or the network ended (a 1000 close frame, a TCP teardown without one, a
 *   heartbeat death behind a blackholing proxy) keeps delivering what it received, in order, before
 *   anything of the next session; also when the client then stops on its own (no reconnect).
 * - The user's own restart(), exit() and stop() during a burst: from the call on, that session's
 *   queued and arriving messages are reported (ConnectionClosedError for restart, ClientStoppedError
 *   for stop/exit), never handled later; handled + reported == received, nothing counted twice.
 *
 * Peers: a raw node:net WebSocket server (test/helpers/raw-peer.ts) that writes a burst of frames and
 * then ends the connection the way the test says, a loopback `ws` server that streams, and the TCP
 * fault proxy (test/helpers/fault-proxy.ts). No sleeps: the 2 ms handler is the scenario (a handler
 * slower than the network); every wait is on an event.
 */
import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { type Message, type Session, type WsClient, type WsmError, createClient } from '../../src/node.js';
import { observe } from '../faults/observe.js';
import { type FaultProxy, startFaultProxy } from '../helpers/fault-proxy.js';
import {
  Opcode,
  type RawConnection,
  closeBody,
  closeRawPeers,
  encodeFrame,
  startRawPeer,
} from '../helpers/raw-peer.js';
import { cleanup, startWsServer, track, waitForEvent } from '../helpers/servers.js';

const proxies: FaultProxy[] = [];
afterEach(async () => {
  await cleanup();
  await closeRawPeers();
  for (const p of proxies.splice(0)) await p.close();
});

const GUARD_MS = 8_000;
const BURST = 50;

/** A 2 ms handler step: the handler is slower than the network (the scenario, not a wait). */
const handlerWork = () => new Promise<void>((resolve) => setTimeout(resolve, 2));

/** What one client saw: received (`message` event), handled (onMessage), reported (`unhandled`). */
class Ledger {
  readonly received: string[] = [];
  readonly handled: string[] = [];
  readonly unhandled: Array<{ data: string; code: string }> = [];
  readonly reasons: WsmError[] = [];
  private readonly bus = new EventEmitter();

  constructor() {
    this.bus.setMaxListeners(0);
  }

  attach(client: WsClient): void {
    client.on('message', (m) => {
      this.received.push(String(m.data));
      this.changed();
    });
    client.on('unhandled', ({ messages, reason }) => {
      this.reasons.push(reason);
      for (const m of messages) this.unhandled.push({ data: String(m.data), code: reason.code });
      this.changed();
    });
  }

  changed(): void {
    this.bus.emit('change');
  }

  until(predicate: () => boolean, label: string): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!predicate()) return;
        clearTimeout(timer);
        this.bus.off('change', check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.bus.off('change', check);
        reject(
          new Error(
            `Timed out waiting for ${label}: received ${this.received.length}, handled ${this.handled.length}, unhandled ${this.unhandled.length}`,
          ),
        );
      }, GUARD_MS);
      this.bus.on('change', check);
    });
  }
}

/** The frames of a burst `s<session>-<i>`, written in one TCP write. */
function burst(session: number, count: number): Buffer {
  return Buffer.concat(
    Array.from({ length: count }, (_, i) => encodeFrame(Opcode.TEXT, Buffer.from(`s${session}-${i}`))),
  );
}

const expected = (session: number, count: number) =>
  Array.from({ length: count }, (_, i) => `s${session}-${i}`);

type ServerEnd = 'close 1000' | 'TCP teardown (1006)';

/**
 * A raw peer: connection 0 gets a burst of 50 and then ends the way `end` says; every later
 * connection gets one message `s<n>-0`.
 */
async function burstPeer(end: ServerEnd) {
  let accepted = 0;
  return startRawPeer((conn: RawConnection) => {
    const index = accepted++;
    if (index > 0) {
      conn.write(burst(index + 1, 1));
      return;
    }
    if (end === 'close 1000') {
      conn.write(Buffer.concat([burst(1, BURST), encodeFrame(Opcode.CLOSE, closeBody(1000, 'done'))]));
      // The peer ends the TCP connection once the client answered the close frame.
      void conn
        .waitForFrame((f) => f.opcode === Opcode.CLOSE, 'the close answer')
        .then(() => conn.socket.end());
    } else {
      // Every frame is flushed, then the TCP connection is torn down without a close frame.
      conn.socket.write(burst(1, BURST), () => conn.socket.destroy());
    }
  });
}

describe('a session the server or the network ended keeps delivering what it received', () => {
  it.each<ServerEnd>(['close 1000', 'TCP teardown (1006)'])(
    '50 messages then %s, async onMessage of 2 ms: all 50 handled in order, before the next session',
    async (end) => {
      const note = observe(43);
      const peer = await burstPeer(end);
      const ledger = new Ledger();
      const client = track(
        createClient({
          url: peer.url,
          heartbeat: false,
          // The raw peer does not always answer a close frame: the teardown's stop() waits this long.
          closeTimeoutMs: 100,
          reconnect: { baseDelayMs: 0 },
          hooks: {
            onMessage: async (m: Message) => {
              ledger.handled.push(String(m.data));
              ledger.changed();
              await handlerWork();
            },
          },
        }),
      );
      client.on('error', () => {});
      ledger.attach(client);
      const closed = waitForEvent(client, 'close');
      await client.start();
      const close = await closed;
      expect(close.code).toBe(end === 'close 1000' ? 1000 : 1006);
      await ledger.until(() => ledger.handled.includes('s2-0'), 'the message of the second session');

      expect(ledger.received.slice(0, BURST)).toEqual(expected(1, BURST));
      expect(ledger.handled).toEqual([...expected(1, BURST), 's2-0']);
      expect(ledger.unhandled).toEqual([]);
      expect(client.stats().unhandled).toBe(0);
      expect(client.stats().inboundDiscarded).toBe(0);
      note(`${end}: ${ledger.handled.length - 1} of ${BURST} handled in order before session 2's message`);
    },
  );

  it('50 messages then a close 1000 with reconnect off: the client stops, and still handles all 50 in order', async () => {
    const note = observe(43);
    const peer = await burstPeer('close 1000');
    const ledger = new Ledger();
    const client = track(
      createClient({
        url: peer.url,
        heartbeat: false,
        closeTimeoutMs: 100,
        reconnect: false,
        hooks: {
          onMessage: async (m: Message) => {
            ledger.handled.push(String(m.data));
            ledger.changed();
            await handlerWork();
          },
        },
      }),
    );
    client.on('error', () => {});
    ledger.attach(client);
    const stopped = waitForEvent(client, 'stopped');
    await client.start();
    await stopped;
    expect(client.state).toBe('stopped');
    await ledger.until(() => ledger.handled.length + ledger.unhandled.length >= BURST, 'all 50 accounted');
    expect(ledger.handled).toEqual(expected(1, BURST));
    expect(ledger.unhandled).toEqual([]);
    expect(client.stats().unhandled).toBe(0);
    note(`reconnect off: stopped, ${ledger.handled.length} of ${BURST} handled in order`);
  });

  it('a heartbeat death behind a blackholing proxy: what arrived before is handled in order, before the next session', async () => {
    const note = observe(43);
    let connections = 0;
    const server = await startWsServer({
      onConnection(conn) {
        connections++;
        const n = connections;
        const count = n === 1 ? BURST : 1;
        for (let i = 0; i < count; i++) conn.socket.send(`s${n}-${i}`);
      },
    });
    const proxy = await startFaultProxy(server.port);
    proxies.push(proxy);
    const ledger = new Ledger();
    let died = false;
    const client = track(
      createClient({
        url: proxy.url,
        heartbeat: { intervalMs: 40, timeoutMs: 40 },
        reconnect: { baseDelayMs: 0 },
        closeTimeoutMs: 100,
        hooks: {
          onMessage: async (m: Message) => {
            ledger.handled.push(String(m.data));
            ledger.changed();
            // The first handler outlives the session: the other 49 wait in the queue when it dies.
            if (m.data === 's1-0') await ledger.until(() => died, 'the heartbeat death');
            else await handlerWork();
          },
        },
      }),
    );
    client.on('error', () => {});
    ledger.attach(client);
    const missed = waitForEvent(client, 'heartbeat-missed');
    const closed = waitForEvent(client, 'close');
    client.on('message', () => {
      if (ledger.received.length === BURST) proxy.set({ kind: 'blackhole', direction: 'both' });
    });
    await client.start();
    await missed;
    const close = await closed;
    expect(close).toMatchObject({ code: 1006, reason: 'heartbeat timeout' });
    expect(ledger.handled).toEqual(['s1-0']);
    died = true;
    ledger.changed();
    proxy.set({ kind: 'pass' });
    await ledger.until(() => ledger.handled.includes('s2-0'), 'the message of the second session');
    expect(ledger.handled).toEqual([...expected(1, BURST), 's2-0']);
    expect(ledger.unhandled).toEqual([]);
    expect(client.stats().unhandled).toBe(0);
    note(`heartbeat death with 49 queued: all ${BURST} handled in order before session 2's message`);
  });
});

type UserEnd = 'restart' | 'exit' | 'stop';

describe("the user's own restart(), exit(), stop() during a burst", () => {
  it.each<UserEnd>(['restart', 'exit', 'stop'])(
    '%s() during a burst: handled + reported == received, nothing handled after the call, nothing counted twice',
    async (how) => {
      const note = observe(43);
      // The server streams `s<n>-<i>` until the connection closes (messages keep arriving while closing).
      const server = await startWsServer({
        onConnection(conn) {
          const n = conn.index + 1;
          let i = 0;
          const pump = () => {
            if (conn.socket.readyState !== conn.socket.OPEN || i >= 2_000) return;
            for (let k = 0; k < 20; k++) conn.socket.send(`s${n}-${i++}`);
            setImmediate(pump);
          };
          pump();
        },
      });
      const ledger = new Ledger();
      let calledAt = -1;
      let session1Handle: Session | undefined;
      const lateSession1: string[] = [];
      const client = track(
        createClient({
          url: server.url,
          heartbeat: false,
          closeTimeoutMs: 500,
          reconnect: { baseDelayMs: 0 },
          hooks: {
            onMessage: async (m: Message, session: Session) => {
              session1Handle ??= session;
              ledger.handled.push(String(m.data));
              if (calledAt >= 0 && m.sessionId === 1) lateSession1.push(String(m.data));
              ledger.changed();
              await handlerWork();
            },
          },
        }),
      );
      client.on('error', () => {});
      ledger.attach(client);
      await client.start();
      await ledger.until(() => ledger.handled.length >= 10, '10 handled');
      calledAt = ledger.handled.length;
      let stopped: Promise<void> | undefined;
      if (how === 'restart') client.restart('user restart');
      else if (how === 'exit') {
        // exit() is the session handle's (the hooks get it): end this session and do not reconnect.
        const exited = waitForEvent(client, 'stopped');
        session1Handle!.exit('user exit');
        stopped = exited.then(() => {});
      } else stopped = client.stop();
      if (stopped !== undefined) await stopped;
      else await waitForEvent(client, 'open');

      const session1 = () => ledger.received.filter((d) => d.startsWith('s1-'));
      const isS1 = (d: string) => d.startsWith('s1-');
      await ledger.until(
        () =>
          ledger.handled.filter(isS1).length + ledger.unhandled.filter((u) => isS1(u.data)).length >=
          session1().length,
        'every message of session 1 accounted for',
      );
      const handled1 = ledger.handled.filter(isS1);
      const reported1 = ledger.unhandled.filter((u) => isS1(u.data));
      // Nothing of session 1 was handed to onMessage after the call.
      expect(lateSession1).toEqual([]);
      expect(handled1).toHaveLength(calledAt);
      // handled + reported == received, in order, each exactly once.
      expect([...handled1, ...reported1.map((u) => u.data)]).toEqual(session1());
      expect(new Set([...handled1, ...reported1.map((u) => u.data)]).size).toBe(session1().length);
      expect(reported1.length).toBeGreaterThan(0);
      const code = how === 'restart' ? 'WSM_ERR_CONNECTION_CLOSED' : 'WSM_ERR_CLIENT_STOPPED';
      expect(new Set(reported1.map((u) => u.code))).toEqual(new Set([code]));
      // Counted once: the counter is the number of messages in the events.
      expect(client.stats().unhandled).toBe(ledger.unhandled.length);
      expect(client.stats().inboundDiscarded).toBe(ledger.unhandled.length);
      expect(client.stats().messagesIn).toBe(ledger.received.length);
      note(
        `${how}(): session 1 received ${session1().length}, handled ${handled1.length} (all before the call), reported ${reported1.length} as ${code}`,
      );
    },
  );
});
