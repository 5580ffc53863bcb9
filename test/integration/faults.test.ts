/**
 * FAULTS.md rows that need only Node (loopback `ws` servers and the node:net fault proxy) and that no
 * other integration file covers already: connection refused and its backoff (5), stop() with work in
 * flight (15), 1-byte TCP segments (27), request correlation under faults (29), a 200-client
 * reconnect storm (30) and duplicate connects (31). The mapping of every row to its tests lives in
 * test/faults/scenarios.ts; docs/reliability.md is generated from it.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type Message, type WsClient, createClient, createWsAdapter, isWsmError } from '../../src/node.js';
import type { SocketAdapter } from '../../src/transport/adapter.js';
import type { ClientOptions } from '../../src/types.js';
import { observe } from '../faults/observe.js';
import { type FaultProxy, startFaultProxy } from '../helpers/fault-proxy.js';
import { mulberry32 } from '../helpers/liveness-servers.js';
import {
  type Recorder,
  type TestWsServer,
  cleanup,
  events,
  freePortClosed,
  startWsServer,
  track,
  waitFor,
} from '../helpers/servers.js';

const proxies: FaultProxy[] = [];
afterEach(async () => {
  await cleanup();
  for (const p of proxies.splice(0)) await p.close();
});

async function proxyTo(server: TestWsServer): Promise<FaultProxy> {
  const p = await startFaultProxy(server.port);
  proxies.push(p);
  return p;
}

function make(options: ClientOptions): { client: WsClient; rec: Recorder } {
  const client = track(createClient({ heartbeat: false, closeTimeoutMs: 300, ...options }));
  return { client, rec: events(client) };
}

/** Resolves once the recorder holds `n` events of `type`. */
function count(client: WsClient, rec: Recorder, type: Parameters<Recorder['of']>[0], n: number, ms = 8_000) {
  return waitFor(client, () => rec.of(type).length >= n, `${n} '${type}' event(s)`, ms);
}

const jsonId = {
  request: (data: unknown) => (JSON.parse(String(data)) as { id: number }).id,
  response: (m: Message) => (m.json() as { id?: number }).id,
};

describe('connection refused (row 5)', () => {
  it('every dial fails with a ConnectError, and retries back off exponentially: never a tight loop', async () => {
    const note = observe(5);
    const port = await freePortClosed();
    const dials: number[] = [];
    const { client, rec } = make({
      url: `ws://127.0.0.1:${port}/`,
      reconnect: { baseDelayMs: 20, factor: 2, maxDelayMs: 160, jitter: 'none', retryOnStart: true },
    });
    client.on('connecting', () => dials.push(performance.now()));
    void client.start().catch(() => {});
    await count(client, rec, 'reconnecting', 6);
    await client.stop();
    const delays = rec.of('reconnecting').map((r) => r.delayMs);
    expect(delays.slice(0, 6)).toEqual([20, 40, 80, 160, 160, 160]);
    for (const r of rec.of('reconnecting')) expect(r.cause).toMatchObject({ code: 'WSM_ERR_CONNECT' });
    // Each dial came no earlier than its backoff after the previous one.
    for (let i = 1; i < 6; i++) expect(dials[i]! - dials[i - 1]!).toBeGreaterThanOrEqual(delays[i - 1]! - 2);
    note(`ConnectError on each dial; backoff ${delays.slice(0, 6).join(', ')} ms (jitter none)`);
  });

  it('with full jitter the waits are random in [0, cap] and the dials stay bounded', async () => {
    const note = observe(5);
    const port = await freePortClosed();
    const { client, rec } = make({
      url: `ws://127.0.0.1:${port}/`,
      reconnect: { baseDelayMs: 10, factor: 2, maxDelayMs: 80, retryOnStart: true, random: mulberry32(7) },
    });
    void client.start().catch(() => {});
    await count(client, rec, 'reconnecting', 12);
    await client.stop();
    const delays = rec.of('reconnecting').map((r) => r.delayMs);
    delays.forEach((d, i) => {
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThanOrEqual(Math.min(80, 10 * 2 ** i));
    });
    expect(new Set(delays).size).toBeGreaterThan(4);
    // One dial per backoff wait, plus the first one (the stop may land inside the last wait).
    expect(rec.of('connecting').length).toBeGreaterThanOrEqual(rec.of('reconnecting').length);
    expect(rec.of('connecting').length).toBeLessThanOrEqual(rec.of('reconnecting').length + 1);
    note(
      `full jitter waits: ${delays.slice(0, 12).join(', ')} ms; ${rec.of('connecting').length} dials for ${delays.length} waits`,
    );
  });
});

