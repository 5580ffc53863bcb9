/**
 * Security defaults (issue 11, FAULTS.md row 35; TLS is row 36 in test/system/tls.test.ts):
 * - no credentials or query strings in error messages, events or console output;
 * - redirects are not followed unless asked (a 3xx upgrade response is a handshake error), and when
 *   asked, the Authorization header never crosses to another host;
 * - maxPayloadBytes has a default that reaches the adapter and is enforced (1009);
 * - every queue and wait has a finite default bound.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DEFAULTS, type WsClient, createClient, createWsAdapter, isWsmError } from '../../src/node.js';
import type { SocketAdapter } from '../../src/transport/adapter.js';
import type { ClientOptions } from '../../src/types.js';
import { observe } from '../faults/observe.js';
import {
  type Recorder,
  cleanup,
  events,
  freePortClosed,
  startRejectingServer,
  startWsServer,
  track,
  waitFor,
} from '../helpers/servers.js';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await cleanup();
  for (const close of closers.splice(0)) await close();
  vi.restoreAllMocks();
});

const SECRETS = ['QUERYSECRET', 'p4sSw0rd', 'HEADERSECRET'];

/** Every text a user could see: messages of errors and their causes, event payloads. */
function everything(value: unknown, seen = new Set<unknown>()): string {
  if (value === null || value === undefined) return '';
  if (typeof value !== 'object') return String(value);
  if (seen.has(value)) return '';
  seen.add(value);
  const parts: string[] = [];
  if (value instanceof Error) {
    parts.push(value.name, value.message, String(value), value.stack ?? '');
    parts.push(everything((value as { cause?: unknown }).cause, seen));
  }
  for (const v of Object.values(value)) parts.push(everything(v, seen));
  return parts.join('\n');
}

function expectNoSecret(text: string): void {
  for (const s of SECRETS) expect(text).not.toContain(s);
}

function make(options: ClientOptions): { client: WsClient; rec: Recorder } {
  const client = track(createClient({ heartbeat: false, closeTimeoutMs: 300, ...options }));
  return { client, rec: events(client) };
}

describe('no secrets in errors, events or logs (row 35)', () => {
  it('a URL with user info and a query token: redacted in every error, event and console line', async () => {
    const note = observe(35);
    const port = await freePortClosed();
    const rejecting = await startRejectingServer(401);
    const rejectingPort = new URL(rejecting.url).port;
    const consoleLines: string[] = [];
    let printed!: () => void;
    const firstLine = new Promise<void>((resolve) => {
      printed = resolve;
    });
    vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => {
      consoleLines.push(args.map((a) => everything(a)).join(' '));
      printed();
    });
    const seen: unknown[] = [];
    const cases: Array<Partial<ClientOptions>> = [
      // Dial refused (ConnectError), with reconnects (reconnecting events carry the cause).
      {
        url: `ws://user:p4sSw0rd@127.0.0.1:${port}/feed?token=QUERYSECRET`,
        reconnect: { baseDelayMs: 0, maxAttempts: 2, retryOnStart: true },
      },
      // Upgrade rejected (HandshakeError), with a header secret too.
      {
        url: `ws://user:p4sSw0rd@127.0.0.1:${rejectingPort}/?token=QUERYSECRET`,
        headers: { Authorization: 'Bearer HEADERSECRET' },
      },
      // A url function returning something unusable (ConnectError naming the URL, redacted).
      { url: () => `ws://127.0.0.1:99999/?token=QUERYSECRET` },
      { url: () => `http2://user:p4sSw0rd@127.0.0.1:1/?token=QUERYSECRET` },
      // A fragment is not sent, and not shown either.
      { url: `ws://127.0.0.1:${port}/#QUERYSECRET` },
    ];
    for (const options of cases) {
      const { client, rec } = make(options as ClientOptions);
      seen.push(await client.start().catch((e: unknown) => e));
      await waitFor(client, () => client.state === 'stopped', 'stopped');
      seen.push(rec.log);
      expect(rec.of('error').length).toBeGreaterThan(0);
    }
    // Without any error listener the client reports on console.error: redacted too. (Dial errors of
    // a start the caller still awaits are printed; the one that rejects start() is the caller's.)
    const quiet = track(
      createClient({
        url: `ws://user:p4sSw0rd@127.0.0.1:${port}/?token=QUERYSECRET`,
        heartbeat: false,
        reconnect: { baseDelayMs: 10, retryOnStart: true },
      }),
    );
    const started = quiet.start().catch((e: unknown) => e);
    await firstLine;
    await quiet.stop();
    seen.push(await started);
    expect(consoleLines.length).toBeGreaterThan(0);
    // Invalid options name the option and show the value, redacted.
    for (const url of [
      'ftp://user:p4sSw0rd@host/?token=QUERYSECRET',
      new URL('ftp://u:p4sSw0rd@h/?t=QUERYSECRET'),
    ]) {
      let thrown: unknown;
      try {
        createClient({ url: url as string });
      } catch (error) {
        thrown = error;
      }
      expect(isWsmError(thrown) && thrown.code).toBe('WSM_ERR_INVALID_OPTIONS');
      seen.push(thrown);
    }
    const text = everything(seen) + consoleLines.join('\n');
    expectNoSecret(text);
    // The facts are still there: host, port, status, the redacted URL.
    expect(text).toContain(`ws://***@127.0.0.1:${port}/feed?token=***`);
    expect(text).toContain('ECONNREFUSED');
    expect(text).toContain('401');
    note(
      '5 failure paths + console.error + InvalidOptionsError: user info, query values, fragment and headers never shown; URLs appear as ws://***@host/path?token=***',
    );
  });
});

