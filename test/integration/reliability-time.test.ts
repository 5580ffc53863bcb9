/**
 * Issue 21.2: durations use a monotonic clock. The default clock is `performance.now()`, so a system
 * clock stepped back an hour or forward a minute moves no deadline: request timeouts, heartbeat
 * judgement and RTT, the reconnect backoff, the open/close/stop bounds and `sendBuffer.maxAgeMs`.
 *
 * The step is `vi.spyOn(Date, 'now')` (what an NTP step or a user changing the clock looks like to
 * JavaScript), with real timers against real loopback servers. Durations are measured with
 * `performance.now()`; each wait is on an event, with a guard far shorter than the jump, so a deadline
 * that moved by the jump shows as a failure, not as a slow test.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type ClientOptions, type WsClient, createClient, isWsmError } from '../../src/node.js';
import { observe } from '../faults/observe.js';
import {
  cleanup,
  events,
  startSilentTcpServer,
  startUpgradeThenSilentServer,
  startWsServer,
  track,
  waitForEvent,
} from '../helpers/servers.js';

afterEach(async () => {
  vi.restoreAllMocks();
  await cleanup();
});

const HOUR = 3_600_000;
const realNow = Date.now.bind(Date);

/** Steps the system clock: from now on `Date.now()` answers `offsetMs` away from the real time. */
function stepSystemClock(offsetMs: number): void {
  vi.spyOn(Date, 'now').mockImplementation(() => realNow() + offsetMs);
}