describe('stop() with work in flight (row 15)', () => {
  it('in-flight requests reject typed at the drop, queued requests reject ClientStoppedError, queued sends are reported undelivered', async () => {
    const note = observe(15);
    const server = await startWsServer();
    const proxy = await proxyTo(server);
    const { client, rec } = make({
      url: proxy.url,
      requests: { key: jsonId },
      reconnect: { baseDelayMs: 60_000, maxDelayMs: 60_000, jitter: 'none' },
    });
    await client.start();
    // Phase 1: written to a peer that never answers.
    proxy.set({ kind: 'blackhole', direction: 'both' });
    const written = Array.from({ length: 20 }, (_, i) =>
      client.request(JSON.stringify({ id: i })).then(
        () => 'resolved',
        (e: unknown) => (isWsmError(e) ? e.code : 'untyped'),
      ),
    );
    expect(client.stats().pendingRequests).toBe(20);
    // Phase 2: the connection drops; the client waits to reconnect; more work is queued meanwhile.
    proxy.resetAll();
    await waitFor(client, () => client.state === 'reconnecting', 'reconnecting');
    const queuedSends = ['q1', 'q2', 'q3'].map((m) => client.send(m));
    const queued = Array.from({ length: 5 }, (_, i) =>
      client.request(JSON.stringify({ id: 100 + i })).then(
        () => 'resolved',
        (e: unknown) => (isWsmError(e) ? e.code : 'untyped'),
      ),
    );
    expect(queuedSends).toEqual(['queued', 'queued', 'queued']);
    await client.stop();
    const outcomesWritten = await Promise.all(written);
    const outcomesQueued = await Promise.all(queued);
    // Requests written before the drop: the drop decided them (outcome unknown), typed.
    expect(new Set(outcomesWritten)).toEqual(new Set(['WSM_ERR_CONNECTION_CLOSED']));
    // Requests still queued at stop(): ClientStoppedError. Sends: one undelivered event.
    expect(new Set(outcomesQueued)).toEqual(new Set(['WSM_ERR_CLIENT_STOPPED']));
    const undelivered = rec.of('undelivered');
    expect(undelivered).toHaveLength(1);
    expect(undelivered[0]!.messages).toEqual(['q1', 'q2', 'q3']);
    expect(client.stats().pendingRequests).toBe(0);
    note(
      `20 written: ${outcomesWritten[0]}; 5 queued: ${outcomesQueued[0]}; 3 queued sends in 1 undelivered event; none resolved silently`,
    );
  });

  it('stop() while requests are in flight on an open (silent) connection rejects them with ClientStoppedError', async () => {
    const note = observe(15);
    const server = await startWsServer();
    const proxy = await proxyTo(server);
    const { client } = make({ url: proxy.url, requests: { key: jsonId } });
    await client.start();
    proxy.set({ kind: 'blackhole', direction: 'both' });
    const inFlight = Array.from({ length: 10 }, (_, i) =>
      client.request(JSON.stringify({ id: i })).catch((e: unknown) => (isWsmError(e) ? e.code : 'untyped')),
    );
    const t0 = performance.now();
    await client.stop();
    const took = performance.now() - t0;
    expect(new Set(await Promise.all(inFlight))).toEqual(new Set(['WSM_ERR_CLIENT_STOPPED']));
    // The blackholed peer never answers the close frame: bounded by closeTimeoutMs (300).
    expect(took).toBeLessThan(1_500);
    note(`10 in-flight requests rejected WSM_ERR_CLIENT_STOPPED; stop() took ${Math.round(took)} ms`);
  });
});

