/**
 * Quiet, honest defaults (issue 16.7-16.9): with no `error` listener and no `onError`, the client
 * prints at most one line per error code between two opens, says so in that line, and prints nothing
 * for an error that settles a promise the caller holds (a failed start()); round trips have the
 * monotonic clock's sub-millisecond resolution; stats tell sessions that opened from dial attempts.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createClient, createWsAdapter } from '../../src/node.js';
import { cleanup, freePortClosed, startWsServer, track } from '../helpers/servers.js';

afterEach(async () => {
  vi.restoreAllMocks();
  await cleanup();
});

/** Captures console.error lines; `next(n)` resolves once n lines were printed in all. */
function captureConsole() {
  const lines: string[] = [];
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => {
    lines.push(args.map(String).join(' '));
    for (const w of waiters.splice(0)) {
      if (lines.length >= w.n) w.resolve();
      else waiters.push(w);
    }
  });
  return {
    lines,
    next: (n: number) =>
      new Promise<void>((resolve) => {
        if (lines.length >= n) resolve();
        else waiters.push({ n, resolve });
      }),
  };
}

describe('console.error without an error listener', () => {
  it('a failed start() prints nothing: the rejection already tells the caller', async () => {
    const out = captureConsole();
    const port = await freePortClosed();
    const client = track(createClient({ url: `ws://127.0.0.1:${port}`, heartbeat: false }));
    const error = await client.start().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'WSM_ERR_START' });
    // Printing happens after the step (a microtask): give it every chance.
    await new Promise((resolve) => setImmediate(resolve));
    expect(out.lines).toEqual([]);
  });

  it('repeated dial failures print one line per code until a session opens, then one again', async () => {
    const out = captureConsole();
    const port = await freePortClosed();
    let dials = 0;
    const client = track(
      createClient({
        url: `ws://127.0.0.1:${port}`,
        heartbeat: false,
        reconnect: { baseDelayMs: 1, maxDelayMs: 2, retryOnStart: true },
      }),
    );
    client.on('connecting', () => dials++);
    const failedDials = new Promise<void>((resolve) => {
      client.on('close', () => {
        if (dials >= 15) resolve();
      });
    });
    const started = client.start().catch((e: unknown) => e);
    await failedDials;
    expect(out.lines).toHaveLength(1);
    expect(out.lines[0]).toContain('WSM_ERR_CONNECT');
    expect(out.lines[0]).toContain('not printed until a session opens');
    await client.stop();
    expect(await started).toMatchObject({ code: 'WSM_ERR_START' });
  });

  it('after an open, the next failure of the same code is printed again', async () => {
    const out = captureConsole();
    const server = await startWsServer();
    await server.close(); // down before the client starts
    const client = track(
      createClient({
        url: server.url,
        heartbeat: false,
        reconnect: { baseDelayMs: 1, maxDelayMs: 5, retryOnStart: true },
      }),
    );
    const started = client.start();
    await out.next(1);
    await server.restart();
    await started;
    // The server dies again: the same code is news again after a session opened.
    await server.close();
    await out.next(2);
    expect(out.lines).toHaveLength(2);
    for (const line of out.lines) expect(line).toContain('WSM_ERR_CONNECT');
  });
});

describe('numbers that mean one thing each', () => {
  it('pong.rttMs has sub-millisecond resolution on loopback', async () => {
    const server = await startWsServer();
    const client = track(createClient({ url: server.url, heartbeat: { intervalMs: 10, timeoutMs: 1_000 } }));
    const rtts: number[] = [];
    const five = new Promise<void>((resolve) => {
      client.on('pong', ({ rttMs }) => {
        rtts.push(rttMs);
        if (rtts.length === 5) resolve();
      });
    });
    await client.start();
    await five;
    for (const rtt of rtts) {
      expect(rtt).toBeGreaterThan(0);
      expect(rtt).toBeLessThan(1_000);
    }
    // Whole milliseconds would read 0 on loopback; five integral readings in a row would mean ms resolution.
    expect(rtts.some((rtt) => !Number.isInteger(rtt))).toBe(true);
    expect(client.stats().lastRttMs).toBe(rtts[rtts.length - 1]);
  });

  it('stats(): sessions counts sessions that opened, dials counts every attempt', async () => {
    const server = await startWsServer();
    await server.close();
    const client = track(
      createClient({
        url: server.url,
        heartbeat: false,
        reconnect: { baseDelayMs: 1, maxDelayMs: 5, retryOnStart: true },
      }),
    );
    client.on('error', () => {});
    let failed = 0;
    const threeFailures = new Promise<void>((resolve) => {
      client.on('close', () => {
        if (++failed === 3) resolve();
      });
    });
    const started = client.start();
    await threeFailures;
    await server.restart();
    await started;
    const stats = client.stats();
    expect(stats.sessions).toBe(1);
    expect(stats.dials).toBeGreaterThanOrEqual(4);
    // A session id names one dial: it counts the failed ones too.
    expect(client.sessionId).toBe(stats.dials);
    expect(stats.reconnects).toBe(stats.dials - 1);
  });
});

describe('facts a facade needs (wsmachine/compat)', () => {
  it('queued bytes and bufferedAmount count the send buffer in UTF-8; open reports the extensions', async () => {
    const server = await startWsServer({ perMessageDeflate: true });
    const client = track(
      createClient({
        url: server.url,
        heartbeat: false,
        adapter: createWsAdapter({ perMessageDeflate: true }),
      }),
    );
    expect(client.send('héllo')).toBe('queued'); // 6 UTF-8 bytes
    expect(client.send(new Uint8Array(10))).toBe('queued');
    expect(client.stats().queuedBytes).toBe(16);
    expect(client.bufferedAmount).toBe(16);
    const opened = new Promise<{ extensions: string }>((resolve) => client.once('open', resolve));
    await client.start();
    expect((await opened).extensions).toContain('permessage-deflate');
    expect(client.stats().queuedBytes).toBe(0);
  });
});
