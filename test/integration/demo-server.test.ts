/**
 * The demo server (`wsmachine/server`, issue 8) on 127.0.0.1 port 0, one per test: every message type
 * and error code of the demo protocol, subscribe-twice atomicity, unsubscribe really clearing, the raw
 * echo endpoint (text and binary), each fault command (as a `fault_request` and programmatically),
 * handshake rejection with Retry-After, `restart()` rebinding the same port, and `closeAll()`.
 *
 * Observed through a raw `ws` client, so exact close codes, pings and frames are visible. No sleeps:
 * every wait is on an event, bounded by a guard timeout that turns a hang into a readable failure.
 */
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type WsClient, createClient } from '../../src/node.js';
import { type DemoServer, type DemoServerOptions, startDemoServer } from '../../src/server.js';

const WAIT_MS = 5_000;

const servers: DemoServer[] = [];
const sockets: WebSocket[] = [];
const clients: WsClient[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.terminate();
  await Promise.allSettled(clients.splice(0).map((c) => c.stop()));
  await Promise.allSettled(servers.splice(0).map((s) => s.kill()));
});

async function server(options: DemoServerOptions = {}): Promise<DemoServer> {
  const s = await startDemoServer({ port: 0, heartbeatIntervalMs: 20, ...options });
  servers.push(s);
  return s;
}

type Json = Record<string, any>;

/** A raw `ws` client that records everything and waits on events. */
class Peer {
  readonly socket: WebSocket;
  readonly frames: Array<{ data: string | Buffer; binary: boolean }> = [];
  readonly pongs: number[] = [];
  closed: { code: number; reason: string } | undefined;
  private waiters: Array<() => void> = [];