describe('TCP segmentation (row 27)', () => {
  /**
   * A proxy that forwards one byte per event-loop turn with Nagle off, both ways: every byte is its
   * own write (a real segment on loopback), so frames arrive split at every possible offset. (The
   * shared fault proxy's `slice` mode writes all slices in one tick, which Node coalesces.) After the
   * first 4 KiB of a direction it forwards 7 bytes per turn, to keep a 64 KiB message under a second.
   */
  async function startByteProxy(targetPort: number): Promise<{ url: string; segments: () => number }> {
    let segments = 0;
    const sockets = new Set<net.Socket>();
    const pump = (from: net.Socket, to: net.Socket) => {
      let queue = Buffer.alloc(0);
      let forwarded = 0;
      let running = false;
      const step = () => {
        if (queue.length === 0 || to.destroyed) {
          running = false;
          return;
        }
        const size = forwarded < 4_096 ? 1 : 7;
        const segment = queue.subarray(0, size);
        queue = queue.subarray(segment.length);
        forwarded += segment.length;
        segments++;
        to.write(segment);
        setImmediate(step);
      };
      from.on('data', (chunk: Buffer) => {
        queue = Buffer.concat([queue, chunk]);
        if (!running) {
          running = true;
          setImmediate(step);
        }
      });
    };
    const server = net.createServer((client) => {
      const upstream = net.connect(targetPort, '127.0.0.1');
      for (const s of [client, upstream]) {
        s.setNoDelay(true);
        sockets.add(s);
        s.on('error', () => {});
        s.on('close', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      pump(client, upstream);
      pump(upstream, client);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    proxies.push({
      close: async () => {
        for (const s of sockets) s.destroy();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      },
    } as FaultProxy);
    return { url: `ws://127.0.0.1:${(server.address() as net.AddressInfo).port}`, segments: () => segments };
  }

  it('tiny TCP segments both ways (1 byte, then 7): every frame size (7-bit, 16-bit, 64-bit length) reassembled intact', async () => {
    const note = observe(27);
    const server = await startWsServer({ echo: true });
    const proxy = await startByteProxy(server.port);
    const { client, rec } = make({ url: proxy.url });
    await client.start();
    const text = (n: number) =>
      Array.from({ length: n }, (_, i) => String.fromCharCode(97 + (i % 26))).join('');
    const payloads: Array<string | Uint8Array> = [
      'a',
      text(125),
      text(126),
      `é€𝄞 ${text(300)}`,
      Uint8Array.from({ length: 1_000 }, (_, i) => i % 256),
      text(65_536),
    ];
    for (const p of payloads) client.send(p);
    await waitFor(client, () => rec.of('message').length >= payloads.length, 'every echo', 15_000);
    rec.of('message').forEach((m, i) => {
      const sent = payloads[i]!;
      if (typeof sent === 'string') expect(m.data).toBe(sent);
      else expect(Array.from(m.data as Uint8Array)).toEqual(Array.from(sent));
    });
    const segments = proxy.segments();
    await client.stop();
    note(
      `${payloads.length} messages (1 B .. 65,536 B, text and binary) echoed intact through ${segments} writes (1-byte segments for the first 4 KiB each way, then 7-byte)`,
    );
  }, 20_000);
});

describe('request correlation under faults (row 29)', () => {
  it('timeouts under latency, late replies ignored, unique ids across reconnects, pending rejected on close', async () => {
    const note = observe(29);
    const server = await startWsServer({ echo: true });
    const proxy = await proxyTo(server);
    let ids: number[] = [];
    const ordinary: string[] = [];
    const { client, rec } = make({
      url: proxy.url,
      reconnect: { baseDelayMs: 0 },
      requests: {
        // Predicate matching: it sees each pending request's id, which must never repeat.
        match: (req, res) => {
          ids.push(req.id);
          return (JSON.parse(String(req.data)) as { k: string }).k === (res.json() as { k?: string }).k;
        },
      },
      hooks: { onMessage: (m) => void ordinary.push(String(m.data)) },
    });
    await client.start();

    // 1. Latency above the request timeout: RequestTimeoutError, and the late reply is an ordinary message.
    proxy.set({ kind: 'latency', ms: 150 });
    const late = await client
      .request(JSON.stringify({ k: 'late' }), { timeoutMs: 30 })
      .catch((e: unknown) => (isWsmError(e) ? e.code : 'untyped'));
    expect(late).toBe('WSM_ERR_REQUEST_TIMEOUT');
    await waitFor(client, () => rec.of('message').length === 1, 'the late reply');
    expect(JSON.parse(ordinary[0]!)).toEqual({ k: 'late' });
    proxy.set({ kind: 'pass' });

    // 2. Requests across three sessions (two resets): answered, ids unique and increasing.
    const idsBySession: number[][] = [];
    for (let session = 0; session < 3; session++) {
      ids = [];
      const replies = await Promise.all(
        Array.from({ length: 5 }, (_, i) => client.request(JSON.stringify({ k: `s${session}-${i}` }))),
      );
      expect(replies.map((r) => (r.json() as { k: string }).k)).toEqual(
        Array.from({ length: 5 }, (_, i) => `s${session}-${i}`),
      );
      idsBySession.push([...new Set(ids)]);
      if (session < 2) {
        const opens = client.stats().sessions;
        proxy.resetAll();
        await waitFor(client, () => client.stats().sessions === opens + 1 && client.isOpen, 'a new session');
      }
    }
    expect(idsBySession.map((s) => s.length)).toEqual([5, 5, 5]);
    expect(new Set(idsBySession.flat()).size).toBe(15);
    // No counter reset at a reconnect: every id of a later session is above every earlier one.
    expect(Math.min(...idsBySession[1]!)).toBeGreaterThan(Math.max(...idsBySession[0]!));
    expect(Math.min(...idsBySession[2]!)).toBeGreaterThan(Math.max(...idsBySession[1]!));

    // 3. Pending requests when the connection dies: rejected ConnectionClosedError, none left.
    proxy.set({ kind: 'blackhole', direction: 'both' });
    const pending = Array.from({ length: 5 }, (_, i) =>
      client
        .request(JSON.stringify({ k: `p${i}` }))
        .catch((e: unknown) => (isWsmError(e) ? e.code : 'untyped')),
    );
    proxy.resetAll();
    expect(new Set(await Promise.all(pending))).toEqual(new Set(['WSM_ERR_CONNECTION_CLOSED']));
    expect(client.stats().pendingRequests).toBe(0);
    await client.stop();
    note(
      'timeout under 150 ms latency -> RequestTimeoutError, late reply delivered as ordinary; 15 distinct, increasing ids over 3 sessions; 5 pending -> ConnectionClosedError on reset',
    );
  });
});

describe('mass disconnect (row 30)', () => {
  /**
   * Kills every connection of 200 open clients. Returns, per client, how long after it saw its close
   * it dialled again (what the policy decided, plus event-loop lag), and the server-side arrival times.
   */
  async function storm(jitter: 'full' | 'none'): Promise<{ offsets: number[]; arrivals: number[] }> {
    const N = 200;
    const server = await startWsServer();
    const clients: WsClient[] = [];
    const offsets: number[] = [];
    const arrivals: number[] = [];
    for (let i = 0; i < N; i++) {
      const { client } = make({
        url: server.url,
        reconnect: { baseDelayMs: 1_000, maxDelayMs: 1_000, jitter },
      });
      let closedAt = 0;
      client.on('error', () => {});
      client.on('close', () => {
        closedAt = performance.now();
      });
      client.on('connecting', ({ attempt }) => {
        if (attempt > 0) offsets.push(performance.now() - closedAt);
      });
      clients.push(client);
    }
    await Promise.all(clients.map((c) => c.start()));
    await server.waitForConnections(N);
    const killedAt = performance.now();
    server.wss.on('connection', () => arrivals.push(performance.now() - killedAt));
    server.terminateAll();
    await server.waitForConnections(2 * N);
    await Promise.all(clients.map((c) => c.stop()));
    expect(offsets).toHaveLength(N);
    return { offsets, arrivals };
  }

  /** The largest number of arrivals inside any window of `ms`. */
  function densest(times: number[], ms: number): number {
    const sorted = [...times].sort((a, b) => a - b);
    let best = 0;
    for (let i = 0, j = 0; i < sorted.length; i++) {
      while (sorted[i]! - sorted[j]! > ms) j++;
      best = Math.max(best, i - j + 1);
    }
    return best;
  }

  it('200 clients killed at once: full jitter spreads the reconnects; a fixed delay would not', async () => {
    const note = observe(30);
    const jittered = await storm('full');
    const fixed = await storm('none');
    const jitteredPeak = densest(jittered.offsets, 100);
    const fixedPeak = densest(fixed.offsets, 100);
    // Full jitter: each client's wait is uniform in [0, 1 s] (~20 per 100 ms window). A fixed delay
    // makes every client wait the same 1 s after its close: (nearly) all in one window.
    expect(jitteredPeak).toBeLessThan(60);
    expect(fixedPeak).toBeGreaterThan(150);
    const span = (t: number[]) => Math.round(Math.max(...t) - Math.min(...t));
    note(
      `waits after the close, densest 100 ms window of 200: ${jitteredPeak} with full jitter vs ${fixedPeak} with a fixed 1 s delay; server saw the reconnects over ${span(jittered.arrivals)} ms vs ${span(fixed.arrivals)} ms`,
    );
  }, 20_000);
});

describe('duplicate connects (row 31)', () => {
  it('start() twice, restart() storms and restart() during a backoff wait: never two sockets connecting or open', async () => {
    const note = observe(31);
    const server = await startWsServer();
    let live = 0;
    let maxLive = 0;
    const ws = createWsAdapter();
    // Counts the sockets the client holds: connect() opens one, onClose ends it.
    const counting: SocketAdapter = {
      ...ws,
      connect(request, listener) {
        live++;
        maxLive = Math.max(maxLive, live);
        return ws.connect(request, {
          ...listener,
          onClose(info) {
            live--;
            listener.onClose(info);
          },
        });
      },
    };
    // A real clock that knows the delay of every pending timer of this client.
    const pendingTimers = new Map<unknown, number>();
    const clock = {
      now: () => Date.now(),
      setTimeout(fn: () => void, ms: number) {
        const id = setTimeout(() => {
          pendingTimers.delete(id);
          fn();
        }, ms);
        pendingTimers.set(id, ms);
        return id;
      },
      clearTimeout(id: unknown) {
        pendingTimers.delete(id);
        clearTimeout(id as ReturnType<typeof setTimeout>);
      },
    };
    const { client, rec } = make({
      url: server.url,
      adapter: counting,
      clock,
      reconnect: { baseDelayMs: 200, maxDelayMs: 200, jitter: 'none' },
    });
    const first = client.start();
    const second = await client.start().catch((e: unknown) => (isWsmError(e) ? e.code : 'untyped'));
    expect(second).toBe('WSM_ERR_INVALID_STATE');
    await first;
    for (let i = 0; i < 5; i++) client.restart(`storm ${i}`);
    await waitFor(client, () => client.isOpen && live === 1, 'open again after the restarts');
    // A drop: the client waits 200 ms to reconnect; restart() skips the wait, and the timer must not fire a second dial.
    server.terminateAll();
    await waitFor(client, () => client.state === 'reconnecting', 'reconnecting');
    client.restart('now');
    await waitFor(client, () => client.isOpen, 'open after restart()');
    // The 200 ms backoff timer was cancelled with the state it belonged to: no second dial can follow.
    expect([...pendingTimers.values()]).not.toContain(200);
    expect(server.openConnections).toHaveLength(1);
    await client.stop();
    expect(maxLive).toBe(1);
    expect(pendingTimers.size).toBe(0);
    expect(rec.of('connecting').length).toBe(rec.of('open').length);
    note(
      `start() twice -> InvalidStateError; ${rec.of('connecting').length} dials, ${rec.of('open').length} opens; at most ${maxLive} socket at a time`,
    );
  });
});
