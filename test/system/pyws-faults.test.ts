/**
 * The fault suite against a third-party peer: Debian's python3-websockets running
 * test/faults/pyws_server.py (FAULTS.md rows 1-4, 6, 7, 9, 10, 12-14, 18-26). The python server is a
 * separate implementation of RFC 6455 that can also break it on purpose (malformed frames written raw
 * after the handshake), and it reports what it saw on its side: the close code the client sent, the
 * frames it received (pongs), every upgrade it refused.
 *
 * Most tests use `reconnect.retryOnStart: true`, so that the reconnect policy (not "the first start
 * failed") decides whether the client dials again: fatal codes must stop it, transient ones must not.
 * Every wait is on an event, a promise or a line printed by the python server.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type WsClient, createClient, isWsmError } from '../../src/node.js';
import type { ClientEvents, ClientOptions } from '../../src/types.js';
import { observe } from '../faults/observe.js';
import { type PywsServer, requirePythonWebsockets, startPyws } from '../faults/peers.js';
import { type Recorder, cleanup, countingClock, events, track, waitFor } from '../helpers/servers.js';

let py: PywsServer;

beforeAll(async () => {
  py = await startPyws();
});
afterAll(async () => {
  await py?.stop();
});
afterEach(cleanup);

interface Made {
  client: WsClient;
  rec: Recorder;
  /** performance.now() of every `connecting` and `close` event, recorded from before start(). */
  at: { connecting: number[]; close: number[] };
  path: string;
  /** start()'s outcome: undefined when it resolved, else the rejection. */
  started: Promise<unknown>;
}

/** A client for one route of the python server; started at once (start() errors are captured). */
function connect(route: string, options: Partial<ClientOptions> = {}): Made {
  const path = py.path(route);
  const client = track(
    createClient({
      url: py.url(path),
      heartbeat: false,
      openTimeoutMs: 5_000,
      closeTimeoutMs: 500,
      ...options,
      reconnect: { baseDelayMs: 0, retryOnStart: true, ...(options.reconnect || {}) },
    }),
  );
  const rec = events(client);
  const at = { connecting: [] as number[], close: [] as number[] };
  client.on('connecting', () => at.connecting.push(performance.now()));
  client.on('close', () => at.close.push(performance.now()));
  const started = client.start().then(
    () => undefined,
    (error: unknown) => error,
  );
  return { client, rec, at, path, started };
}

/**
 * Resolves with the n-th recorded event of a type (1-based), however long ago it fired: events that
 * fire in the same tick as an earlier one are never missed.
 */
async function nth<K extends 'close' | 'reconnecting' | 'message' | 'error' | 'stopped' | 'open'>(
  made: Made,
  type: K,
  n = 1,
): Promise<ClientEvents[K]> {
  await waitFor(made.client, () => made.rec.of(type).length >= n, `${n} '${type}' event(s)`);
  return made.rec.of(type)[n - 1]!;
}

describe('the python peer', () => {
  it(`finds Debian's python3-websockets at /usr/bin/python3`, () => {
    expect(requirePythonWebsockets()).toMatch(/^\d+\.\d+/);
    expect(py.port).toBeGreaterThan(0);
  });
});