  constructor(url: string, options?: WebSocket.ClientOptions) {
    this.socket = new WebSocket(url, options);
    sockets.push(this.socket);
    this.socket.on('error', () => {});
    this.socket.on('message', (data: Buffer, binary: boolean) => {
      this.frames.push({ data: binary ? data : data.toString(), binary });
      this.changed();
    });
    this.socket.on('pong', () => {
      this.pongs.push(this.frames.length);
      this.changed();
    });
    this.socket.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.changed();
    });
  }

  static async open(url: string, options?: WebSocket.ClientOptions): Promise<Peer> {
    const peer = new Peer(url, options);
    await new Promise<void>((resolve, reject) => {
      peer.socket.once('open', () => resolve());
      peer.socket.once('error', reject);
    });
    return peer;
  }

  private changed(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** JSON messages received so far. */
  get messages(): Json[] {
    return this.frames.filter((f) => !f.binary).map((f) => JSON.parse(f.data as string) as Json);
  }

  send(message: Json | string): void {
    this.socket.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  until<T>(probe: () => T | undefined, label: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${label}`)), WAIT_MS);
      const check = () => {
        const value = probe();
        if (value !== undefined && value !== false) {
          clearTimeout(timer);
          resolve(value);
        } else this.waiters.push(check);
      };
      check();
    });
  }

  /** The first received message matching `predicate`. */
  waitFor(predicate: (m: Json) => boolean, label = 'a message'): Promise<Json> {
    return this.until(() => this.messages.find(predicate), label);
  }

  /** Sends a request and resolves with the reply carrying its reqId. */
  async request(message: Json): Promise<Json> {
    this.send(message);
    return this.waitFor(
      (m) => m.reqId === message.reqId && m.type !== 'heartbeat',
      `reply to ${message.reqId}`,
    );
  }

  waitForClose(): Promise<{ code: number; reason: string }> {
    return this.until(() => this.closed, 'the close');
  }
}

/** Resolves with the HTTP status and headers of a rejected handshake, or 101 when it opened. */
function handshake(url: string): Promise<{ status: number; retryAfter: string | undefined }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    sockets.push(ws);
    ws.on('unexpected-response', (_req, res) => {
      const retryAfter = res.headers['retry-after'];
      resolve({
        status: res.statusCode ?? 0,
        retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
      });
      res.resume();
      ws.terminate();
    });
    ws.on('open', () => {
      resolve({ status: 101, retryAfter: undefined });
      ws.terminate();
    });
    ws.on('error', reject);
  });
}

describe('demo protocol: echo', () => {
  it('echoes data with the reqId (string or number), and null when data is absent', async () => {
    const s = await server();
    const peer = await Peer.open(s.url);
    expect(await peer.request({ type: 'echo_request', reqId: 'a', data: { x: [1, 'two'] } })).toEqual({
      type: 'echo_response',
      reqId: 'a',
      status: 'OK',
      data: { x: [1, 'two'] },
    });
    expect(await peer.request({ type: 'echo_request', reqId: 7, data: 'seven' })).toEqual({
      type: 'echo_response',
      reqId: 7,
      status: 'OK',
      data: 'seven',
    });
    expect(await peer.request({ type: 'echo_request', reqId: 'n' })).toMatchObject({
      status: 'OK',
      data: null,
    });
  });

  it('answers err: true with ASKED_BY_CLIENT, carrying the reqId', async () => {
    const s = await server();
    const peer = await Peer.open(s.url);
    const reply = await peer.request({ type: 'echo_request', reqId: 'e1', data: 'x', err: true });
    expect(reply).toMatchObject({ type: 'echo_response', reqId: 'e1', status: 'ERROR' });
    expect(reply.error.code).toBe('ASKED_BY_CLIENT');
    expect(typeof reply.error.message).toBe('string');
    expect(reply.data).toBeUndefined();
  });

  it('BAD_REQUEST for a field of the wrong type, with the reqId', async () => {
    const s = await server();
    const peer = await Peer.open(s.url);
    const reply = await peer.request({ type: 'echo_request', reqId: 'b', err: 'yes' });
    expect(reply).toMatchObject({
      type: 'echo_response',
      reqId: 'b',
      status: 'ERROR',
      error: { code: 'BAD_REQUEST' },
    });
    peer.send({ type: 'echo_request', reqId: { nested: true } });
    const bad = await peer.waitFor((m) => m.type === 'echo_response' && m.reqId === undefined);
    expect(bad).toMatchObject({ status: 'ERROR', error: { code: 'BAD_REQUEST' } });
  });
});

describe('demo protocol: malformed and unknown messages', () => {
  it('BAD_REQUEST for text that is not JSON, JSON that is not an object, and binary frames', async () => {
    const s = await server();
    const peer = await Peer.open(s.url);
    peer.send('not json {');
    peer.send('[1,2]');
    peer.socket.send(Buffer.from([1, 2, 3]));
    await peer.until(() => peer.messages.length >= 3 || undefined, 'three replies');
    for (const m of peer.messages) {
      expect(m).toMatchObject({ type: 'error', status: 'ERROR', error: { code: 'BAD_REQUEST' } });
    }
  });

  it('UNKNOWN_MESSAGE_TYPE without a type and for an unknown type (reqId kept)', async () => {
    const s = await server();
    const peer = await Peer.open(s.url);
    peer.send({ reqId: 'q1', data: 1 });
    const missing = await peer.waitFor((m) => m.reqId === 'q1');
    expect(missing).toMatchObject({
      type: 'error',
      status: 'ERROR',
      error: { code: 'UNKNOWN_MESSAGE_TYPE' },
    });
    const unknown = await peer.request({ type: 'launch_rocket', reqId: 'q2' });
    expect(unknown).toMatchObject({ type: 'error', reqId: 'q2', error: { code: 'UNKNOWN_MESSAGE_TYPE' } });
  });

  it('answers plain HTTP with 426 and a hint', async () => {
    const s = await server();
    const res = await fetch(s.url.replace('ws://', 'http://'));
    expect(res.status).toBe(426);
    expect(await res.text()).toContain('demo server');
  });
});

describe('demo protocol: subscriptions', () => {
  it('subscribe -> OK, then heartbeats with seq 1, 2, 3..., an ISO timestamp and uptimeMs', async () => {
    const s = await server({ heartbeatIntervalMs: 15 });
    const peer = await Peer.open(s.url);
    const ok = await peer.request({ type: 'subscribe_request', reqId: 's1', topic: 'heartbeat' });
    expect(ok).toEqual({
      type: 'subscribe_response',
      reqId: 's1',
      status: 'OK',
      data: { topic: 'heartbeat', intervalMs: 15 },
    });
    const beats = await peer.until(() => {
      const hb = peer.messages.filter((m) => m.type === 'heartbeat');
      return hb.length >= 3 ? hb : undefined;
    }, '3 heartbeats');
    expect(beats.slice(0, 3).map((b) => b.seq)).toEqual([1, 2, 3]);
    for (const b of beats) {
      expect(b.topic).toBe('heartbeat');
      expect(new Date(b.timestamp).toISOString()).toBe(b.timestamp);
      expect(typeof b.uptimeMs).toBe('number');
    }
    expect(beats[2]!.uptimeMs).toBeGreaterThanOrEqual(beats[0]!.uptimeMs);
  });

  it('subscribing twice (in one burst) is rejected atomically: one OK, one ALREADY_SUBSCRIBED, one publisher', async () => {
    const s = await server({ heartbeatIntervalMs: 10 });
    const peer = await Peer.open(s.url);
    peer.send({ type: 'subscribe_request', reqId: 1, topic: 'heartbeat' });
    peer.send({ type: 'subscribe_request', reqId: 2, topic: 'heartbeat' });
    const first = await peer.waitFor((m) => m.reqId === 1);
    const second = await peer.waitFor((m) => m.reqId === 2);
    expect(first.status).toBe('OK');
    expect(second).toMatchObject({
      type: 'subscribe_response',
      status: 'ERROR',
      error: { code: 'ALREADY_SUBSCRIBED' },
    });
    const beats = await peer.until(() => {
      const hb = peer.messages.filter((m) => m.type === 'heartbeat');
      return hb.length >= 6 ? hb : undefined;
    }, '6 heartbeats');
    // One publisher: consecutive seq numbers, no duplicates.
    expect(beats.map((b) => b.seq)).toEqual(beats.map((_b, i) => i + 1));
  });

  it('unsubscribe really clears: no more heartbeats, NOT_SUBSCRIBED after, and a fresh subscription restarts at seq 1', async () => {
    const s = await server({ heartbeatIntervalMs: 10 });
    const peer = await Peer.open(s.url);
    await peer.request({ type: 'subscribe_request', reqId: 's', topic: 'heartbeat' });
    await peer.waitFor((m) => m.type === 'heartbeat' && m.seq >= 2, 'heartbeats');
    const un = await peer.request({ type: 'unsubscribe_request', reqId: 'u', topic: 'heartbeat' });
    expect(un).toEqual({
      type: 'unsubscribe_response',
      reqId: 'u',
      status: 'OK',
      data: { topic: 'heartbeat' },
    });
    const after = peer.frames.length;
    // Let the server's own clock run: delayed replies come back after 10 heartbeat intervals.
    await peer.request({ type: 'fault_request', reqId: 'f', fault: 'delay', ms: 100 });
    await peer.request({ type: 'echo_request', reqId: 'probe' });
    const since = peer.messages.slice(after);
    expect(since.filter((m) => m.type === 'heartbeat')).toEqual([]);
    const again = await peer.request({ type: 'unsubscribe_request', reqId: 'u2', topic: 'heartbeat' });
    expect(again).toMatchObject({ status: 'ERROR', error: { code: 'NOT_SUBSCRIBED' } });
    await peer.request({ type: 'fault_request', reqId: 'f0', fault: 'delay', ms: 0 });
    const re = await peer.request({ type: 'subscribe_request', reqId: 's2', topic: 'heartbeat' });
    expect(re.status).toBe('OK');
    const first = await peer.until(() => {
      const all = peer.messages;
      const from = all.findIndex((m) => m.reqId === 's2');
      return all.slice(from).find((m) => m.type === 'heartbeat');
    }, 'a heartbeat of the new subscription');
    expect(first.seq).toBe(1);
  });

  it('TOPIC_NOT_FOUND for another topic, BAD_REQUEST without a topic string', async () => {
    const s = await server();
    const peer = await Peer.open(s.url);
    expect(await peer.request({ type: 'subscribe_request', reqId: 1, topic: 'weather' })).toMatchObject({
      type: 'subscribe_response',
      status: 'ERROR',
      error: { code: 'TOPIC_NOT_FOUND' },
    });
    expect(await peer.request({ type: 'unsubscribe_request', reqId: 2, topic: 'weather' })).toMatchObject({
      type: 'unsubscribe_response',
      status: 'ERROR',
      error: { code: 'TOPIC_NOT_FOUND' },
    });
    expect(await peer.request({ type: 'subscribe_request', reqId: 3 })).toMatchObject({
      status: 'ERROR',
      error: { code: 'BAD_REQUEST' },
    });
  });
});

describe('raw echo endpoint', () => {
  it('echoes text and binary frames unchanged', async () => {
    const s = await server();
    expect(s.echoUrl).toBe(`${s.url}/echo`);
    const peer = await Peer.open(s.echoUrl);
    const bytes = Buffer.from(Array.from({ length: 256 }, (_v, i) => i));
    peer.socket.send('héllo, not json {');
    peer.socket.send(bytes);
    await peer.until(() => peer.frames.length >= 2 || undefined, 'two echoes');
    expect(peer.frames[0]).toEqual({ data: 'héllo, not json {', binary: false });
    expect(peer.frames[1]!.binary).toBe(true);
    expect(Buffer.compare(peer.frames[1]!.data as Buffer, bytes)).toBe(0);
  });
});

describe('fault commands (fault_request)', () => {
  it('close: replies, then closes with the given code and reason', async () => {
    const s = await server();
    const peer = await Peer.open(s.url);
    peer.send({ type: 'fault_request', reqId: 'c', fault: 'close', code: 4001, reason: 'bye now' });
    expect(await peer.waitForClose()).toEqual({ code: 4001, reason: 'bye now' });
    expect(peer.messages[0]).toMatchObject({ type: 'fault_response', reqId: 'c', status: 'OK' });
  });

  it('close rejects a code a server may not send with BAD_REQUEST', async () => {
    const s = await server();
    const peer = await Peer.open(s.url);
    expect(
      await peer.request({ type: 'fault_request', reqId: 'x', fault: 'close', code: 1006 }),
    ).toMatchObject({
      type: 'fault_response',
      status: 'ERROR',
      error: { code: 'BAD_REQUEST' },
    });
    expect(await peer.request({ type: 'fault_request', reqId: 'y', fault: 'explode' })).toMatchObject({
      status: 'ERROR',
      error: { code: 'BAD_REQUEST' },
    });
    expect(peer.closed).toBeUndefined();
  });

  it('drop: the TCP connection goes away without a close frame (1006)', async () => {
    const s = await server();
    const peer = await Peer.open(s.url);
    peer.send({ type: 'fault_request', reqId: 'd', fault: 'drop' });
    expect((await peer.waitForClose()).code).toBe(1006);
    expect(peer.messages[0]).toMatchObject({ type: 'fault_response', reqId: 'd', status: 'OK' });
  });

  it('no_pong: stops answering pings, and enabled: false resumes', async () => {
    const s = await server();
    const peer = await Peer.open(s.url);
    peer.socket.ping();
    await peer.until(() => peer.pongs.length >= 1 || undefined, 'a pong');
    await peer.request({ type: 'fault_request', reqId: 'np', fault: 'no_pong' });
    peer.socket.ping();
    // Frames are handled in order: a pong for that ping would come before this reply.
    await peer.request({ type: 'echo_request', reqId: 'after-ping' });
    expect(peer.pongs).toHaveLength(1);
    await peer.request({ type: 'fault_request', reqId: 'np2', fault: 'no_pong', enabled: false });
    peer.socket.ping();
    await peer.until(() => peer.pongs.length >= 2 || undefined, 'a pong again');
  });

  it('delay: replies are delayed by ms', async () => {
    const s = await server();
    const peer = await Peer.open(s.url);
    await peer.request({ type: 'fault_request', reqId: 'dl', fault: 'delay', ms: 150 });
    const t0 = performance.now();
    await peer.request({ type: 'echo_request', reqId: 'slow' });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(140);
  });

  it('close_after: closes after N more messages from the server', async () => {
    const s = await server();
    const peer = await Peer.open(s.url);
    await peer.request({
      type: 'fault_request',
      reqId: 'ca',
      fault: 'close_after',
      messages: 3,
      code: 4002,
      reason: 'enough',
    });
    for (let i = 0; i < 5; i++) peer.send({ type: 'echo_request', reqId: i });
    expect(await peer.waitForClose()).toEqual({ code: 4002, reason: 'enough' });
    expect(peer.messages.filter((m) => m.type === 'echo_response').map((m) => m.reqId)).toEqual([0, 1, 2]);
  });

  it('reject_handshakes: the next N handshakes get the status and Retry-After, then they succeed', async () => {
    const s = await server();
    const peer = await Peer.open(s.url);
    await peer.request({
      type: 'fault_request',
      reqId: 'rh',
      fault: 'reject_handshakes',
      count: 2,
      status: 503,
      retryAfterSeconds: 7,
    });
    expect(await handshake(s.url)).toEqual({ status: 503, retryAfter: '7' });
    expect(await handshake(s.echoUrl)).toEqual({ status: 503, retryAfter: '7' });
    expect(await handshake(s.url)).toEqual({ status: 101, retryAfter: undefined });
    expect(s.stats().rejected).toBe(2);
  });

  it('reject_handshakes reaches the client as a HandshakeError with retryAfterMs', async () => {
    const s = await server();
    s.rejectHandshakes(1, 429, 2);
    const client = createClient({ url: s.url, reconnect: false });
    clients.push(client);
    client.on('error', () => {});
    const error = await client.start().catch((e: unknown) => e);
    expect((error as { cause?: { code: string; status: number; retryAfterMs: number } }).cause).toMatchObject(
      {
        code: 'WSM_ERR_HANDSHAKE',
        status: 429,
        retryAfterMs: 2000,
      },
    );
    await client.start();
    expect(client.state).toBe('open');
  });
});

describe('programmatic control', () => {
  it('fault() applies close/drop to every open connection and no_pong/delay server-wide', async () => {
    const s = await server();
    const a = await Peer.open(s.url);
    const b = await Peer.open(s.echoUrl);
    s.fault({ fault: 'close', code: 4003, reason: 'all of you' });
    expect(await a.waitForClose()).toEqual({ code: 4003, reason: 'all of you' });
    expect(await b.waitForClose()).toEqual({ code: 4003, reason: 'all of you' });

    s.fault({ fault: 'no_pong' });
    const c = await Peer.open(s.url);
    c.socket.ping();
    await c.request({ type: 'echo_request', reqId: 1 });
    expect(c.pongs).toHaveLength(0);
    s.fault({ fault: 'no_pong', enabled: false });
    c.socket.ping();
    await c.until(() => c.pongs.length >= 1 || undefined, 'a pong');

    expect(() => s.fault({ fault: 'delay', ms: -1 })).toThrow(RangeError);
    expect(s.dropAll()).toBe(1);
    expect((await c.waitForClose()).code).toBe(1006);
  });

  it('closeAll() sends 1001 by default, or the given code and reason', async () => {
    const s = await server();
    const a = await Peer.open(s.url);
    const b = await Peer.open(s.url);
    expect(await s.closeAll()).toBe(2);
    expect(a.closed).toEqual({ code: 1001, reason: 'server shutting down' });
    expect(b.closed).toEqual({ code: 1001, reason: 'server shutting down' });
    const c = await Peer.open(s.url);
    expect(await s.closeAll(4100, 'custom')).toBe(1);
    expect(c.closed).toEqual({ code: 4100, reason: 'custom' });
    await expect(s.closeAll(1005)).rejects.toThrow(RangeError);
  });

  it('close() sends 1001 to every client and stops listening; kill() drops them (1006)', async () => {
    const s = await server();
    const a = await Peer.open(s.url);
    await s.close();
    expect(a.closed).toEqual({ code: 1001, reason: 'server shutting down' });
    expect(s.listening).toBe(false);
    await expect(Peer.open(s.url)).rejects.toMatchObject({ code: 'ECONNREFUSED' });

    await s.restart();
    const b = await Peer.open(s.url);
    await s.kill();
    expect((await b.waitForClose()).code).toBe(1006);
    expect(s.listening).toBe(false);
  });

  it('restart() rebinds the same port: 1012 to connected clients, and the library client reopens on the same URL', async () => {
    const s = await server();
    const port = s.port;
    const url = s.url;
    const peer = await Peer.open(url);
    const client = createClient({ url, reconnect: { baseDelayMs: 10, maxDelayMs: 50 } });
    clients.push(client);
    await client.start();
    const reopened = new Promise<number>((resolve) => client.on('open', (e) => resolve(e.sessionId)));
    await s.restart();
    expect(s.port).toBe(port);
    expect(s.url).toBe(url);
    expect(peer.closed).toEqual({ code: 1012, reason: 'server restarting' });
    expect(await reopened).toBeGreaterThan(1);
    expect(client.state).toBe('open');

    await s.kill();
    expect(s.listening).toBe(false);
    const again = new Promise<void>((resolve) => client.on('open', () => resolve()));
    await s.restart();
    expect(s.port).toBe(port);
    await again;
    expect(s.stats().accepted).toBe(4);
  });

  it('reports connections, messages and disconnects as events, with the upgrade headers and subprotocol', async () => {
    const s = await server();
    const seen: string[] = [];
    s.on('connection', (e) =>
      seen.push(`connection ${e.endpoint} ${e.path} ${e.headers['x-demo']} ${e.protocol}`),
    );
    s.on('message', (e) => seen.push(`message ${e.data as string}`));
    const closed = new Promise<void>((resolve) =>
      s.on('disconnect', (e) => {
        seen.push(`disconnect ${e.code}`);
        resolve();
      }),
    );
    const peer = await Peer.open(`${s.url}/anything?x=1`, { headers: { 'x-demo': 'yes' } });
    await peer.request({ type: 'echo_request', reqId: 1 });
    peer.socket.close(1000);
    await closed;
    expect(seen[0]).toBe('connection demo /anything yes ');
    expect(seen).toContain('message {"type":"echo_request","reqId":1}');
    expect(seen).toContain('disconnect 1000');
    expect(s.stats()).toMatchObject({ accepted: 1, open: 0, messagesIn: 1, messagesOut: 1 });
  });

  it('negotiates the first subprotocol the client offers', async () => {
    const s = await server();
    const ws = new WebSocket(s.url, ['demo.v1', 'demo.v0']);
    sockets.push(ws);
    const protocol = await new Promise<string>((resolve) => ws.on('open', () => resolve(ws.protocol)));
    expect(protocol).toBe('demo.v1');
  });
});
