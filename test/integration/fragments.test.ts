/**
 * Legal input is accepted (issue 21.8): a message may be split into any number of fragments (RFC 6455
 * §5.4), and `ws`'s fixed default of 16,384 fragments refused such messages as a fatal 1008 that
 * stopped the client for good. The ws adapter now derives the limit from `maxPayloadBytes` (one
 * fragment per 128 bytes, never below ws's 16,384), `createWsAdapter({ maxFragments })` overrides it,
 * and a message over it is reported like an oversize message: `MessageTooBigError`, 1009.
 *
 * The peer is a raw node:net server that writes the fragments by hand (test/helpers/raw-peer.ts).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createClient, createWsAdapter } from '../../src/node.js';
import type { ClientOptions } from '../../src/types.js';
import { observe } from '../faults/observe.js';
import { Opcode, type RawConnection, closeRawPeers, encodeFrame, startRawPeer } from '../helpers/raw-peer.js';
import { cleanup, events, track, waitFor, waitForEvent } from '../helpers/servers.js';

afterEach(async () => {
  await cleanup();
  await closeRawPeers();
});

/** Writes `text` as one message of `text.length` one-byte fragments, in a single TCP write. */
function sendInOneByteFragments(conn: RawConnection, text: string): void {
  const frames: Buffer[] = [];
  for (let i = 0; i < text.length; i++) {
    const opcode = i === 0 ? Opcode.TEXT : Opcode.CONTINUATION;
    frames.push(encodeFrame(opcode, Buffer.from(text[i]!), i === text.length - 1));
  }
  conn.write(Buffer.concat(frames));
}

/** A text of `n` ASCII characters that a truncated or reordered delivery cannot match. */
function textOf(n: number): string {
  let s = '';
  for (let i = 0; s.length < n; i++) s += `${i % 10}`;
  return s;
}

async function clientFor(url: string, options: Partial<ClientOptions> = {}) {
  const client = track(
    createClient({
      url,
      heartbeat: false,
      closeTimeoutMs: 100,
      reconnect: { baseDelayMs: 0, maxDelayMs: 0 },
      ...options,
    }),
  );
  const rec = events(client);
  const received: string[] = [];
  client.on('message', (m) => {
    if (typeof m.data === 'string') received.push(m.data);
  });
  await client.start();
  return { client, rec, received };
}

describe('fragmented messages over the ws adapter', () => {
  it('a 20 KB message in 20,000 fragments is delivered whole, and the session stays open', async () => {
    const note = observe(41);
    const text = textOf(20_000);
    const peer = await startRawPeer();
    const { client, rec, received } = await clientFor(peer.url);
    sendInOneByteFragments(await peer.connection(0), text);
    sendInOneByteFragments(peer.connections[0]!, 'after');
    await waitFor(client, () => received.length === 2, 'both messages');
    expect(received[0]).toBe(text);
    expect(received[1]).toBe('after');
    expect(client.state).toBe('open');
    expect(rec.of('close')).toEqual([]);
    expect(rec.of('error')).toEqual([]);
    note('20,000 one-byte fragments (ws default limit 16,384) -> delivered whole, session still open');
  });

  it('over the limit (16,385 fragments with maxPayloadBytes 1 MiB) the session ends as MessageTooBigError, 1009', async () => {
    const note = observe(41);
    const peer = await startRawPeer();
    // 1 MiB / 128 = 8,192 is below ws's own 16,384, so the limit is 16,384 here.
    const { client, rec } = await clientFor(peer.url, { maxPayloadBytes: 1024 * 1024 });
    const conn = await peer.connection(0);
    const closed = waitForEvent(client, 'close');
    sendInOneByteFragments(conn, textOf(16_385));
    const close = await closed;
    expect(close).toMatchObject({ code: 1009, class: 'fatal', wasClean: false });
    const error = rec.of('error').find((e) => e.code === 'WSM_ERR_MESSAGE_TOO_BIG');
    expect(error?.message).toMatch(/more than 16384 fragments.*maxPayloadBytes 1048576.*maxFragments/);
    await waitFor(client, () => client.state === 'stopped', 'stopped');
    expect(rec.of('reconnecting')).toEqual([]);
    // ws puts its own code for this limit on the wire: the server reads 1008 (see docs/decisions.md).
    const frame = await conn.waitForFrame((f) => f.opcode === Opcode.CLOSE, "the client's close frame");
    expect(frame.code).toBe(1008);
    note('16,385 fragments, maxPayloadBytes 1 MiB -> close 1009 fatal, WSM_ERR_MESSAGE_TOO_BIG; wire 1008');
  });

  it('createWsAdapter({ maxFragments }) overrides the limit derived from maxPayloadBytes', async () => {
    const peer = await startRawPeer();
    const { client, rec } = await clientFor(peer.url, { adapter: createWsAdapter({ maxFragments: 100 }) });
    const conn = await peer.connection(0);
    const received: string[] = [];
    client.on('message', (m) => received.push(String(m.data)));
    sendInOneByteFragments(conn, textOf(100));
    await waitFor(client, () => received.length === 1, 'the 100-fragment message');
    expect(client.state).toBe('open');
    const closed = waitForEvent(client, 'close');
    sendInOneByteFragments(conn, textOf(101));
    expect(await closed).toMatchObject({ code: 1009, class: 'fatal' });
    expect(rec.of('error').at(-1)?.message).toMatch(/more than 100 fragments/);
    expect(received).toEqual([textOf(100)]);
  });
});