describe('server closes (rows 1-4)', () => {
  it.each([1001, 1012, 1014])(
    'server closes with %i: the code and reason are reported and the client reconnects',
    async (code) => {
      const note = observe(1);
      const made = connect(`/close/${code}/going`);
      const { client, path } = made;
      const closed = await nth(made, 'close');
      const again = await nth(made, 'reconnecting');
      expect(closed).toMatchObject({ code, reason: 'going', wasClean: true, class: 'transient' });
      expect(again.attempt).toBe(1);
      await client.stop();
      expect((await py.closed(path)).code).toBe(code);
      note(`close ${closed.code} "${closed.reason}" (class ${closed.class}), then reconnecting`);
    },
  );

  it('server closes with 1013: reconnects after a longer delay than for 1012', async () => {
    const note = observe(1);
    const delayOf = async (code: number) => {
      const made = connect(`/close/${code}`, { reconnect: { baseDelayMs: 50, jitter: 'none' } });
      const { delayMs } = await nth(made, 'reconnecting');
      await made.client.stop();
      return delayMs;
    };
    const blip = await delayOf(1012);
    const later = await delayOf(1013);
    expect(blip).toBe(50);
    expect(later).toBeGreaterThan(blip);
    note(`reconnect delay after 1012: ${blip} ms; after 1013: ${later} ms`);
  });

  it('stop() sends 1000, python sees it, and nothing reconnects', async () => {
    const note = observe(1);
    const { client, rec, path, started } = connect('/echo');
    expect(await started).toBeUndefined();
    await client.stop();
    const seen = await py.closed(path);
    expect(seen.code).toBe(1000);
    expect(client.state).toBe('stopped');
    expect(rec.of('reconnecting')).toEqual([]);
    expect(py.opened(path)).toHaveLength(1);
    note(`python saw close ${seen.code}; client stopped; 1 connection, 0 reconnects`);
  });

  it('an application close code (4001 "bye") is reported; the default policy reconnects', async () => {
    const note = observe(2);
    const made = connect('/close/4001/bye');
    const { client, path } = made;
    const closed = await nth(made, 'close');
    await nth(made, 'reconnecting');
    expect(closed).toMatchObject({ code: 4001, reason: 'bye', class: 'transient' });
    await client.stop();
    expect((await py.closed(path)).code).toBe(4001);
    note(`close ${closed.code} "${closed.reason}" reported, class ${closed.class}, reconnecting`);
  });

  it('4401 with a static url is an auth close: reported, and no reconnect without new credentials', async () => {
    const note = observe(2);
    const made = connect('/close/4401/unauthorized');
    const { rec, path } = made;
    const stopped = await nth(made, 'stopped');
    const closed = rec.of('close')[0]!;
    expect(closed).toMatchObject({ code: 4401, reason: 'unauthorized', class: 'auth' });
    expect(rec.of('reconnecting')).toEqual([]);
    expect(py.opened(path)).toHaveLength(1);
    expect(isWsmError(stopped.error)).toBe(true);
    note(`close 4401 class ${closed.class}; stopped, ${py.opened(path).length} connection`);
  });

  it('TCP FIN without a close frame: 1006, not clean, then a reconnect', async () => {
    const note = observe(3);
    const made = connect('/drop');
    const { client, path } = made;
    const closed = await nth(made, 'close');
    const again = await nth(made, 'reconnecting');
    expect(closed).toMatchObject({ code: 1006, wasClean: false, class: 'transient' });
    await waitFor(client, () => py.opened(path).length >= 2, 'a second connection');
    await client.stop();
    note(`close ${closed.code} wasClean=${closed.wasClean}; reconnecting (attempt ${again.attempt})`);
  });

  it('TCP RST after open: 1006, no crash, then a reconnect', async () => {
    const note = observe(4);
    const made = connect('/rst');
    const { client, rec, path } = made;
    const closed = await nth(made, 'close');
    await nth(made, 'reconnecting');
    await waitFor(client, () => py.opened(path).length >= 2, 'a second connection');
    expect(closed).toMatchObject({ code: 1006, wasClean: false, class: 'transient' });
    const errors = rec.of('error').map((e) => e.code);
    // ws reports a reset after open as a close only; a ConnectError would be acceptable, a crash not.
    for (const code of errors) expect(code).toBe('WSM_ERR_CONNECT');
    await client.stop();
    note(`close ${closed.code}; error events: [${errors.join(', ')}]; reconnected`);
  });
});

