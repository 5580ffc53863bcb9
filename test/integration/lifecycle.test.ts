/**
 * The lifecycle against real `ws` servers on loopback: start/stop, a peer that never answers the
 * close frame, a killed server connection, and a server restarted on the same port.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createClient } from '../../src/node.js';
import {
  cleanup,
  decodeClientFrame,
  events,
  startUpgradeThenSilentServer,
  startWsServer,
  track,
  waitFor,
  waitForEvent,
} from '../helpers/servers.js';

afterEach(cleanup);

describe('start/stop round trip', () => {
  it('goes idle -> connecting -> opening -> open -> closing -> stopped and delivers a send', async () => {
    const server = await startWsServer();
    const client = track(createClient({ url: server.url, heartbeat: false }));
    const rec = events(client);
    expect(client.state).toBe('idle');

    await client.start();
    // start() resolves once the session is open.
    expect(client.state).toBe('open');
    expect(client.isOpen).toBe(true);
    expect(client.sessionId).toBe(1);
    expect(client.attempt).toBe(0);
    expect(rec.of('open')).toEqual([{ sessionId: 1, restarting: false, protocol: '', extensions: '' }]);

    expect(client.send('hello')).toBe('sent');
    expect(await server.waitForMessages(0, 1)).toEqual(['hello']);

    await client.stop();
    expect(client.state).toBe('stopped');
    expect(client.isOpen).toBe(false);
    expect(rec.transitions).toEqual([
      'idle->connecting',
      'connecting->opening',
      'opening->open',
      'open->closing',
      'closing->stopped',
    ]);
    expect(rec.of('stopped')).toHaveLength(1);
    expect(rec.of('reconnecting')).toHaveLength(0);
    expect(rec.of('error')).toEqual([]);
    // The server saw a normal close (1000), not a dropped connection.
    expect(await server.waitForClosed(0)).toEqual({ code: 1000, reason: '' });
    expect(server.connections).toHaveLength(1);
  });

  it('can start again after stop (a new session on a new connection)', async () => {
    const server = await startWsServer({ echo: true });
    const client = track(createClient({ url: server.url, heartbeat: false }));
    const rec = events(client);
    await client.start();
    await client.stop();
    rec.clear();

    await client.start();
    expect(client.state).toBe('open');
    expect(client.sessionId).toBe(2);
    expect(client.attempt).toBe(0);
    const echoed = waitForEvent(client, 'message');
    expect(client.send('again')).toBe('sent');
    expect((await echoed).data).toBe('again');
    expect(server.connections).toHaveLength(2);
    expect(rec.transitions).toEqual(['stopped->connecting', 'connecting->opening', 'opening->open']);
  });
});

describe('stop() against a peer that never answers the close frame', () => {
  it('settles after closeTimeoutMs, having sent a 1000 close frame, and destroys the socket', async () => {
    const peer = await startUpgradeThenSilentServer();
    const client = track(
      createClient({ url: peer.url, heartbeat: false, closeTimeoutMs: 200, stopTimeoutMs: 5_000 }),
    );
    const rec = events(client);
    await client.start();
    expect(client.state).toBe('open');

    const t0 = performance.now();
    await client.stop();
    const elapsed = performance.now() - t0;

    expect(client.state).toBe('stopped');
    // It waited for the close handshake (bounded by closeTimeoutMs), not ws's 30 s default.
    expect(elapsed).toBeGreaterThanOrEqual(150);
    expect(elapsed).toBeLessThan(1_500);
    // The peer got a proper close frame: opcode 8, code 1000.
    const frame = decodeClientFrame(await peer.waitForFrameBytes(0, 8));
    expect(frame).toMatchObject({ opcode: 0x8, code: 1000 });
    // And the client tore the TCP connection down.
    await peer.waitForAllClosed();
    expect(peer.open).toBe(0);
    expect(rec.of('close')).toHaveLength(1);
    expect(rec.of('close')[0]).toMatchObject({ code: 1000, wasClean: false });
    expect(rec.transitions.slice(-2)).toEqual(['open->closing', 'closing->stopped']);
  });

  it('is bounded by stopTimeoutMs when closeTimeoutMs is longer', async () => {
    const peer = await startUpgradeThenSilentServer();
    const client = track(
      createClient({ url: peer.url, heartbeat: false, closeTimeoutMs: 10_000, stopTimeoutMs: 250 }),
    );
    events(client);
    await client.start();

    const t0 = performance.now();
    await client.stop();
    const elapsed = performance.now() - t0;

    expect(client.state).toBe('stopped');
    expect(elapsed).toBeGreaterThanOrEqual(200);
    expect(elapsed).toBeLessThan(2_000);
    await peer.waitForAllClosed();
    expect(peer.open).toBe(0);
  });

  it('stop({ timeoutMs }) overrides stopTimeoutMs for that stop', async () => {
    const peer = await startUpgradeThenSilentServer();
    const client = track(
      createClient({ url: peer.url, heartbeat: false, closeTimeoutMs: 10_000, stopTimeoutMs: 10_000 }),
    );
    events(client);
    await client.start();

    const t0 = performance.now();
    await client.stop({ timeoutMs: 100 });
    expect(performance.now() - t0).toBeLessThan(1_500);
    expect(client.state).toBe('stopped');
    await peer.waitForAllClosed();
  });
});

describe('server killed', () => {
  it('reconnects by itself: open -> closing -> reconnecting -> connecting -> opening -> open', async () => {
    const server = await startWsServer();
    const client = track(createClient({ url: server.url, heartbeat: false, reconnect: { baseDelayMs: 0 } }));
    const rec = events(client);
    await client.start();
    expect(client.sessionId).toBe(1);
    expect(client.attempt).toBe(0);
    rec.clear();

    const reopened = waitForEvent(client, 'open');
    server.terminateAll();
    expect(await reopened).toEqual({ sessionId: 2, restarting: true, protocol: '', extensions: '' });

    expect(rec.transitions).toEqual([
      'open->closing',
      'closing->reconnecting',
      'reconnecting->connecting',
      'connecting->opening',
      'opening->open',
    ]);
    expect(client.state).toBe('open');
    expect(client.sessionId).toBe(2);
    expect(client.attempt).toBe(1);
    // The drop was seen as an abnormal close and classified as worth retrying.
    expect(rec.of('close')).toEqual([
      expect.objectContaining({ code: 1006, wasClean: false, sessionId: 1, class: 'transient' }),
    ]);
    expect(rec.of('reconnecting')).toEqual([expect.objectContaining({ attempt: 1, delayMs: 0 })]);
    expect(rec.of('connecting')).toEqual([expect.objectContaining({ attempt: 1 })]);
    expect(client.stats()).toMatchObject({ sessions: 2, reconnects: 1 });

    // The new session works.
    expect(client.send('after')).toBe('sent');
    expect(await server.waitForMessages(1, 1)).toEqual(['after']);
    expect(server.connections).toHaveLength(2);
  });

  it('each kill is one more reconnect; attempts count up while sessions are short-lived', async () => {
    const server = await startWsServer();
    const client = track(createClient({ url: server.url, heartbeat: false, reconnect: { baseDelayMs: 0 } }));
    events(client);
    await client.start();
    for (let i = 1; i <= 3; i++) {
      const reopened = waitForEvent(client, 'open');
      server.terminateAll();
      await reopened;
      expect(client.sessionId).toBe(i + 1);
      expect(client.attempt).toBe(i);
    }
    expect(server.connections).toHaveLength(4);
    expect(server.openConnections).toHaveLength(1);
  });
});

describe('server restarted on the same port', () => {
  it('keeps retrying while the server is down and opens again once it is back', async () => {
    const server = await startWsServer();
    const client = track(
      createClient({
        url: server.url,
        heartbeat: false,
        reconnect: { baseDelayMs: 10, maxDelayMs: 20, jitter: 'none' },
      }),
    );
    const rec = events(client);
    await client.start();
    rec.clear();

    await server.close();
    // Two failed reconnect dials (connection refused) while the server is down.
    await waitFor(client, () => rec.of('reconnecting').length >= 3, 'three reconnect waits');
    expect(client.isOpen).toBe(false);
    const failures = rec.of('close').slice(1);
    expect(failures.length).toBeGreaterThanOrEqual(2);
    for (const f of failures) {
      expect(f.error).toMatchObject({ code: 'WSM_ERR_CONNECT' });
    }

    const reopened = waitForEvent(client, 'open');
    await server.restart();
    const open = await reopened;
    expect(open.restarting).toBe(true);
    expect(client.state).toBe('open');
    expect(client.attempt).toBeGreaterThanOrEqual(3);
    expect(client.sessionId).toBe(1 + client.attempt);
    // Every step was a state the user could see, and only those.
    expect(rec.transitions.slice(0, 3)).toEqual([
      'open->closing',
      'closing->reconnecting',
      'reconnecting->connecting',
    ]);
    expect(rec.transitions.slice(-3)).toEqual([
      'reconnecting->connecting',
      'connecting->opening',
      'opening->open',
    ]);

    expect(client.send('back')).toBe('sent');
    const last = server.connections.length - 1;
    expect(await server.waitForMessages(last, 1)).toEqual(['back']);
  });
});
