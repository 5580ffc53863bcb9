/**
 * Issue 21.3: liveness without false positives.
 *
 * (a) The client's own event-loop stall is not a dead peer: a 1.5 s synchronous block with a 300/300 ms
 *     heartbeat, while the peer (in another process, so it keeps answering) is healthy. The deadline is
 *     judged only after the input already waiting has been read.
 * (b) Bytes arriving are life: a 1 MiB message over a 256 KiB/s link (the fault proxy's bandwidth mode)
 *     with a 300/300 ms heartbeat arrives whole, on one session, with no heartbeat death: the pongs
 *     wait behind the message on the link, and the heartbeat counts the socket's bytes read since the
 *     ping (the `ws` adapter exposes `bytesRead`).
 * (c) `maxMissed` means what the README says, for timeouts shorter and longer than the interval:
 *     exactly `maxMissed` pings go unanswered before the death, `heartbeat-missed` reports that count,
 *     and the death comes within the documented bound
 *     `intervalMs + (maxMissed − 1) × max(intervalMs, timeoutMs) + timeoutMs` and not before it.
 *
 * The browser half (a frozen tab) is in test/browser/liveness-freeze.test.ts.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { createClient } from '../../src/node.js';
import { observe } from '../faults/observe.js';
import { type FaultProxy, startFaultProxy } from '../helpers/fault-proxy.js';
import { startLiveServer, within } from '../helpers/liveness-servers.js';
import { cleanup, events, track, waitForEvent } from '../helpers/servers.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  await cleanup();
  while (cleanups.length > 0) await cleanups.pop()!();
});

/** Starts test/fixtures/pong-server.mjs in its own process; resolves with its URL. */
async function spawnPeer(pongDelayMs: number): Promise<string> {
  const fixture = fileURLToPath(new URL('../fixtures/pong-server.mjs', import.meta.url));
  const child: ChildProcess = spawn(process.execPath, [fixture, String(pongDelayMs)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  cleanups.push(async () => {
    if (child.exitCode !== null) return;
    const exited = once(child, 'exit');
    child.stdin?.end();
    await exited;
  });
  let out = '';
  const port = await within(
    new Promise<number>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`the peer exited with ${code}`)));
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const m = /port (\d+)/.exec(out);
        if (m) resolve(Number(m[1]));
      });
    }),
    'the peer process to listen',
  );
  return `ws://127.0.0.1:${port}`;
}

/** Blocks this process's event loop for `ms`: the scenario (a long synchronous job), not a wait. */
function stallEventLoop(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // busy: no timer, no socket read, nothing runs meanwhile
  }
}

describe('(a) a stalled event loop is not a dead peer', () => {
  it('a 1.5 s synchronous block right after a ping (300/300 ms heartbeat, peer in another process) keeps the session', async () => {
    const note = observe(45);
    // The peer answers after 40 ms: the pong surely arrives during the stall, not before it.
    const url = await spawnPeer(40);
    const client = track(createClient({ url, heartbeat: { intervalMs: 300, timeoutMs: 300 } }));
    const rec = events(client);
    await client.start();
    const stalled = new Promise<void>((resolve) =>
      client.once('ping', () =>
        setImmediate(() => {
          stallEventLoop(1_500);
          resolve();
        }),
      ),
    );
    const delayedPong = waitForEvent(client, 'pong', () => true, 8_000);
    await stalled;
    // The pong of the ping before the stall is read after it: its round trip spans the whole block,
    // five times the pong deadline, and the session lives on.
    const { rttMs } = await delayedPong;
    expect(rttMs).toBeGreaterThanOrEqual(1_500);
    const more = await within(
      new Promise<number[]>((resolve) => {
        const rtts: number[] = [];
        const off = client.on('pong', (p) => {
          rtts.push(p.rttMs);
          if (rtts.length === 2) {
            off();
            resolve(rtts);
          }
        });
      }),
      'two more pongs',
    );
    expect(more.every((r) => r < 300)).toBe(true);
    expect(rec.of('heartbeat-missed')).toEqual([]);
    expect(rec.of('close')).toEqual([]);
    expect(client.state).toBe('open');
    expect(client.sessionId).toBe(1);
    note(
      `1.5 s stall after a ping, pong read after the 300 ms deadline (RTT ${Math.round(rttMs)} ms): no death, session 1 still open`,
    );
  });
});

