/**
 * How start() fails against real peers: onOpen throwing (first start vs restart), a server that never
 * answers the upgrade, a closed port, session.exit() in onOpen, and rejected handshakes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  ClientStoppedError,
  ConnectError,
  HandshakeError,
  type HookError,
  OpenTimeoutError,
  StartError,
  createClient,
} from '../../src/node.js';
import {
  cleanup,
  events,
  freePortClosed,
  startRejectingServer,
  startSilentTcpServer,
  startWsServer,
  track,
  waitForEvent,
} from '../helpers/servers.js';

afterEach(cleanup);

/** The rejection of `promise`, failing the test if it resolves. */
async function rejectionOf(promise: Promise<unknown>): Promise<any> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject');
}

describe('onOpen throwing', () => {
  it('on the first start rejects start() with StartError whose cause is the thrown error; ends stopped', async () => {
    const server = await startWsServer();
    const boom = new Error('auth refused');
    const client = track(
      createClient({
        url: server.url,
        heartbeat: false,
        reconnect: { baseDelayMs: 0 },
        hooks: {
          onOpen: () => {
            throw boom;
          },
        },
      }),
    );
    const rec = events(client);

    const error = await rejectionOf(client.start());
    expect(error).toBeInstanceOf(StartError);
    expect(error.code).toBe('WSM_ERR_START');
    expect(error.cause).toBe(boom);
    expect(client.state).toBe('stopped');
    expect(rec.transitions).toEqual([
      'idle->connecting',
      'connecting->opening',
      'opening->closing',
      'closing->stopped',
    ]);
    // No retry on a failed first start (retryOnStart defaults to false).
    expect(rec.of('reconnecting')).toHaveLength(0);
    expect(rec.of('stopped')).toHaveLength(1);
    // The hook failure is reported naming the hook.
    expect(rec.of('error')).toEqual([expect.objectContaining({ code: 'WSM_ERR_HOOK', hook: 'onOpen' })]);
    expect((rec.of('error')[0] as HookError).cause).toBe(boom);
    // The server saw its only connection closed.
    await server.waitForClosed(0);
    expect(server.connections).toHaveLength(1);
  });

  it('on a restart closes that session and retries until onOpen succeeds', async () => {
    const server = await startWsServer();
    const boom = new Error('second session refused');
    const restartErrors: Array<{ error: unknown; attempt: number }> = [];
    let calls = 0;
    const client = track(
      createClient({
        url: server.url,
        heartbeat: false,
        reconnect: { baseDelayMs: 0 },
        hooks: {
          onOpen: (session, { restarting }) => {
            calls++;
            if (calls === 2) {
              expect(restarting).toBe(true);
              throw boom;
            }
            session.send(`hello ${session.id}`);
          },
          onRestartError: (error, { attempt }) => {
            restartErrors.push({ error, attempt });
          },
        },
      }),
    );
    const rec = events(client);
    await client.start();
    expect(client.sessionId).toBe(1);
    rec.clear();

    const reopened = waitForEvent(client, 'open');
    server.terminateAll();
    expect(await reopened).toMatchObject({ sessionId: 3, restarting: true });

    expect(calls).toBe(3);
    expect(client.state).toBe('open');
    expect(client.attempt).toBe(2);
    expect(rec.transitions).toEqual([
      'open->closing',
      'closing->reconnecting',
      'reconnecting->connecting',
      'connecting->opening',
      'opening->closing', // onOpen threw on session 2
      'closing->reconnecting',
      'reconnecting->connecting',
      'connecting->opening',
      'opening->open',
    ]);
    expect(rec.of('error')).toEqual([expect.objectContaining({ code: 'WSM_ERR_HOOK', hook: 'onOpen' })]);
    expect(restartErrors).toHaveLength(1);
    expect(restartErrors[0]!.attempt).toBe(1);
    expect(restartErrors[0]!.error).toBe(boom);
    // The failed session's connection was closed; the third one carries the session.
    expect(server.connections).toHaveLength(3);
    await server.waitForClosed(1);
    expect(await server.waitForMessages(2, 1)).toEqual(['hello 3']);
    expect(server.connections[1]!.received).toEqual([]);
  });
});

