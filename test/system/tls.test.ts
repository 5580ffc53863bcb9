/**
 * TLS defaults (FAULTS.md row 36): verification is on, a certificate error is fatal (no reconnect,
 * even with `retryOnStart`), and the client never falls back to `ws://`. The certificate is generated
 * at test time with Debian's `openssl` (a self-signed certificate for DNS:localhost only), served by a
 * Node `https` server with a `ws` server on it, on 127.0.0.1.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import type net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { createClient, createWsAdapter } from '../../src/node.js';
import type { ClientOptions } from '../../src/types.js';
import { observe } from '../faults/observe.js';
import { OPENSSL, requireOpenssl } from '../faults/peers.js';
import { cleanup, events, track, waitFor } from '../helpers/servers.js';

let dir = '';
let key = '';
let cert = '';

interface TlsServer {
  url: string;
  /** TCP connections accepted. */
  connections: number;
  /** HTTP requests (upgrades) that got through TLS. */
  upgrades: number;
  /** Codes of TLS handshakes the server saw fail (ERR_SSL_HTTP_REQUEST would mean plain ws://). */
  tlsErrors: string[];
  close(): Promise<void>;
}

const servers: TlsServer[] = [];

beforeAll(() => {
  requireOpenssl();
  dir = mkdtempSync(join(tmpdir(), 'wsm-tls-'));
  execFileSync(
    OPENSSL,
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  key = readFileSync(join(dir, 'key.pem'), 'utf8');
  cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
});

afterEach(async () => {
  await cleanup();
  for (const s of servers.splice(0)) await s.close();
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function startTlsServer(): Promise<TlsServer> {
  const server = https.createServer({ key, cert });
  const wss = new WebSocketServer({ server });
  const sockets = new Set<net.Socket>();
  const state: TlsServer = {
    url: '',
    connections: 0,
    upgrades: 0,
    tlsErrors: [],
    async close() {
      for (const c of wss.clients) c.terminate();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  server.on('connection', (s: net.Socket) => {
    state.connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('upgrade', () => {
    state.upgrades++;
  });
  server.on('tlsClientError', (error: NodeJS.ErrnoException) => {
    state.tlsErrors.push(error.code ?? 'unknown');
  });
  wss.on('connection', (ws) => {
    ws.on('error', () => {});
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `wss://127.0.0.1:${(server.address() as net.AddressInfo).port}/feed`;
  servers.push(state);
  return state;
}

function client(url: string, options: Partial<ClientOptions> = {}) {
  const c = track(
    createClient({
      url,
      heartbeat: false,
      reconnect: { baseDelayMs: 0, retryOnStart: true },
      ...options,
    }),
  );
  const rec = events(c);
  return { client: c, rec };
}

describe('TLS (row 36)', () => {
  it('a self-signed certificate fails the start with a TlsError, fatal: no retry, never ws://', async () => {
    const note = observe(36);
    const server = await startTlsServer();
    const { client: c, rec } = client(`${server.url}?token=SECRET`);
    const error = (await c.start().catch((e: unknown) => e)) as {
      code: string;
      cause?: { code?: string; message?: string };
    };
    expect(error).toMatchObject({ code: 'WSM_ERR_START', cause: { code: 'WSM_ERR_TLS' } });
    expect(error.cause?.message).toMatch(/self[- ]signed/i);
    await waitFor(c, () => c.state === 'stopped');
    expect(rec.of('close')).toHaveLength(1);
    expect(rec.of('close')[0]!.class).toBe('fatal');
    expect(rec.of('reconnecting')).toEqual([]);
    // One TCP connection, a TLS handshake only: no HTTP request ever reached the server, no plain retry.
    expect(server.connections).toBe(1);
    expect(server.upgrades).toBe(0);
    expect(server.tlsErrors).not.toContain('ERR_SSL_HTTP_REQUEST');
    // No secret from the URL in what the client reported.
    expect(`${String(error)} ${error.cause?.message} ${JSON.stringify(rec.log)}`).not.toContain('SECRET');
    note(
      `StartError <- TlsError ("${error.cause?.message}"); close class fatal; 1 TCP connection, 0 HTTP requests, no retry`,
    );
  });

  it('a trusted certificate for another host name (wrong host) is a TlsError too, and fatal', async () => {
    const note = observe(36);
    const server = await startTlsServer();
    const { client: c, rec } = client(server.url, { adapter: createWsAdapter({ ca: cert }) });
    const error = (await c.start().catch((e: unknown) => e)) as {
      cause?: { code?: string; message?: string };
    };
    expect(error.cause?.code).toBe('WSM_ERR_TLS');
    expect(error.cause?.message).toMatch(/altnames|does not match|IP: 127\.0\.0\.1/i);
    expect(rec.of('reconnecting')).toEqual([]);
    expect(server.upgrades).toBe(0);
    note(`wrong host: TlsError ("${error.cause?.message}"), no retry`);
  });

  it('control: with the CA trusted and the right server name the same server opens and echoes', async () => {
    const note = observe(36);
    const server = await startTlsServer();
    const { client: c } = client(server.url, {
      adapter: createWsAdapter({ ca: cert, servername: 'localhost' }),
    });
    await c.start();
    const reply = new Promise<unknown>((resolve) => c.once('message', (m) => resolve(m.data)));
    c.send('over tls');
    expect(await reply).toBe('over tls');
    await c.stop();
    expect(server.upgrades).toBe(1);
    note('with ca + servername: open, echo over wss, clean stop');
  });
});