describe('(b) bytes arriving are life', () => {
  it('a 1 MiB message over a 256 KiB/s link with a 300/300 ms heartbeat arrives whole, with no heartbeat death', async () => {
    const note = observe(45);
    const MESSAGE = 1024 * 1024;
    const payload = Buffer.alloc(MESSAGE);
    for (let i = 0; i < MESSAGE; i++) payload[i] = i % 251;
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await once(wss, 'listening');
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          for (const c of wss.clients) c.terminate();
          wss.close(() => resolve());
        }),
    );
    wss.on('connection', (ws) => {
      ws.on('error', () => {});
      ws.on('message', (data) => {
        if (String(data) === 'download') ws.send(payload, { binary: true });
      });
    });
    const proxy: FaultProxy = await startFaultProxy((wss.address() as { port: number }).port);
    cleanups.push(() => proxy.close());
    const client = track(
      createClient({ url: proxy.url, heartbeat: { intervalMs: 300, timeoutMs: 300 }, closeTimeoutMs: 200 }),
    );
    client.on('error', () => {});
    const rec = events(client);
    await client.start();
    // The link from the server slows to 256 KiB/s: the download takes ~4 s, and every pong the
    // server sends meanwhile waits behind the message's bytes.
    proxy.set({ kind: 'bandwidth', bytesPerSecond: 256 * 1024, direction: 'down' });
    const t0 = performance.now();
    const arrived = waitForEvent(client, 'message', (m) => m.binary, 12_000);
    client.send('download');
    const message = await arrived;
    const elapsed = performance.now() - t0;
    const bytes = message.data as Uint8Array;
    expect(bytes.byteLength).toBe(MESSAGE);
    expect(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).equals(payload)).toBe(true);
    // Several pong deadlines passed while the message was on the link.
    expect(elapsed).toBeGreaterThan(3 * 600);
    expect(rec.of('heartbeat-missed')).toEqual([]);
    expect(rec.of('close')).toEqual([]);
    expect(client.stats().sessions).toBe(1);
    expect(client.state).toBe('open');
    note(
      `1 MiB over 256 KiB/s took ${(elapsed / 1000).toFixed(1)} s with a 300/300 ms heartbeat: arrived whole on session 1, no heartbeat death`,
    );
  }, 20_000);
});

describe('(c) maxMissed means what the README says', () => {
  it.each([
    [100, 300, 3],
    [300, 100, 3],
    [100, 100, 2],
    [150, 50, 1],
  ])(
    'heartbeat %i/%i ms, maxMissed %i: that many unanswered pings, then the death within the bound',
    async (intervalMs, timeoutMs, maxMissed) => {
      const hb = { intervalMs, timeoutMs, maxMissed };
      const note = observe(45);
      // TCP alive, the peer never answers a ping and sends nothing (a hung server process).
      const server = await startLiveServer({ autoPong: false });
      cleanups.push(() => server.close());
      const client = track(
        createClient({ url: server.url, heartbeat: hb, reconnect: false, closeTimeoutMs: 100 }),
      );
      client.on('error', () => {});
      const rec = events(client);
      const missed = waitForEvent(client, 'heartbeat-missed');
      const closed = waitForEvent(client, 'close');
      await client.start();
      const openedAt = performance.now();
      const conn = await server.connection(1);
      expect(await missed).toEqual({ missed: hb.maxMissed });
      const diedAt = performance.now();
      expect(await closed).toMatchObject({ code: 1006, reason: 'heartbeat timeout' });
      // Exactly maxMissed pings went out, and the server received each of them.
      expect(rec.of('ping')).toHaveLength(hb.maxMissed);
      expect(conn.pings).toHaveLength(hb.maxMissed);
      const bound = hb.intervalMs + (hb.maxMissed - 1) * Math.max(hb.intervalMs, hb.timeoutMs) + hb.timeoutMs;
      const detection = diedAt - openedAt;
      // Not before the bound (every ping got its full timeout), and within it plus scheduling slack.
      expect(detection).toBeGreaterThanOrEqual(bound - 10);
      expect(detection).toBeLessThan(bound + 400);
      note(
        `${hb.intervalMs}/${hb.timeoutMs} ms, maxMissed ${hb.maxMissed}: ${hb.maxMissed} pings unanswered, heartbeat-missed ${hb.maxMissed}, dead after ${Math.round(detection)} ms (bound ${bound} ms)`,
      );
    },
  );
});