describe('a server that accepts TCP but never answers the upgrade', () => {
  it('start() rejects at openTimeoutMs with a timeout cause and leaves no socket behind', async () => {
    const silent = await startSilentTcpServer();
    const client = track(createClient({ url: silent.url, heartbeat: false, openTimeoutMs: 300 }));
    const rec = events(client);

    const t0 = performance.now();
    const error = await rejectionOf(client.start());
    const elapsed = performance.now() - t0;

    expect(error).toBeInstanceOf(StartError);
    expect(error.code).toBe('WSM_ERR_START');
    expect(error.cause).toBeInstanceOf(OpenTimeoutError);
    expect(error.cause.code).toBe('WSM_ERR_OPEN_TIMEOUT');
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(2_000);
    expect(client.state).toBe('stopped');
    // A dial that never opened has nothing to close: closing is passed through within one step.
    expect(rec.transitions).toEqual(['idle->connecting', 'connecting->stopped']);
    expect(silent.accepted).toBe(1);
    await silent.waitForAllClosed();
    expect(silent.open).toBe(0);
  });
});

describe('a port with nothing listening', () => {
  it('start() rejects with StartError whose cause is a ConnectError', async () => {
    const port = await freePortClosed();
    const client = track(createClient({ url: `ws://127.0.0.1:${port}`, heartbeat: false }));
    const rec = events(client);

    const error = await rejectionOf(client.start());
    expect(error).toBeInstanceOf(StartError);
    expect(error.cause).toBeInstanceOf(ConnectError);
    expect(error.cause.code).toBe('WSM_ERR_CONNECT');
    expect(error.cause.cause).toMatchObject({ code: 'ECONNREFUSED' });
    expect(client.state).toBe('stopped');
    expect(rec.of('reconnecting')).toHaveLength(0);
    expect(rec.of('stopped')).toHaveLength(1);
  });

  it('with retryOnStart, keeps trying until the server appears', async () => {
    const port = await freePortClosed();
    const client = track(
      createClient({
        url: `ws://127.0.0.1:${port}`,
        heartbeat: false,
        reconnect: { retryOnStart: true, baseDelayMs: 10, maxDelayMs: 20, jitter: 'none' },
      }),
    );
    const rec = events(client);
    const started = client.start();
    await waitForEvent(client, 'reconnecting', (r) => r.attempt >= 2);
    expect(client.isOpen).toBe(false);
    const server = await startWsServer({ port });
    await started;
    expect(client.state).toBe('open');
    expect(rec.of('reconnecting').length).toBeGreaterThanOrEqual(2);
    expect(server.connections).toHaveLength(1);
  });
});

describe('session.exit() inside onOpen', () => {
  it('rejects start(), ends stopped without reconnecting, and closes the connection', async () => {
    const server = await startWsServer();
    const client = track(
      createClient({
        url: server.url,
        heartbeat: false,
        reconnect: { baseDelayMs: 0 },
        hooks: {
          onOpen: (session) => {
            session.exit('not today');
          },
        },
      }),
    );
    const rec = events(client);

    const error = await rejectionOf(client.start());
    expect(error).toBeInstanceOf(StartError);
    expect(error.cause).toBeInstanceOf(ClientStoppedError);
    expect(client.state).toBe('stopped');
    expect(rec.transitions).toEqual([
      'idle->connecting',
      'connecting->opening',
      'opening->closing',
      'closing->stopped',
    ]);
    expect(rec.of('reconnecting')).toHaveLength(0);
    const closed = await server.waitForClosed(0);
    expect(closed.code).toBe(1000);
    expect(closed.reason).toBe('not today');
    expect(server.connections).toHaveLength(1);
  });
});

describe('handshake rejected', () => {
  it('401: StartError caused by HandshakeError with the status', async () => {
    const server = await startRejectingServer(401);
    const client = track(createClient({ url: server.url, heartbeat: false }));
    const rec = events(client);

    const error = await rejectionOf(client.start());
    expect(error).toBeInstanceOf(StartError);
    expect(error.cause).toBeInstanceOf(HandshakeError);
    expect(error.cause.code).toBe('WSM_ERR_HANDSHAKE');
    expect(error.cause.status).toBe(401);
    expect(error.cause.retryAfterMs).toBeUndefined();
    expect(client.state).toBe('stopped');
    expect(server.upgrades).toBe(1);
    expect(rec.of('close')).toEqual([expect.objectContaining({ status: 401 })]);
  });

  it('503 with Retry-After: the HandshakeError carries retryAfterMs', async () => {
    const server = await startRejectingServer(503, { 'Retry-After': '3' });
    const client = track(createClient({ url: server.url, heartbeat: false }));
    events(client);

    const error = await rejectionOf(client.start());
    expect(error).toBeInstanceOf(StartError);
    expect(error.cause).toBeInstanceOf(HandshakeError);
    expect(error.cause.status).toBe(503);
    expect(error.cause.retryAfterMs).toBe(3_000);
    expect(client.state).toBe('stopped');
    expect(server.upgrades).toBe(1);
  });
});
