/**
 * Native adapter parity (issue 21.7), under Node's built-in WebSocket (undici): what the `ws` adapter
 * does for a server that misbehaves, the native adapter does too, or the difference is pinned here.
 *
 * - A server close frame whose TCP connection is never closed: undici moves to CLOSING, fires no event
 *   and drops sends; the adapter ends the session within `closeTimeoutMs` with the server's code and
 *   reason, and ends the TCP connection.
 * - Protocol violations undici reports (`error`, then `close` 1006) are classified as with `ws`.
 * - `stop()` against a peer that never answers the close frame ends the TCP connection too.
 *
 * The peer is a raw node:net server (test/helpers/raw-peer.ts). Runs in the `native` vitest project
 * (workers get `--experimental-websocket` on Node 20); without a global WebSocket it FAILS, never skips.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createClient } from '../../src/index.js';
import { createWsAdapter } from '../../src/node.js';
import type { ClientOptions } from '../../src/types.js';
import { observe } from '../faults/observe.js';
import { Opcode, closeRawPeers, startRawPeer } from '../helpers/raw-peer.js';
import { cleanup, events, track, waitFor, waitForEvent } from '../helpers/servers.js';

afterEach(async () => {
  await cleanup();
  await closeRawPeers();
});

/** Fails (never skips) when the runtime has no global WebSocket. */
function requireWebSocket(): void {
  if (typeof (globalThis as { WebSocket?: unknown }).WebSocket !== 'function') {
    throw new Error(
      `This Node (${process.version}) has no global WebSocket: run this file in the "native" vitest ` +
        'project (workers started with --experimental-websocket), e.g. `npm test`.',
    );
  }
}

const CLOSE_TIMEOUT_MS = 300;

function clientFor(url: string, options: Partial<ClientOptions> = {}) {
  requireWebSocket();
  const client = track(
    createClient({
      url,
      closeTimeoutMs: CLOSE_TIMEOUT_MS,
      reconnect: { baseDelayMs: 0, maxDelayMs: 0 },
      ...options,
    }),
  );
  return { client, rec: events(client) };
}

describe('native adapter parity (Node built-in WebSocket)', () => {
  it("a server close frame whose TCP is never closed ends the session within closeTimeoutMs, with the server's code and reason", async () => {
    const note = observe(40);
    const peer = await startRawPeer();
    const { client } = clientFor(peer.url);
    await client.start();
    const first = await peer.connection(0);
    const closed = waitForEvent(client, 'close');
    const sentAt = performance.now();
    first.closeFrame(4000, 'maintenance');
    // The runtime answered the close frame: from here on it is CLOSING and would drop writes.
    await first.waitForFrame((f) => f.opcode === Opcode.CLOSE, "the client's answer to the close frame");
    expect(client.send('written while the server was closing')).toBe('queued');

    const close = await closed;
    const elapsedMs = performance.now() - sentAt;
    expect(close).toMatchObject({ code: 4000, reason: 'maintenance', wasClean: true, class: 'transient' });
    // Within closeTimeoutMs of the close frame, plus scheduling slack on a shared 2-core machine.
    expect(elapsedMs).toBeLessThan(CLOSE_TIMEOUT_MS + 400);
    // The client ended the TCP connection itself: nothing is left open behind the session.
    await first.waitForClientGone();

    // 4000 is transient: the client reconnects, and the send it queued goes out on the new session.
    const second = await peer.connection(1);
    const late = await second.waitForFrame(
      (f) => f.opcode === Opcode.TEXT && f.payload.toString() === 'written while the server was closing',
      'the queued send on the next session',
    );
    expect(late.fin).toBe(true);
    await waitFor(client, () => client.state === 'open', 'open again');
    note(
      `close 4000 "maintenance" after ${Math.round(elapsedMs)} ms (closeTimeoutMs ${CLOSE_TIMEOUT_MS}), TCP ended by the client, reconnected, the send made while CLOSING delivered on the next session`,
    );
  });

  it('stop() against a peer that never answers the close frame ends the TCP connection', async () => {
    const note = observe(40);
    const peer = await startRawPeer();
    const { client } = clientFor(peer.url);
    await client.start();
    const conn = await peer.connection(0);
    await client.stop();
    expect(client.state).toBe('stopped');
    const frame = await conn.waitForFrame((f) => f.opcode === Opcode.CLOSE, 'the close frame');
    expect(frame.code).toBe(1000);
    await conn.waitForClientGone();
    note('stop(): close 1000 sent, peer silent, TCP ended by the client after closeTimeoutMs');
  });

  type Send = (c: { frame(op: number, p: Buffer): void }) => void;
  const invalidUtf8: Send = (c) => c.frame(Opcode.TEXT, Buffer.from([0xc3, 0x28]));
  const closeCode1005: Send = (c) => c.frame(Opcode.CLOSE, Buffer.from([0x03, 0xed]));
  // What the client reports is the same; what goes on the wire differs: for invalid UTF-8 undici
  // drops the TCP connection without a close frame, where ws sends 1007.
  const cases: Array<[string, 'ws' | 'native', number, Send, number | undefined]> = [
    ['invalid UTF-8 in a text frame', 'ws', 1007, invalidUtf8, 1007],
    ['invalid UTF-8 in a text frame', 'native', 1007, invalidUtf8, undefined],
    ['a close frame with an undefined code (1005 on the wire)', 'ws', 1002, closeCode1005, 1002],
    ['a close frame with an undefined code (1005 on the wire)', 'native', 1002, closeCode1005, 1002],
  ];

  it.each(cases)(
    '%s: the %s adapter reports ProtocolError %i, fatal, no reconnect',
    async (_what, adapterName, code, send, wire) => {
      const note = observe(40);
      const peer = await startRawPeer();
      const { client, rec } = clientFor(
        peer.url,
        adapterName === 'ws' ? { adapter: createWsAdapter() } : {}, // native: the default here
      );
      await client.start();
      const conn = await peer.connection(0);
      const closed = waitForEvent(client, 'close');
      send(conn);
      expect(await closed).toMatchObject({ code, class: 'fatal', wasClean: false });
      const error = rec.of('error').find((e) => e.code === 'WSM_ERR_PROTOCOL');
      expect(error?.closeCode).toBe(code);
      await waitFor(client, () => client.state === 'stopped', 'stopped');
      expect(rec.of('reconnecting')).toEqual([]);
      await conn.waitForClientGone();
      const onWire = conn.received.find((f) => f.opcode === Opcode.CLOSE)?.code;
      expect(onWire).toBe(wire);
      note(
        `${adapterName}: close ${code} fatal, ${error?.code}, the server saw ${onWire === undefined ? 'the TCP drop (no close frame)' : `close ${onWire}`}`,
      );
    },
  );
});