/** Settles within `guardMs` or fails saying what did not happen (a guard, not a wait). */
function within<T>(promise: Promise<T>, what: string, guardMs = 3_000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: not within ${guardMs} ms`)), guardMs);
    }),
  ]).finally(() => clearTimeout(timer));
}

const codeOf = (e: unknown) => (isWsmError(e) ? e.code : String(e));

/** Test scaffolding only: a little under the nominal duration (timers fire at or after their time). */
const EARLY_MS = 5;

describe('a system clock step moves no deadline', () => {
  it.each([
    ['back 1 h', -HOUR],
    ['forward 1 h', HOUR],
  ])('a 300 ms request still times out at 300 ms when the clock steps %s', async (_label, offset) => {
    const note = observe(44);
    const server = await startWsServer(); // never answers
    const client = track(
      createClient({
        url: server.url,
        heartbeat: false,
        requests: { key: { request: (d) => String(d), response: (m) => String(m.data) } },
      }),
    );
    await client.start();
    const t0 = performance.now();
    const pending = client.request('never answered', { timeoutMs: 300 }).then(
      () => 'resolved',
      (e: unknown) => codeOf(e),
    );
    stepSystemClock(offset);
    expect(await within(pending, 'the request timeout')).toBe('WSM_ERR_REQUEST_TIMEOUT');
    const elapsed = performance.now() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(300 - EARLY_MS);
    note(
      `Date.now stepped ${offset > 0 ? 'forward' : 'back'} 1 h: the 300 ms request timed out after ${Math.round(elapsed)} ms`,
    );
  });

  it.each([
    ['forward 60 s', 60_000],
    ['back 1 h', -HOUR],
  ])(
    'a healthy, answering session is not killed, and RTTs stay true, when the clock steps %s',
    async (_label, offset) => {
      const note = observe(44);
      const server = await startWsServer({ echo: true });
      const client = track(createClient({ url: server.url, heartbeat: { intervalMs: 60, timeoutMs: 60 } }));
      const rec = events(client);
      await client.start();
      await waitForEvent(client, 'pong');
      // The step lands between a ping and its pong: the deadline and the RTT of that ping straddle it.
      client.once('ping', () => stepSystemClock(offset));
      const rtts: number[] = [];
      const fivePongs = new Promise<void>((resolve) => {
        const off = client.on('pong', ({ rttMs }) => {
          rtts.push(rttMs);
          if (rtts.length === 5) {
            off();
            resolve();
          }
        });
      });
      await within(fivePongs, 'five more pongs');
      const echoed = waitForEvent(client, 'message');
      client.send('still here');
      expect((await within(echoed, 'the echo')).data).toBe('still here');
      expect(rec.of('heartbeat-missed')).toEqual([]);
      expect(rec.of('close')).toEqual([]);
      expect(client.state).toBe('open');
      expect(client.stats().sessions).toBe(1);
      // An RTT is a difference of two monotonic readings: the step is not in it.
      for (const rtt of rtts) expect(rtt).toBeLessThan(1_000);
      expect(rtts.every((rtt) => rtt >= 0)).toBe(true);
      note(
        `Date.now stepped ${offset}: 5 more pongs (RTT max ${Math.max(...rtts).toFixed(1)} ms), still open on session 1`,
      );
    },
  );

  it('sendBuffer.maxAgeMs: a message queued during an outage expires on time when the clock steps back 1 h', async () => {
    const note = observe(44);
    const server = await startWsServer();
    const client = track(
      createClient({
        url: server.url,
        heartbeat: false,
        reconnect: { baseDelayMs: 60_000, maxDelayMs: 60_000, jitter: 'none' },
        sendBuffer: { maxAgeMs: 200 },
      }),
    );
    client.on('error', () => {});
    await client.start();
    const reconnecting = waitForEvent(client, 'reconnecting');
    server.terminateAll();
    await reconnecting;
    const t0 = performance.now();
    const reported = waitForEvent(client, 'undelivered');
    expect(client.send('stale soon')).toBe('queued');
    stepSystemClock(-HOUR);
    const { messages, reason } = await within(reported, 'the expiry report');
    expect(messages).toEqual(['stale soon']);
    expect(reason.code).toBe('WSM_ERR_UNDELIVERED');
    expect(performance.now() - t0).toBeGreaterThanOrEqual(200 - EARLY_MS);
    expect(client.stats().queuedSends).toBe(0);
    note(
      'queued in the outage, clock stepped back 1 h: reported undelivered at its maxAgeMs (200 ms), during the outage',
    );
  });

  it('sendBuffer.maxAgeMs: a step forward of 1 h does not expire a young message (maxAgeMs 60 s)', async () => {
    const note = observe(44);
    const server = await startWsServer();
    const client = track(
      createClient({
        url: server.url,
        heartbeat: false,
        reconnect: { baseDelayMs: 0 },
        sendBuffer: { maxAgeMs: 60_000 },
      }),
    );
    const rec = events(client);
    await client.start();
    const reconnecting = waitForEvent(client, 'reconnecting');
    await server.close();
    await reconnecting;
    expect(client.send('young')).toBe('queued');
    stepSystemClock(HOUR);
    await server.restart();
    const conn = await within(server.waitForConnections(2), 'the reconnect');
    expect(await within(server.waitForMessages(conn.index, 1), 'the queued message')).toEqual(['young']);
    expect(rec.of('undelivered')).toEqual([]);
    note('queued in the outage, clock stepped forward 1 h: delivered after the reopen, not expired');
  });

  type Bound =
    | 'open (openTimeoutMs)'
    | 'reconnect backoff'
    | 'close handshake (closeTimeoutMs)'
    | 'stop({ timeoutMs })';
  it.each<[Bound, number]>([
    ['open (openTimeoutMs)', -HOUR],
    ['reconnect backoff', -HOUR],
    ['close handshake (closeTimeoutMs)', -HOUR],
    ['stop({ timeoutMs })', -HOUR],
  ])('the %s bound of 300 ms holds when the clock steps back 1 h', async (bound, offset) => {
    const note = observe(44);
    const base: Partial<ClientOptions> = { heartbeat: false };
    let client: WsClient;
    let t0 = 0;
    let outcome: Promise<unknown>;
    if (bound === 'open (openTimeoutMs)') {
      const silent = await startSilentTcpServer();
      client = track(createClient({ ...base, url: silent.url, openTimeoutMs: 300 }));
      t0 = performance.now();
      outcome = client.start().then(
        () => 'opened',
        (e: { cause?: unknown }) => codeOf(e.cause),
      );
      stepSystemClock(offset);
      expect(await within(outcome, 'the open timeout')).toBe('WSM_ERR_OPEN_TIMEOUT');
    } else if (bound === 'reconnect backoff') {
      const server = await startWsServer({
        onConnection: (c) => {
          if (c.index === 0) c.socket.close(1012, 'restart');
        },
      });
      client = track(
        createClient({
          ...base,
          url: server.url,
          reconnect: { baseDelayMs: 300, maxDelayMs: 300, jitter: 'none' },
        }),
      );
      const reconnecting = waitForEvent(client, 'reconnecting');
      await client.start();
      const { delayMs } = await reconnecting;
      expect(delayMs).toBe(300);
      t0 = performance.now();
      stepSystemClock(offset);
      outcome = waitForEvent(client, 'connecting', () => true, 3_000);
      await within(outcome, 'the reconnect dial');
    } else {
      const silent = await startUpgradeThenSilentServer();
      const stopBound = bound === 'stop({ timeoutMs })';
      client = track(createClient({ ...base, url: silent.url, closeTimeoutMs: stopBound ? 60_000 : 300 }));
      client.on('error', () => {});
      await client.start();
      t0 = performance.now();
      outcome = client.stop(stopBound ? { timeoutMs: 300 } : {});
      stepSystemClock(offset);
      await within(outcome, 'stop() against a peer that never answers the close frame');
      expect(client.state).toBe('stopped');
    }
    const elapsed = performance.now() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(300 - EARLY_MS);
    note(`${bound}: Date.now stepped back 1 h, the 300 ms bound ended after ${Math.round(elapsed)} ms`);
  });
});