describe('upgrade rejected (rows 6-7)', () => {
  it.each([401, 403])('rejected with %i: StartError with the status, and no blind retry', async (status) => {
    const note = observe(6);
    const { client, rec, path, started } = connect(`/reject/${status}`);
    const error = (await started) as { code: string; cause?: { code?: string; status?: number } };
    expect(error).toMatchObject({ code: 'WSM_ERR_START', cause: { code: 'WSM_ERR_HANDSHAKE', status } });
    expect(client.state).toBe('stopped');
    expect(rec.of('reconnecting')).toEqual([]);
    await py.waitFor((e) => e.ev === 'reject' && e.path === path, 'the refused upgrade');
    expect(py.rejected(path)).toHaveLength(1);
    note(
      `start() rejected ${error.code} caused by ${error.cause?.code} status ${error.cause?.status}; 1 attempt`,
    );
  });

  it.each([503, 429])(
    'rejected with %i and Retry-After: 1 -> the next attempt comes no earlier than 1 s later',
    async (status) => {
      const note = observe(7);
      const made = connect(`/reject/${status}/1`);
      const { client, path, at } = made;
      const { delayMs, cause } = await nth(made, 'reconnecting');
      expect(delayMs).toBeGreaterThanOrEqual(1_000);
      expect(cause).toMatchObject({ code: 'WSM_ERR_HANDSHAKE', status, retryAfterMs: 1_000 });
      await py.waitFor((e) => e.ev === 'reject' && py.rejected(path).length >= 2, 'a second upgrade');
      const gap = at.connecting[1]! - at.close[0]!;
      expect(gap).toBeGreaterThanOrEqual(990);
      await client.stop();
      note(`HandshakeError ${status} retryAfterMs 1000; next dial ${Math.round(gap)} ms later`);
    },
    10_000,
  );
});

describe('liveness (rows 9, 10, 12, 13)', () => {
  it.each(['/nopong', '/silent'])(
    '%s: no pong within the timeout -> terminated (no close frame), 1006 heartbeat timeout, reconnect',
    async (route) => {
      const note = observe(9);
      const I = 200;
      const T = 300;
      const made = connect(route, { heartbeat: { intervalMs: I, timeoutMs: T } });
      const { client, path, started } = made;
      expect(await started).toBeUndefined();
      const openedAt = performance.now();
      const closed = await nth(made, 'close');
      const detectedMs = performance.now() - openedAt;
      expect(closed).toMatchObject({ code: 1006, reason: 'heartbeat timeout', wasClean: false });
      expect((await nth(made, 'error')).code).toBe('WSM_ERR_HEARTBEAT_TIMEOUT');
      await nth(made, 'reconnecting');
      const seen = await py.closed(path);
      expect(seen.code).toBe(1006);
      // The client terminated: python never received a close frame on that connection.
      expect(py.frames(seen.id!).filter((f) => f.opcode === 8)).toEqual([]);
      expect(detectedMs).toBeLessThan(I + T + 700);
      await client.stop();
      note(
        `1006 "heartbeat timeout" after ${Math.round(detectedMs)} ms (I+T = ${I + T}); python saw 1006, no close frame`,
      );
    },
  );

  it('/delaypong/300 with a 1 s timeout: no false positive, RTT measured', async () => {
    const note = observe(10);
    const { client, rec, started } = connect('/delaypong/300', {
      heartbeat: { intervalMs: 150, timeoutMs: 1_000 },
    });
    expect(await started).toBeUndefined();
    const pongs: number[] = [];
    await new Promise<void>((resolve) => {
      const off = client.on('pong', ({ rttMs }) => {
        pongs.push(rttMs);
        if (pongs.length < 3) return;
        off();
        resolve();
      });
    });
    expect(Math.min(...pongs)).toBeGreaterThanOrEqual(280);
    expect(rec.of('close')).toEqual([]);
    expect(rec.of('heartbeat-missed')).toEqual([]);
    expect(client.stats().lastRttMs).toBeGreaterThanOrEqual(280);
    await client.stop();
    note(`3 pongs, RTT ${pongs.join('/')} ms; no close, no heartbeat-missed`);
  });

  it('/serverping/100: every server ping is answered with the same payload', async () => {
    const note = observe(12);
    const { client, rec, path, started } = connect('/serverping/100');
    expect(await started).toBeUndefined();
    const open = (await py.waitFor((e) => e.ev === 'open' && e.path === path, 'the connection')).id!;
    await py.waitFor(() => py.frames(open).filter((f) => f.opcode === 10).length >= 3, 'three pongs');
    const pings = py.events.filter((e) => e.ev === 'ping' && e.id === open).map((e) => e.data);
    const pongs = py.frames(open).filter((f) => f.opcode === 10);
    for (const pong of pongs) expect(pings).toContain(pong.data);
    expect(rec.of('error')).toEqual([]);
    expect(client.state).toBe('open');
    await client.stop();
    note(`${pongs.length} server pings answered with their payloads; no error`);
  });

  it('an unsolicited pong is ignored: no error, the session carries on', async () => {
    const note = observe(13);
    // pong("p") then text("ok")
    const made = connect('/raw/8a0170' + '81026f6b');
    const { client, rec, path, started } = made;
    expect(await started).toBeUndefined();
    const message = await nth(made, 'message');
    expect(message.data).toBe('ok');
    expect(rec.of('error')).toEqual([]);
    expect(client.state).toBe('open');
    await client.stop();
    expect((await py.closed(path)).code).toBe(1000);
    note('pong ignored; the next message arrived; stop() closed with 1000');
  });
});