describe('redirects (row 35)', () => {
  /** An HTTP server that answers every upgrade with a redirect to `location`. */
  async function redirecting(location: string): Promise<{ url: string; upgrades: number }> {
    const state = { url: '', upgrades: 0 };
    const server = http.createServer();
    const sockets = new Set<net.Socket>();
    server.on('connection', (s: net.Socket) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    server.on('upgrade', (_req, socket: net.Socket) => {
      state.upgrades++;
      socket.end(
        `HTTP/1.1 302 Found\r\nLocation: ${location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`,
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    state.url = `ws://127.0.0.1:${(server.address() as net.AddressInfo).port}/`;
    closers.push(async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
    return state;
  }

  it('a 3xx answer to the upgrade is a HandshakeError; the Location is never contacted by default', async () => {
    const note = observe(35);
    const target = await startWsServer();
    const from = await redirecting(`${target.url}/elsewhere`);
    const { client, rec } = make({
      url: from.url,
      reconnect: { baseDelayMs: 0, maxAttempts: 2, retryOnStart: true },
    });
    const error = (await client.start().catch((e: unknown) => e)) as {
      cause?: { code?: string; status?: number };
    };
    expect(error.cause).toMatchObject({ code: 'WSM_ERR_HANDSHAKE', status: 302 });
    await waitFor(client, () => client.state === 'stopped', 'stopped');
    expect(target.connections).toHaveLength(0);
    expect(from.upgrades).toBeGreaterThanOrEqual(1);
    note(
      `302 -> HandshakeError status 302 (${rec.of('close').length} attempt(s)); the redirect target saw 0 connections`,
    );
  });

  it('followRedirects: true (asked for): followed, but the Authorization header does not cross to another host', async () => {
    const note = observe(35);
    const target = await startWsServer();
    let authorization: string | undefined = 'not seen';
    let host: string | undefined;
    target.wss.on('connection', (_s, request) => {
      authorization = request.headers.authorization;
      host = request.headers.host;
    });
    // Same IP, another port: another host for the purpose of credentials.
    const from = await redirecting(`ws://localhost:${target.port}/`);
    const { client } = make({
      url: from.url,
      headers: { Authorization: 'Bearer HEADERSECRET' },
      adapter: createWsAdapter({ followRedirects: true }),
    });
    await client.start();
    await target.waitForConnections(1);
    expect(authorization).toBeUndefined();
    expect(host).toBe(`localhost:${target.port}`);
    await client.stop();
    note('redirect followed only with followRedirects: true; the other host got no Authorization header');
  });
});

describe('size and queue limits', () => {
  /** A raw server that upgrades by hand and then announces one binary frame of `length` bytes. */
  async function announcingServer(length: number): Promise<string> {
    const sockets = new Set<net.Socket>();
    const server = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => sockets.delete(socket));
      let head = '';
      socket.on('data', (chunk: Buffer) => {
        head += chunk.toString('latin1');
        if (!head.includes('\r\n\r\n')) return;
        const key = /^sec-websocket-key:\s*(\S+)/im.exec(head)?.[1] ?? '';
        const accept = createHash('sha1')
          .update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)
          .digest('base64');
        const header = Buffer.alloc(10);
        header[0] = 0x82;
        header[1] = 127;
        header.writeBigUInt64BE(BigInt(length), 2);
        socket.write(
          `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
        );
        socket.write(header);
        head = '';
        socket.removeAllListeners('data');
        socket.resume();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
    return `ws://127.0.0.1:${(server.address() as net.AddressInfo).port}/`;
  }

  it('maxPayloadBytes defaults to 64 MiB, reaches the adapter, and a bigger frame fails the session with 1009', async () => {
    const note = observe(25);
    expect(DEFAULTS.maxPayloadBytes).toBe(64 * 1024 * 1024);
    const limits: number[] = [];
    const ws = createWsAdapter();
    const spying: SocketAdapter = {
      ...ws,
      connect(request, listener) {
        limits.push(request.maxPayloadBytes);
        return ws.connect(request, listener);
      },
    };
    // The frame is only announced (header); the client must refuse it from the header alone.
    const url = await announcingServer(DEFAULTS.maxPayloadBytes + 1);
    const { client, rec } = make({ url, adapter: spying, reconnect: { baseDelayMs: 0, retryOnStart: true } });
    void client.start().catch(() => {});
    await waitFor(client, () => client.state === 'stopped', 'stopped');
    expect(limits[0]).toBe(64 * 1024 * 1024);
    expect(rec.of('close')[0]).toMatchObject({ code: 1009, class: 'fatal' });
    expect(rec.of('error').map((e) => e.code)).toContain('WSM_ERR_MESSAGE_TOO_BIG');
    expect(rec.of('reconnecting')).toEqual([]);
    note(
      'default 64 MiB passed to the adapter; a 64 MiB + 1 frame header -> 1009, MessageTooBigError, no reconnect',
    );
  });

  it('every queue and every wait has a finite default bound', () => {
    const bounds = {
      maxPayloadBytes: DEFAULTS.maxPayloadBytes,
      openTimeoutMs: DEFAULTS.openTimeoutMs,
      closeTimeoutMs: DEFAULTS.closeTimeoutMs,
      stopTimeoutMs: DEFAULTS.stopTimeoutMs,
      'sendBuffer.maxMessages': DEFAULTS.sendBuffer.maxMessages,
      'sendBuffer.maxBytes': DEFAULTS.sendBuffer.maxBytes,
      'requests.timeoutMs': DEFAULTS.requests.timeoutMs,
      'inbound.highWaterMark': DEFAULTS.inbound.highWaterMark,
      'inbound.highWaterBytes': DEFAULTS.inbound.highWaterBytes,
      'inbound.maxQueued': DEFAULTS.inbound.maxQueued,
      'inbound.iteratorBufferSize': DEFAULTS.inbound.iteratorBufferSize,
      'reconnect.maxDelayMs': DEFAULTS.reconnect.maxDelayMs,
    };
    for (const [name, value] of Object.entries(bounds)) {
      expect(Number.isFinite(value), name).toBe(true);
      expect(value, name).toBeGreaterThan(0);
    }
  });
});
