/**
 * The fault suite behind a real reverse proxy: Debian's nginx-light in front of a loopback `ws` server
 * (FAULTS.md rows 7, 32-35). Each test starts its own backend and its own nginx (a free port picked
 * first: nginx cannot listen on port 0), with prefix, config, pid and logs in a temporary directory;
 * nginx is stopped after each test and again in afterAll as a safety net.
 *
 * The config has `/idle/` with proxy_read_timeout 1 s and `worker_shutdown_timeout 1s`, so that the
 * proxy's idle timeout and the drain of a reload or graceful quit take about a second, not a minute.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { type WsClient, createClient } from '../../src/node.js';
import type { ClientEvents, ClientOptions } from '../../src/types.js';
import { observe } from '../faults/observe.js';
import { type Nginx, requireNginx, startNginx } from '../faults/peers.js';
import {
  type Recorder,
  type TestWsServer,
  cleanup,
  events,
  startWsServer,
  track,
  waitFor,
} from '../helpers/servers.js';

const proxies = new Set<Nginx>();

afterEach(async () => {
  await cleanup();
  for (const p of proxies) await p.stop();
  proxies.clear();
});
afterAll(async () => {
  for (const p of proxies) await p.stop();
});

async function setup(): Promise<{ backend: TestWsServer; nginx: Nginx }> {
  const backend = await startWsServer({ echo: true });
  const nginx = await startNginx({ backendPort: backend.port, idleTimeoutS: 1, shutdownTimeoutS: 1 });
  proxies.add(nginx);
  return { backend, nginx };
}

function connect(url: string, options: Partial<ClientOptions> = {}): { client: WsClient; rec: Recorder } {
  const client = track(
    createClient({
      url,
      heartbeat: false,
      closeTimeoutMs: 500,
      ...options,
      reconnect: { baseDelayMs: 50, maxDelayMs: 200, ...(options.reconnect || {}) },
    }),
  );
  return { client, rec: events(client) };
}

/** The n-th recorded event of a type (1-based), however long ago it fired. */
async function nth<K extends keyof ClientEvents>(
  client: WsClient,
  rec: Recorder,
  type: K & Parameters<Recorder['of']>[0],
  n = 1,
  timeoutMs = 8_000,
): Promise<ClientEvents[K]> {
  await waitFor(client, () => rec.of(type).length >= n, `${n} '${type}' event(s)`, timeoutMs);
  return rec.of(type)[n - 1] as ClientEvents[K];
}

describe('nginx-light', () => {
  it('is installed (Debian nginx-light)', () => {
    expect(requireNginx()).toMatch(/nginx/);
  });
});

describe('proxy idle timeout (row 32)', () => {
  it('/idle/ (proxy_read_timeout 1 s): a heartbeat every 300 ms keeps the connection open past it', async () => {
    const note = observe(32);
    const { nginx } = await setup();
    const { client, rec } = connect(nginx.url('/idle/'), { heartbeat: { intervalMs: 300, timeoutMs: 600 } });
    await client.start();
    const t0 = performance.now();
    // 7 answered pings span ~2.1 s: twice the proxy's idle timeout.
    await nth(client, rec, 'pong', 7);
    const openMs = performance.now() - t0;
    expect(openMs).toBeGreaterThan(1_500);
    expect(rec.of('close')).toEqual([]);
    expect(client.state).toBe('open');
    expect(client.stats().sessions).toBe(1);
    await client.stop();
    note(`open for ${Math.round(openMs)} ms through a 1 s idle timeout with 300 ms pings; 0 closes`);
  });

  it('/idle/ without a heartbeat: nginx drops the idle connection after ~1 s with 1006, then the client reconnects', async () => {
    const note = observe(32);
    const { nginx } = await setup();
    const { client, rec } = connect(nginx.url('/idle/'));
    await client.start();
    const t0 = performance.now();
    const closed = await nth(client, rec, 'close');
    const idleMs = performance.now() - t0;
    expect(closed).toMatchObject({ code: 1006, wasClean: false, class: 'transient' });
    expect(idleMs).toBeGreaterThan(900);
    expect(idleMs).toBeLessThan(3_000);
    await nth(client, rec, 'open', 2);
    await client.stop();
    note(`idle connection closed by nginx after ${Math.round(idleMs)} ms: ${closed.code}; reconnected`);
  });
});