describe('stop() against a peer that never answers (row 14)', () => {
  it('/silent: stop() sends Close, waits closeTimeoutMs, terminates; no timer and no socket left', async () => {
    const note = observe(14);
    const tcpBefore = tcpHandles();
    const clock = countingClock();
    const { client, path, started } = connect('/silent', { closeTimeoutMs: 300, clock });
    expect(await started).toBeUndefined();
    const t0 = performance.now();
    await client.stop();
    const tookMs = performance.now() - t0;
    expect(tookMs).toBeGreaterThanOrEqual(280);
    expect(tookMs).toBeLessThan(1_500);
    expect(client.state).toBe('stopped');
    expect(clock.pending()).toBe(0);
    expect((await py.closed(path)).code).toBe(1006);
    const tcpAfter = await settledTcpHandles(tcpBefore);
    expect(tcpAfter).toBe(tcpBefore);
    note(
      `stop() settled in ${Math.round(tookMs)} ms (closeTimeoutMs 300); 0 client timers; TCP handles back to ${tcpAfter}`,
    );
  });
});

describe('protocol violations by the server (rows 18-23, 25)', () => {
  const table: Array<[number, string, number]> = [
    [18, '/badclosecode/1005', 1002],
    [18, '/badclosecode/1006', 1002],
    [18, '/badclosecode/1015', 1002],
    [18, '/badclosecode/999', 1002],
    [19, '/closelen1', 1002],
    [19, '/closebadutf8', 1007],
    [20, '/badutf8', 1007],
    [21, '/maskedframe', 1002],
    [22, '/rsv', 1002],
    [22, '/opcode/3', 1002],
    [22, '/opcode/7', 1002],
    [22, '/opcode/11', 1002],
    [22, '/opcode/15', 1002],
    [22, '/badcont', 1002],
    [23, '/bigping', 1002],
    [23, '/fragctl', 1002],
  ];
  it.each(table)(
    'row %i: %s -> the client fails the connection with %i, python sees that code, no reconnect',
    async (row, route, code) => {
      const note = observe(row);
      const made = connect(route);
      const { client, rec, path } = made;
      await nth(made, 'stopped');
      const closed = rec.of('close');
      const errors = rec.of('error');
      expect(closed).toHaveLength(1);
      expect(closed[0]).toMatchObject({ code, class: 'fatal' });
      expect(errors.map((e) => [e.code, e.closeCode])).toContainEqual(['WSM_ERR_PROTOCOL', code]);
      const seen = await py.closed(path);
      expect(seen.code).toBe(code);
      expect(rec.of('reconnecting')).toEqual([]);
      expect(py.opened(path)).toHaveLength(1);
      expect(client.state).toBe('stopped');
      note(
        `client: close ${closed[0]!.code} (${closed[0]!.class}), ${errors[0]?.code}; python saw ${seen.code}; stopped, 1 connection`,
      );
    },
  );

  it('a message over maxPayloadBytes (2,000,000 > 1 MiB): 1009, python sees 1009, nothing buffered, no reconnect', async () => {
    const note = observe(25);
    const made = connect('/bigmsg/2000000', { maxPayloadBytes: 1024 * 1024 });
    const { client, rec, path } = made;
    await nth(made, 'stopped');
    const closed = rec.of('close');
    expect(closed).toHaveLength(1);
    expect(closed[0]).toMatchObject({ code: 1009, class: 'fatal' });
    expect(rec.of('error').map((e) => e.code)).toContain('WSM_ERR_MESSAGE_TOO_BIG');
    const seen = await py.closed(path);
    expect(seen.code).toBe(1009);
    expect(client.stats().bytesIn).toBe(0);
    expect(rec.of('reconnecting')).toEqual([]);
    expect(py.opened(path)).toHaveLength(1);
    note(
      `client: close 1009 (fatal), MessageTooBigError, 0 bytes delivered; python saw ${seen.code}; stopped`,
    );
  });
});

