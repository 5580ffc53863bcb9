/**
 * `wsmachine/compat` reconnecting, against real `ws` servers (and a refused port, and a TCP server that
 * never answers the upgrade): what reconnecting-websocket's and partysocket's suites check about
 * retries, `maxRetries`, `reconnect()`, `startClosed`, the send queue, `connectionTimeout`,
 * `minUptime`, the delay growth and `debug`, as a user sees it. Time is collapsed with zero or
 * millisecond delays, or driven by a test clock; nothing sleeps.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { isErrorCode } from '../../src/node.js';
import { eventCount, nextEvent, openSocket, record } from '../helpers/compat.js';
import {
  cleanup,
  freePortClosed,
  startSilentTcpServer,
  startWsServer,
  waitFor,
  waitForEvent,
} from '../helpers/servers.js';
import { TestClock } from '../helpers/test-clock.js';

afterEach(cleanup);

const refusedUrl = async () => `ws://127.0.0.1:${await freePortClosed()}`;

describe('reconnecting', () => {
  it('reconnects when the server closes, keeping onX handlers and listeners', async () => {
    const server = await startWsServer({
      onConnection: (c) => {
        if (c.index < 2) c.socket.close(4000, `bye ${c.index}`);
      },
    });
    const ws = openSocket(server.url, undefined, { minReconnectionDelay: 0 });
    const rec = record(ws);
    const handlers: string[] = [];
    ws.onopen = () => handlers.push('open');
    ws.onclose = (e) => handlers.push(`close ${e.code} ${e.reason}`);
    await eventCount(rec, ws, 'open', 3);
    expect(handlers).toEqual(['open', 'close 4000 bye 0', 'open', 'close 4000 bye 1', 'open']);
    expect(rec.types).toEqual(['open', 'close', 'open', 'close', 'open']);
    expect(ws.readyState).toBe(ws.OPEN);
    ws.close();
    await nextEvent(ws, 'close');
    expect(server.connections).toHaveLength(3);
  });

  it('stays closed when close() is called from the close handler of a server close', async () => {
    const server = await startWsServer({ onConnection: (c) => c.socket.close(4000 + c.index, `${c.index}`) });
    const ws = openSocket(server.url, undefined, { minReconnectionDelay: 0 });
    ws.addEventListener('close', (e) => {
      expect(ws.readyState).toBe(ws.CLOSED); // also between attempts, as reconnecting-websocket reports it
      if (e.code === 4001) ws.close();
    });
    await waitForEvent(ws.client, 'stopped');
    expect(server.connections).toHaveLength(2);
    expect(ws.shouldReconnect).toBe(false);
  });

  for (const maxRetries of [0, 1, 3]) {
    it(`gives up after maxRetries: ${maxRetries} (retryCount reaches it and never exceeds it)`, async () => {
      const ws = openSocket(await refusedUrl(), undefined, { maxRetries, minReconnectionDelay: 0 });
      const counts: number[] = [];
      ws.onerror = (e) => {
        expect(e.message).not.toBe('TIMEOUT');
        counts.push(ws.retryCount);
      };
      await waitForEvent(ws.client, 'stopped');
      expect(counts).toEqual([...Array.from({ length: maxRetries }, (_, i) => i + 1), maxRetries]);
      expect(ws.retryCount).toBe(maxRetries);
      expect(ws.readyState).toBe(ws.CLOSED);
      expect(ws.shouldReconnect).toBe(false);
    });
  }

  it('reconnect() after giving up connects again, from a fresh retry count', async () => {
    const server = await startWsServer();
    const refused = await refusedUrl();
    let target = refused;
    const ws = openSocket(() => target, undefined, { maxRetries: 0, minReconnectionDelay: 0 });
    ws.onerror = () => {};
    await waitForEvent(ws.client, 'stopped');
    target = server.url;
    ws.reconnect();
    await nextEvent(ws, 'open');
    expect(ws.retryCount).toBe(0);
  });

  it('reconnect(code, reason) closes with them, dispatches that close, and opens again', async () => {
    const server = await startWsServer({ echo: true });
    const ws = openSocket(server.url, 'foobar', { minReconnectionDelay: 0 });
    const rec = record(ws);
    await nextEvent(ws, 'open');
    ws.reconnect(4100, 'reconnect');
    expect(ws.readyState).toBe(ws.CLOSING);
    const close = await nextEvent(ws, 'close');
    expect([close.code, close.reason, close.wasClean]).toEqual([4100, 'reconnect', true]);
    expect(await server.waitForClosed(0)).toEqual({ code: 4100, reason: 'reconnect' });
    await eventCount(rec, ws, 'open', 2);
    expect(ws.protocol).toBe('foobar');
    ws.reconnect(); // 1000 by default, as reconnecting-websocket closes
    expect(await server.waitForClosed(1)).toEqual({ code: 1000, reason: '' });
    await eventCount(rec, ws, 'open', 3);
    ws.send('still here');
    expect((await nextEvent(ws, 'message')).data).toBe('still here');
  });

  it('reconnect() twice before the first open: one connection opens', async () => {
    const server = await startWsServer();
    const ws = openSocket(server.url, undefined, { minReconnectionDelay: 0 });
    const rec = record(ws);
    ws.reconnect();
    ws.reconnect();
    await nextEvent(ws, 'open');
    expect(rec.of('open')).toHaveLength(1);
    expect(server.openConnections).toHaveLength(1);
  });

  it('close() then reconnect() at once: one close event, then a new connection once the close completed', async () => {
    const server = await startWsServer();
    const ws = openSocket(server.url, undefined, { minReconnectionDelay: 10 });
    const rec = record(ws);
    await nextEvent(ws, 'open');
    ws.close(1000, 'closing');
    ws.reconnect();
    await eventCount(rec, ws, 'open', 2);
    expect(rec.types).toEqual(['open', 'close', 'open']);
    expect(rec.of('close')[0].reason).toBe('closing');
    expect(await server.waitForClosed(0)).toEqual({ code: 1000, reason: 'closing' });
  });

  it('shouldReconnectOnClose returning false stops before the close listeners run; reconnect() re-enables', async () => {
    const server = await startWsServer({
      onConnection: (c) => {
        if (c.index === 0) c.socket.close(4008, 'policy');
      },
    });
    const seen: number[] = [];
    const ws = openSocket(server.url, undefined, {
      minReconnectionDelay: 0,
      shouldReconnectOnClose: (e) => {
        seen.push(e.code);
        return e.code !== 4008;
      },
    });
    const close = await nextEvent(ws, 'close');
    expect([close.code, close.reason]).toEqual([4008, 'policy']);
    expect(seen).toEqual([4008]);
    expect(ws.shouldReconnect).toBe(false);
    await waitFor(ws.client, () => ws.client.state === 'stopped', 'stopped');
    ws.reconnect();
    await nextEvent(ws, 'open');
    expect(server.connections).toHaveLength(2);
  });
});

describe('startClosed', () => {
  it('stays CLOSED with no connection until reconnect(), then connects, sends and receives', async () => {
    const server = await startWsServer({ echo: true });
    const ws = openSocket(server.url, 'foobar', { startClosed: true });
    ws.send('queued before the first dial');
    expect(ws.readyState).toBe(ws.CLOSED);
    expect(ws.client.state).toBe('idle');
    expect(server.connections).toHaveLength(0);
    ws.reconnect();
    expect(ws.readyState).toBe(ws.CONNECTING);
    await nextEvent(ws, 'open');
    expect([ws.protocol, ws.readyState]).toEqual(['foobar', ws.OPEN]);
    expect((await nextEvent(ws, 'message')).data).toBe('queued before the first dial');
  });
});

describe('the send queue', () => {
  it('flushes messages sent before open in order, before those sent from the open handler', async () => {
    const server = await startWsServer();
    const ws = openSocket(server.url);
    const messages = ['message1', 'message2', 'message3'];
    for (const m of messages) expect(ws.send(m)).toBe(false);
    expect(ws.bufferedAmount).toBe(messages.join('').length);
    ws.addEventListener('open', () => ws.send('ok'));
    expect(await server.waitForMessages(0, 4)).toEqual([...messages, 'ok']);
    expect(ws.bufferedAmount).toBe(0);
  });

  it('reports a send past maxEnqueuedMessages as an error event instead of dropping it silently', async () => {
    const ws = openSocket(await refusedUrl(), undefined, { maxEnqueuedMessages: 2, maxRetries: 0 });
    const errors: any[] = [];
    ws.onerror = (e) => errors.push(e);
    const results = Array.from({ length: 4 }, (_, i) => ws.send(`message ${i}`));
    expect(results).toEqual([false, false, false, false]);
    expect(errors.map((e) => e.error.code)).toEqual(['WSM_ERR_SEND_BUFFER_FULL', 'WSM_ERR_SEND_BUFFER_FULL']);
    expect(errors[0].message).toMatch(/send buffer is full.*not queued/);
    expect(ws.bufferedAmount).toBe('message 0'.length * 2);
    // Giving up reports what was still queued: nothing is lost without a trace.
    await waitForEvent(ws.client, 'stopped');
    const undelivered = errors.find((e) => e.error.code === 'WSM_ERR_UNDELIVERED');
    expect(undelivered.message).toMatch(/^2 queued message\(s\) will not be delivered/);
  });

  it('with maxEnqueuedMessages: 0 queues nothing and reports every send while not open', async () => {
    const server = await startWsServer();
    const ws = openSocket(server.url, undefined, { maxEnqueuedMessages: 0 });
    const errors: any[] = [];
    ws.onerror = (e) => errors.push((e.error as { code: string }).code);
    expect(ws.send('too early')).toBe(false);
    expect(errors).toEqual(['WSM_ERR_NOT_OPEN']);
    await nextEvent(ws, 'open');
    expect(ws.send('in time')).toBe(true);
    expect(await server.waitForMessages(0, 1)).toEqual(['in time']);
  });

  it('reports a send after close() (nothing would ever deliver it) and the sends still queued at close()', async () => {
    const silent = await startSilentTcpServer();
    const ws = openSocket(silent.url, undefined, { connectionTimeout: 0 });
    const errors: any[] = [];
    ws.onerror = (e) => errors.push(e);
    ws.send('queued');
    ws.close();
    await waitFor(ws.client, () => ws.client.state === 'stopped', 'stopped');
    expect(ws.send('too late')).toBe(false);
    expect(errors.map((e) => e.error.code)).toEqual(['WSM_ERR_UNDELIVERED', 'WSM_ERR_NOT_OPEN']);
  });
});

describe('timeouts and delays', () => {
  it('connectionTimeout: a server that accepts TCP but never answers gives TIMEOUT errors, then retries', async () => {
    const silent = await startSilentTcpServer();
    const ws = openSocket(silent.url, undefined, {
      connectionTimeout: 100,
      maxRetries: 1,
      minReconnectionDelay: 0,
    });
    const errors: Array<{ message: string; retryCount: number }> = [];
    ws.addEventListener('error', (e) => errors.push({ message: e.message, retryCount: ws.retryCount }));
    await waitForEvent(ws.client, 'stopped');
    expect(errors).toEqual([
      { message: 'TIMEOUT', retryCount: 1 },
      { message: 'TIMEOUT', retryCount: 1 },
    ]);
    await silent.waitForAccepted(2);
  });

  it('grows the delay cap by reconnectionDelayGrowFactor up to maxReconnectionDelay', async () => {
    const ws = openSocket(await refusedUrl(), [], {
      minReconnectionDelay: 1,
      maxReconnectionDelay: 8,
      reconnectionDelayGrowFactor: 2,
      maxRetries: 6,
      clientOptions: { reconnect: { jitter: 'none' } },
    });
    ws.onerror = () => {};
    const delays: number[] = [];
    ws.client.on('reconnecting', ({ delayMs }) => delays.push(delayMs));
    await waitForEvent(ws.client, 'stopped');
    expect(delays).toEqual([1, 2, 4, 8, 8, 8]);
  });

  it('caps every delay at maxReconnectionDelay, the first one too, as reconnecting-websocket does', async () => {
    // Their own suite sets maxReconnectionDelay below the default minReconnectionDelay.
    const ws = openSocket(await refusedUrl(), [], {
      minReconnectionDelay: 1_000 + 0.4, // theirs was fractional (1000 + Math.random() * 4000)
      maxReconnectionDelay: 5,
      maxRetries: 3,
      clientOptions: { reconnect: { jitter: 'none', maxDelayMs: 60_000 } }, // the named option wins
    });
    ws.onerror = () => {};
    const delays: number[] = [];
    ws.client.on('reconnecting', ({ delayMs }) => delays.push(delayMs));
    await waitForEvent(ws.client, 'stopped');
    expect(delays).toEqual([5, 5, 5]);
  });

  it('minUptime: the retry count resets only after a connection stayed open that long', async () => {
    const clock = new TestClock();
    const server = await startWsServer();
    const ws = openSocket(server.url, [], {
      minReconnectionDelay: 100,
      maxReconnectionDelay: 2_000,
      reconnectionDelayGrowFactor: 2,
      minUptime: 500,
      clientOptions: { clock, heartbeat: false, reconnect: { jitter: 'none' } },
    });
    const rec = record(ws);
    const delays: number[] = [];
    ws.client.on('reconnecting', ({ delayMs }) => delays.push(delayMs));
    const dropAndReopen = async (uptimeMs: number) => {
      const opens = rec.of('open').length;
      clock.advance(uptimeMs);
      server.terminateAll();
      await waitForEvent(ws.client, 'reconnecting');
      clock.advance(delays.at(-1)!);
      await eventCount(rec, ws, 'open', opens + 1);
    };
    await nextEvent(ws, 'open');
    const retryCounts: number[] = [];
    for (const uptime of [100, 100, 100, 600, 600]) {
      await dropAndReopen(uptime);
      retryCounts.push(ws.retryCount);
    }
    expect(delays).toEqual([100, 200, 400, 100, 100]);
    expect(retryCounts).toEqual([1, 2, 3, 1, 1]);
  });
});

describe('options', () => {
  it('WebSocket: a constructor given in options is used (here ws’s class, through the native adapter)', async () => {
    const server = await startWsServer({ echo: true });
    const constructed: string[] = [];
    class CountingWebSocket extends WebSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols);
        constructed.push(url);
      }
    }
    const ws = openSocket(server.url, undefined, { WebSocket: CountingWebSocket, maxRetries: 0 });
    ws.binaryType = 'arraybuffer';
    await nextEvent(ws, 'open');
    expect(constructed).toEqual([server.url]);
    ws.send(new Uint8Array([4, 5]));
    const { data } = await nextEvent(ws, 'message');
    expect([...new Uint8Array(data)]).toEqual([4, 5]);
  });

  it('debug: RWS> lines like reconnecting-websocket’s, through debugLogger or console.log; none when off', async () => {
    const refused = await refusedUrl();
    const lines: unknown[][] = [];
    const ws = openSocket(refused, undefined, {
      maxRetries: 0,
      debug: true,
      debugLogger: (...args) => lines.push(args),
    });
    ws.onerror = () => {};
    await waitForEvent(ws.client, 'stopped');
    expect(lines.every((l) => l[0] === 'RWS>')).toBe(true);
    expect(lines).toContainEqual(['RWS>', 'connect', 0]);
    expect(lines.map((l) => l[1])).toEqual(
      expect.arrayContaining(['state', 'connect', 'error event', 'close event', 'max retries reached']),
    );

    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const loud = openSocket(refused, undefined, { maxRetries: 0, debug: true });
    loud.onerror = () => {};
    const quiet = openSocket(refused, undefined, { maxRetries: 0 });
    quiet.onerror = () => {};
    await Promise.all([waitForEvent(loud.client, 'stopped'), waitForEvent(quiet.client, 'stopped')]);
    expect(log).toHaveBeenCalledWith('RWS>', 'connect', 0);
    expect(log.mock.calls.every((c) => c[0] === 'RWS>')).toBe(true);
    const loudLines = log.mock.calls.length;
    expect(loudLines).toBe(lines.length);
    log.mockRestore();
  });

  it('ws.client is the wsmachine client underneath: its state, stats and requests work through the facade', async () => {
    const server = await startWsServer({ echo: true });
    const ws = openSocket(server.url, undefined, {
      clientOptions: {
        requests: { key: { request: (_d, id) => id, response: (m) => (m.data as string).split(':')[0] } },
      },
    });
    const onmessage: string[] = [];
    ws.onmessage = (e) => onmessage.push(e.data);
    await nextEvent(ws, 'open');
    expect(ws.client.state).toBe('open');
    const reply = await ws.client.request('7:ping', { params: '7' });
    expect(reply.data).toBe('7:ping');
    ws.send('plain');
    await nextEvent(ws, 'message');
    // A response consumed by request() is not a message event; a plain message is.
    expect(onmessage).toEqual(['plain']);
    expect(ws.client.stats().messagesIn).toBe(2);
    expect(
      isErrorCode(
        await ws.client.request('x', { params: '7', timeoutMs: 1 }).catch((e) => e),
        'WSM_ERR_REQUEST_TIMEOUT',
      ),
    ).toBe(true);
  });

  it('clientOptions.hooks run beside the facade: onMessage too, onClose’s frame unless reconnect() chose one', async () => {
    const server = await startWsServer({ echo: true });
    const hooked: string[] = [];
    const ws = openSocket(server.url, undefined, {
      minReconnectionDelay: 0,
      clientOptions: {
        hooks: {
          onMessage: (m) => {
            hooked.push(`onMessage ${m.data as string}`);
          },
          onClose: async (info) => {
            hooked.push(`onClose ${info.requested}`);
            return { code: 4555, reason: 'from the hook' };
          },
        },
      },
    });
    const seen: string[] = [];
    ws.onmessage = (e) => seen.push(e.data);
    await nextEvent(ws, 'open');
    ws.send('one');
    await nextEvent(ws, 'message');
    ws.reconnect(4100, 'mine');
    expect(await server.waitForClosed(0)).toEqual({ code: 4100, reason: 'mine' });
    await waitFor(ws.client, () => ws.readyState === ws.OPEN, 'reopened');
    ws.client.restart('the client’s own restart');
    expect(await server.waitForClosed(1)).toEqual({ code: 4555, reason: 'from the hook' });
    expect(seen).toEqual(['one']);
    expect(hooked).toEqual(['onMessage one', 'onClose true', 'onClose true']);
  });

  it('a throwing URL provider is an error event and a retry, not an unhandled rejection', async () => {
    const server = await startWsServer();
    let calls = 0;
    const ws = openSocket(
      async () => {
        calls++;
        if (calls === 1) throw new Error('ticket service down');
        return server.url;
      },
      undefined,
      { minReconnectionDelay: 0 },
    );
    const error = await nextEvent(ws, 'error');
    expect(error.message).toMatch(/ticket service down/);
    await nextEvent(ws, 'open');
    await waitFor(ws.client, () => ws.readyState === ws.OPEN);
  });
});