describe('proxy reload and graceful quit (row 33)', () => {
  it('nginx -s reload: the old worker drains (1006 after worker_shutdown_timeout), the client reconnects to the new one', async () => {
    const note = observe(33);
    const { nginx, backend } = await setup();
    const { client, rec } = connect(nginx.url('/'));
    await client.start();
    const t0 = performance.now();
    await nginx.reload();
    const closed = await nth(client, rec, 'close');
    const drainMs = performance.now() - t0;
    expect(closed).toMatchObject({ code: 1006, wasClean: false });
    await nth(client, rec, 'open', 2);
    // The new session works end to end.
    client.send('after reload');
    await backend.waitForMessages(1, 1);
    await client.stop();
    note(
      `reload: 1006 after ${Math.round(drainMs)} ms (worker_shutdown_timeout 1 s), then reopened through the new worker`,
    );
  });

  it('nginx -s quit: 1006, reconnect attempts back off while nginx is down, and reopen once it is back', async () => {
    const note = observe(33);
    const { nginx } = await setup();
    const { client, rec } = connect(nginx.url('/'));
    await client.start();
    await nginx.quit();
    const closed = await nth(client, rec, 'close');
    expect(closed).toMatchObject({ code: 1006, wasClean: false });
    // At least one failed dial while nginx is down, each followed by a backoff.
    await nth(client, rec, 'reconnecting', 2);
    const delays = rec.of('reconnecting').map((r) => r.delayMs);
    await nginx.start();
    await nth(client, rec, 'open', 2);
    await client.stop();
    note(
      `quit: close ${closed.code}; ${delays.length} backoff waits (${delays.join(', ')} ms) while down; reopened after restart`,
    );
  });
});

describe('backend dies behind the proxy (rows 34, 7)', () => {
  it('1006 at once, then 502 at the upgrade (HandshakeError, backoff), then reopen when the backend is back', async () => {
    const note = observe(34);
    const note7 = observe(7);
    const { nginx, backend } = await setup();
    const { client, rec } = connect(nginx.url('/'));
    await client.start();
    const t0 = performance.now();
    await backend.close();
    const closed = await nth(client, rec, 'close');
    const dropMs = performance.now() - t0;
    expect(closed).toMatchObject({ code: 1006, wasClean: false });
    expect(dropMs).toBeLessThan(500);
    // The next attempt reaches nginx, which answers 502: a transient handshake error with a backoff.
    const second = await nth(client, rec, 'close', 2);
    expect(second).toMatchObject({ status: 502, class: 'transient' });
    const retry = await nth(client, rec, 'reconnecting', 2);
    expect(retry.cause).toMatchObject({ code: 'WSM_ERR_HANDSHAKE', status: 502 });
    expect(retry.delayMs).toBeGreaterThanOrEqual(0);
    await backend.restart();
    await nth(client, rec, 'open', 2);
    await client.stop();
    note(
      `backend killed: client 1006 after ${Math.round(dropMs)} ms; next upgrade 502 -> reconnecting; reopened after the backend restarted`,
    );
    note7(
      `nginx answered 502 with the backend down: HandshakeError status 502, transient, backoff ${retry.delayMs} ms`,
    );
  });
});

describe('secrets in URLs (row 35)', () => {
  it("nginx's access log records the query string (a URL token leaks) but not the Authorization header", async () => {
    const note = observe(35);
    const { nginx, backend } = await setup();
    const { client, rec } = connect(nginx.url('/feed?token=SECRET-IN-QUERY'), {
      headers: { Authorization: 'Bearer SECRET-IN-HEADER' },
    });
    let authorization: string | undefined;
    backend.wss.once('connection', (_socket, request) => {
      authorization = request.headers.authorization;
    });
    await client.start();
    await backend.waitForConnections(1);
    await client.stop();
    const log = await nginx.waitForAccessLog((l) => l.includes('GET /feed'), 'the request line');
    // What the proxy wrote to disk: the query token, never the header.
    expect(log).toContain('token=SECRET-IN-QUERY');
    expect(log).not.toContain('SECRET-IN-HEADER');
    // The header did reach the backend: it is the channel to use.
    expect(authorization).toBe('Bearer SECRET-IN-HEADER');
    // What the client reported: the URL redacted, no secret in any event.
    expect(rec.of('connecting')[0]!.url).toBe(`${nginx.url('/feed')}?token=***`);
    expect(JSON.stringify(rec.log)).not.toContain('SECRET');
    note(
      'access log: "GET /feed?token=SECRET-IN-QUERY ..." (query logged), header not logged; client events show token=***',
    );
  });
});