describe('valid but unusual traffic (rows 24, 26)', () => {
  it('a ping inside a fragmented message: "Hello" is delivered and the ping is answered', async () => {
    const note = observe(24);
    const made = connect('/fragping');
    const { client, rec, path, started } = made;
    expect(await started).toBeUndefined();
    const message = await nth(made, 'message');
    expect(message.data).toBe('Hello');
    const open = (await py.waitFor((e) => e.ev === 'open' && e.path === path, 'the connection')).id!;
    const pong = await py.waitFor((e) => e.ev === 'frame' && e.id === open && e.opcode === 10, 'the pong');
    expect(Buffer.from(pong.data!, 'hex').toString()).toBe('ping');
    expect(rec.of('error')).toEqual([]);
    await client.stop();
    note('"Hello" delivered; python received pong("ping"); no error');
  });

  it('a flood of 20,000 messages into a slow handler: all delivered in order, inbound queue bounded', async () => {
    const note = observe(26);
    const TOTAL = 20_000;
    const HIGH = 200;
    let expected = 0;
    let outOfOrder = 0;
    let resolveDone!: () => void;
    const done = new Promise<void>((resolve) => {
      resolveDone = resolve;
    });
    const { client, started } = connect(`/flood/${TOTAL}`, {
      inbound: { highWaterMark: HIGH, lowWaterMark: 50 },
      hooks: {
        onMessage: (m) => {
          if (m.data !== String(expected)) outOfOrder++;
          expected++;
          if (expected === TOTAL) resolveDone();
          // Every 50th message the handler is slow (yields a macrotask): the queue must not grow unbounded.
          return expected % 50 === 0 ? new Promise<void>((resolve) => setImmediate(resolve)) : undefined;
        },
      },
    });
    expect(await started).toBeUndefined();
    await done;
    const stats = client.stats();
    expect(outOfOrder).toBe(0);
    expect(stats.messagesIn).toBe(TOTAL);
    expect(stats.inboundDiscarded).toBe(0);
    // ws hands over a whole socket read (64 KiB: at most ~13,000 of these 3-7-byte frames) at once.
    expect(stats.inboundQueuePeak).toBeLessThan(HIGH + 2 * Math.ceil(65_536 / 5));
    await client.stop();
    note(
      `${stats.messagesIn} received in order; inboundQueuePeak ${stats.inboundQueuePeak} (highWaterMark ${HIGH})`,
    );
  }, 30_000);
});

// -------------------------------------------------------------------------------------------------

function tcpHandles(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;
}

/** Waits (a bounded number of event-loop turns) for closed sockets' handles to be released. */
async function settledTcpHandles(target: number): Promise<number> {
  for (let turn = 0; turn < 100 && tcpHandles() > target; turn++) {
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return tcpHandles();
}
