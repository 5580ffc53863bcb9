/**
 * `wsmachine/otel` (issue 9) against real `ws` servers on 127.0.0.1, with the SDK's in-memory span
 * exporter and a manually collected metric reader: the span tree of a run with a reconnect, every
 * started span ended on every fault path (counted by a SpanProcessor's onStart/onEnd), no URL secret
 * in any attribute, metrics equal to `stats()`, detach, and `session.context` in hooks.
 *
 * No sleeps: every wait is on a client event or a promise.
 */
import { type Context, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import {
  type DataPoint,
  type Histogram,
  type MetricData,
  MeterProvider,
  MetricReader,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_NETWORK_PROTOCOL_NAME,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_URL_PATH,
  ATTR_URL_SCHEME,
} from '@opentelemetry/semantic-conventions';
import {
  ATTR_MESSAGING_MESSAGE_BODY_SIZE,
  ATTR_MESSAGING_OPERATION_TYPE,
  ATTR_NETWORK_IO_DIRECTION,
} from '@opentelemetry/semantic-conventions/incubating';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type ClientOptions,
  INSTRUMENT,
  RequestAbortedError,
  RequestTimeoutError,
  StartError,
  type WsClient,
  createClient,
} from '../../src/node.js';
import { Attr, Metrics, SpanNames, instrument } from '../../src/otel.js';
import {
  cleanup,
  freePortClosed,
  startRejectingServer,
  startSilentTcpServer,
  startUpgradeThenSilentServer,
  startWsServer,
  track,
  waitFor,
  waitForEvent,
  waitForState,
} from '../helpers/servers.js';

afterEach(cleanup);

// -------------------------------------------------------------------------------------------------
// OpenTelemetry test rig

/** Counts spans started and ended, and remembers the ones still open. */
class CountingProcessor implements SpanProcessor {
  started = 0;
  ended = 0;
  readonly open = new Set<ReadableSpan>();
  onStart(span: Span): void {
    this.started++;
    this.open.add(span as unknown as ReadableSpan);
  }
  onEnd(span: ReadableSpan): void {
    this.ended++;
    this.open.delete(span);
  }
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** A metric reader collected by hand (no timer). */
class ManualReader extends MetricReader {
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
}

interface Rig {
  tracerProvider: BasicTracerProvider;
  meterProvider: MeterProvider;
  counting: CountingProcessor;
  spans(): ReadableSpan[];
  named(name: string): ReadableSpan[];
  metrics(): Promise<Map<string, MetricData>>;
  /** Every started span has ended. */
  expectAllEnded(): void;
}

function rig(): Rig {
  const exporter = new InMemorySpanExporter();
  const counting = new CountingProcessor();
  const tracerProvider = new BasicTracerProvider({
    spanProcessors: [new SimpleSpanProcessor(exporter), counting],
  });
  const reader = new ManualReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  return {
    tracerProvider,
    meterProvider,
    counting,
    spans: () => exporter.getFinishedSpans(),
    named: (name) => exporter.getFinishedSpans().filter((s) => s.name === name),
    async metrics() {
      const { resourceMetrics, errors } = await reader.collect();
      expect(errors).toEqual([]);
      const out = new Map<string, MetricData>();
      for (const scope of resourceMetrics.scopeMetrics)
        for (const m of scope.metrics) out.set(m.descriptor.name, m);
      return out;
    },
    expectAllEnded() {
      expect([...counting.open].map((s) => s.name)).toEqual([]);
      expect(counting.ended).toBe(counting.started);
    },
  };
}

/** The data point of `metric` whose attributes include `attrs`. */
function point<T = number>(
  metrics: Map<string, MetricData>,
  name: string,
  attrs: Record<string, unknown> = {},
): DataPoint<T> | undefined {
  const metric = metrics.get(name);
  if (metric === undefined) return undefined;
  return (metric.dataPoints as DataPoint<T>[]).find((p) =>
    Object.entries(attrs).every(([k, v]) => p.attributes[k] === v),
  );
}

function sumOf(metrics: Map<string, MetricData>, name: string): number {
  const metric = metrics.get(name);
  if (metric === undefined) return 0;
  return (metric.dataPoints as DataPoint<number>[]).reduce((a, p) => a + p.value, 0);
}

const idOf = (s: ReadableSpan) => s.spanContext().spanId;
const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId;
const bySession = (spans: ReadableSpan[], sid: number) =>
  spans.find((s) => s.attributes[Attr.sessionId] === sid)!;

/** The tree of spans as indented lines (for readable failures and the docs). */
function renderTree(spans: ReadableSpan[]): string {
  const children = new Map<string | undefined, ReadableSpan[]>();
  const ids = new Set(spans.map(idOf));
  for (const s of spans) {
    const parent = parentOf(s) !== undefined && ids.has(parentOf(s)!) ? parentOf(s) : undefined;
    children.set(parent, [...(children.get(parent) ?? []), s]);
  }
  const lines: string[] = [];
  const walk = (parent: string | undefined, depth: number) => {
    const list = (children.get(parent) ?? []).sort((a, b) =>
      a.startTime[0] - b.startTime[0] !== 0
        ? a.startTime[0] - b.startTime[0]
        : a.startTime[1] - b.startTime[1],
    );
    for (const s of list) {
      const outcome = s.attributes[Attr.outcome];
      const sid = s.attributes[Attr.sessionId];
      const status = s.status.code === SpanStatusCode.ERROR ? ' ERROR' : '';
      lines.push(`${'  '.repeat(depth)}${s.name} [session ${sid ?? '-'}] ${outcome ?? ''}${status}`);
      walk(idOf(s), depth + 1);
    }
  };
  walk(undefined, 0);
  return lines.join('\n');
}

/** Options for a JSON request/response client (key = the `id` field). */
function keyed(url: string, extra: Partial<ClientOptions> = {}): ClientOptions {
  return {
    url,
    heartbeat: false,
    reconnect: { baseDelayMs: 0, jitter: 'none' },
    requests: {
      key: {
        request: (_d, p) => (p as { id: string }).id,
        response: (m) => (JSON.parse(m.data as string) as { id?: string }).id,
      },
    },
    ...extra,
  };
}

function newClient(options: ClientOptions): WsClient {
  const client = track(createClient(options));
  client.on('error', () => {});
  client.on('undelivered', () => {});
  return client;
}

const req = (client: WsClient, id: string, extra: object = {}) =>
  client.request(JSON.stringify({ id }), { params: { id }, ...extra });

// -------------------------------------------------------------------------------------------------

describe('otel: attribute names follow the semantic conventions', () => {
  it('uses the registered keys where a convention exists', () => {
    expect(Attr.serverAddress).toBe(ATTR_SERVER_ADDRESS);
    expect(Attr.serverPort).toBe(ATTR_SERVER_PORT);
    expect(Attr.urlScheme).toBe(ATTR_URL_SCHEME);
    expect(Attr.urlPath).toBe(ATTR_URL_PATH);
    expect(Attr.networkProtocolName).toBe(ATTR_NETWORK_PROTOCOL_NAME);
    expect(Attr.errorType).toBe(ATTR_ERROR_TYPE);
    expect(Attr.httpResponseStatusCode).toBe(ATTR_HTTP_RESPONSE_STATUS_CODE);
    expect(Attr.messagingOperationType).toBe(ATTR_MESSAGING_OPERATION_TYPE);
    expect(Attr.messagingMessageBodySize).toBe(ATTR_MESSAGING_MESSAGE_BODY_SIZE);
    expect(Attr.networkIoDirection).toBe(ATTR_NETWORK_IO_DIRECTION);
  });
});

describe('otel: the span tree of start -> requests -> server kill -> reconnect -> stop', () => {
  it('parents, names, attributes and statuses', async () => {
    const otel = rig();
    const server = await startWsServer({ echo: true });
    const client = newClient(
      keyed(server.url, {
        hooks: {
          onOpen: async (session) => {
            const id = `auth-${session.id}`;
            await session.request(JSON.stringify({ id }), { params: { id } });
          },
          onClose: () => {},
        },
      }),
    );
    const detach = instrument(client, {
      tracerProvider: otel.tracerProvider,
      meterProvider: otel.meterProvider,
    });

    await client.start();
    await req(client, 'a');
    await req(client, 'b');
    const reopened = waitForEvent(client, 'open', (e) => e.restarting);
    server.terminateAll();
    await reopened;
    await req(client, 'c');
    await client.stop();
    detach();

    otel.expectAllEnded();
    const spans = otel.spans();
    const tree = renderTree(spans);
    expect(tree).toBe(
      [
        'wsmachine connect [session 1] open',
        '  wsmachine onOpen [session 1] ok',
        '    wsmachine request [session 1] ok',
        '  wsmachine session [session 1] closed ERROR',
        '    wsmachine request [session -] ok',
        '    wsmachine request [session -] ok',
        '    wsmachine onClose [session 1] ok',
        'wsmachine connect [session 2] open',
        '  wsmachine onOpen [session 2] ok',
        '    wsmachine request [session 2] ok',
        '  wsmachine session [session 2] closed',
        '    wsmachine request [session -] ok',
        '    wsmachine onClose [session 2] ok',
      ].join('\n'),
    );

    const [connect1, connect2] = otel.named(SpanNames.attempt);
    const session1 = bySession(otel.named(SpanNames.session), 1);
    const session2 = bySession(otel.named(SpanNames.session), 2);
    expect(connect1!.kind).toBe(SpanKind.CLIENT);
    expect(connect1!.parentSpanContext).toBeUndefined();
    expect(connect1!.attributes).toMatchObject({
      [Attr.attempt]: 0,
      [Attr.sessionId]: 1,
      [Attr.outcome]: 'open',
      [Attr.restarting]: false,
      'server.address': '127.0.0.1',
      'server.port': server.port,
      'url.scheme': 'ws',
      'url.path': '/',
      'network.protocol.name': 'websocket',
    });
    expect(connect1!.status.code).toBe(SpanStatusCode.UNSET);
    // The session belongs to its attempt's trace.
    expect(parentOf(session1)).toBe(idOf(connect1!));
    expect(session1.spanContext().traceId).toBe(connect1!.spanContext().traceId);
    expect(session1.attributes).toMatchObject({
      [Attr.sessionId]: 1,
      [Attr.closeCode]: 1006,
      [Attr.closeClass]: 'transient',
      [Attr.closeClean]: false,
      [Attr.closeRequested]: false,
      [Attr.outcome]: 'closed',
      'server.address': '127.0.0.1',
      'network.protocol.name': 'websocket',
    });
    expect(session1.status.code).toBe(SpanStatusCode.ERROR);
    // The reconnect is a new trace, linked to the session it replaces.
    expect(connect2!.parentSpanContext).toBeUndefined();
    expect(connect2!.attributes).toMatchObject({
      [Attr.attempt]: 1,
      [Attr.sessionId]: 2,
      [Attr.outcome]: 'open',
    });
    expect(connect2!.links.map((l) => l.context.spanId)).toEqual([idOf(session1)]);
    expect(session2.attributes).toMatchObject({
      [Attr.closeCode]: 1000,
      [Attr.closeClass]: 'normal',
      [Attr.closeRequested]: true,
      [Attr.restarting]: true,
    });
    expect(session2.status.code).toBe(SpanStatusCode.UNSET);

    const requests = otel.named(SpanNames.request);
    expect(requests.map((r) => r.attributes[Attr.requestKey])).toEqual(['auth-1', 'a', 'b', 'auth-2', 'c']);
    for (const r of requests) {
      expect(r.kind).toBe(SpanKind.CLIENT);
      expect(r.attributes[Attr.outcome]).toBe('ok');
      expect(r.status.code).toBe(SpanStatusCode.UNSET);
    }
    const hooks = [...otel.named(SpanNames.onOpen), ...otel.named(SpanNames.onClose)];
    expect(hooks).toHaveLength(4);
  });
});

describe('otel: every started span ends on every fault path', () => {
  it('request timeout: outcome timeout, ERROR status, error.type', async () => {
    const otel = rig();
    const server = await startWsServer();
    const client = newClient(keyed(server.url));
    instrument(client, { tracerProvider: otel.tracerProvider, meterProvider: otel.meterProvider });
    await client.start();
    await expect(req(client, 'slow', { timeoutMs: 20 })).rejects.toBeInstanceOf(RequestTimeoutError);
    const [span] = otel.named(SpanNames.request);
    expect(span!.attributes[Attr.outcome]).toBe('timeout');
    expect(span!.attributes[Attr.errorType]).toBe('WSM_ERR_REQUEST_TIMEOUT');
    expect(span!.status.code).toBe(SpanStatusCode.ERROR);
    expect(span!.events.map((e) => e.name)).toContain('exception');
    await client.stop();
    otel.expectAllEnded();
  });

  it('abort, cancel, close and stop: outcomes aborted, aborted, closed, stopped', async () => {
    const otel = rig();
    const server = await startWsServer();
    const client = newClient(keyed(server.url, { reconnect: { baseDelayMs: 60_000, maxDelayMs: 60_000 } }));
    instrument(client, { tracerProvider: otel.tracerProvider, meterProvider: otel.meterProvider });
    await client.start();
    const controller = new AbortController();
    const aborted = req(client, 'aborted', { signal: controller.signal });
    controller.abort();
    await expect(aborted).rejects.toBeInstanceOf(RequestAbortedError);
    const cancelled = req(client, 'cancelled');
    client.cancel(cancelled);
    await expect(cancelled).rejects.toBeInstanceOf(RequestAbortedError);

    const closed = req(client, 'closed').catch((e: unknown) => e);
    const reconnecting = waitForState(client, 'reconnecting');
    server.terminateAll();
    await reconnecting;
    expect((await closed) as Error).toMatchObject({ code: 'WSM_ERR_CONNECTION_CLOSED' });

    // Queued while reconnecting, rejected by stop() during the backoff.
    const stopped = req(client, 'stopped').catch((e: unknown) => e);
    await client.stop();
    expect((await stopped) as Error).toMatchObject({ code: 'WSM_ERR_CLIENT_STOPPED' });

    const outcomes = Object.fromEntries(
      otel.named(SpanNames.request).map((s) => [s.attributes[Attr.requestKey], s.attributes[Attr.outcome]]),
    );
    expect(outcomes).toEqual({
      aborted: 'aborted',
      cancelled: 'aborted',
      closed: 'closed',
      stopped: 'stopped',
    });
    const status = Object.fromEntries(
      otel.named(SpanNames.request).map((s) => [s.attributes[Attr.requestKey], s.status.code]),
    );
    expect(status).toEqual({
      aborted: SpanStatusCode.UNSET,
      cancelled: SpanStatusCode.UNSET,
      closed: SpanStatusCode.ERROR,
      stopped: SpanStatusCode.UNSET,
    });
    otel.expectAllEnded();
  });

  it('stop during the reconnect backoff', async () => {
    const otel = rig();
    const server = await startWsServer();
    const client = newClient(
      keyed(server.url, { reconnect: { baseDelayMs: 60_000, maxDelayMs: 60_000, jitter: 'none' } }),
    );
    instrument(client, { tracerProvider: otel.tracerProvider, meterProvider: otel.meterProvider });
    await client.start();
    const reconnecting = waitForState(client, 'reconnecting');
    server.terminateAll();
    await reconnecting;
    await client.stop();
    otel.expectAllEnded();
    expect(otel.named(SpanNames.attempt)).toHaveLength(1);
    expect(otel.named(SpanNames.session)).toHaveLength(1);
    const metrics = await otel.metrics();
    // Scheduled, never dialed: not a reconnect (stats().reconnects agrees).
    expect(sumOf(metrics, Metrics.reconnects.name)).toBe(client.stats().reconnects);
    expect(client.stats().reconnects).toBe(0);
  });

  it('onOpen failure: attempt hook_failed, onOpen ERROR, onClose under the attempt', async () => {
    const otel = rig();
    const server = await startWsServer();
    const client = newClient(
      keyed(server.url, {
        hooks: {
          onOpen: () => {
            throw new Error('login refused');
          },
          onClose: () => {},
        },
      }),
    );
    instrument(client, { tracerProvider: otel.tracerProvider, meterProvider: otel.meterProvider });
    await expect(client.start()).rejects.toBeInstanceOf(StartError);
    otel.expectAllEnded();
    const [attempt] = otel.named(SpanNames.attempt);
    const [onOpen] = otel.named(SpanNames.onOpen);
    const [onClose] = otel.named(SpanNames.onClose);
    expect(attempt!.attributes[Attr.outcome]).toBe('hook_failed');
    expect(attempt!.status).toMatchObject({ code: SpanStatusCode.ERROR, message: 'login refused' });
    expect(onOpen!.attributes[Attr.outcome]).toBe('error');
    expect(onOpen!.status.code).toBe(SpanStatusCode.ERROR);
    expect(parentOf(onOpen!)).toBe(idOf(attempt!));
    expect(parentOf(onClose!)).toBe(idOf(attempt!));
    expect(otel.named(SpanNames.session)).toEqual([]);
  });

  it('onOpen failure on a reconnect is counted as a WSM_ERR_HOOK reconnect cause', async () => {
    const otel = rig();
    const server = await startWsServer();
    let opens = 0;
    const client = newClient(
      keyed(server.url, {
        hooks: {
          onOpen: () => {
            opens++;
            if (opens === 2) throw new Error('flaky login');
          },
        },
      }),
    );
    instrument(client, { tracerProvider: otel.tracerProvider, meterProvider: otel.meterProvider });
    await client.start();
    const third = waitForEvent(client, 'open', (e) => e.sessionId === 3);
    server.terminateAll();
    await third;
    await client.stop();
    otel.expectAllEnded();
    expect(otel.named(SpanNames.attempt).map((s) => s.attributes[Attr.outcome])).toEqual([
      'open',
      'hook_failed',
      'open',
    ]);
    const metrics = await otel.metrics();
    expect(point(metrics, Metrics.reconnects.name, { [Attr.reconnectCause]: 'closed' })?.value).toBe(1);
    expect(point(metrics, Metrics.reconnects.name, { [Attr.reconnectCause]: 'WSM_ERR_HOOK' })?.value).toBe(1);
    expect(sumOf(metrics, Metrics.reconnects.name)).toBe(client.stats().reconnects);
  });

  it('open timeout while the server never answers the upgrade', async () => {
    const otel = rig();
    const server = await startSilentTcpServer();
    const client = newClient({ url: server.url, openTimeoutMs: 50, heartbeat: false });
    instrument(client, { tracerProvider: otel.tracerProvider, meterProvider: otel.meterProvider });
    await expect(client.start()).rejects.toBeInstanceOf(StartError);
    otel.expectAllEnded();
    const [attempt] = otel.named(SpanNames.attempt);
    expect(attempt!.attributes).toMatchObject({
      [Attr.outcome]: 'timeout',
      [Attr.errorType]: 'WSM_ERR_OPEN_TIMEOUT',
    });
    expect(attempt!.status.code).toBe(SpanStatusCode.ERROR);
  });

  it('open timeout while onOpen hangs: the onOpen span ends as abandoned', async () => {
    const otel = rig();
    const server = await startWsServer();
    const client = newClient({
      url: server.url,
      openTimeoutMs: 100,
      heartbeat: false,
      hooks: { onOpen: () => new Promise<void>(() => {}) },
    });
    instrument(client, { tracerProvider: otel.tracerProvider, meterProvider: otel.meterProvider });
    await expect(client.start()).rejects.toBeInstanceOf(StartError);
    otel.expectAllEnded();
    expect(otel.named(SpanNames.onOpen)[0]!.attributes[Attr.outcome]).toBe('abandoned');
    expect(otel.named(SpanNames.attempt)[0]!.attributes[Attr.outcome]).toBe('timeout');
  });

  it('dial failure, handshake rejection, a throwing url function, and stop while dialing', async () => {
    const otel = rig();
    const port = await freePortClosed();
    const refused = newClient({ url: `ws://127.0.0.1:${port}`, heartbeat: false });
    instrument(refused, { tracerProvider: otel.tracerProvider });
    await expect(refused.start()).rejects.toBeInstanceOf(StartError);

    const rejecting = await startRejectingServer(401);
    const rejected = newClient({ url: rejecting.url, heartbeat: false });
    instrument(rejected, { tracerProvider: otel.tracerProvider });
    await expect(rejected.start()).rejects.toBeInstanceOf(StartError);

    const throwing = newClient({
      url: () => {
        throw new Error('no token');
      },
      heartbeat: false,
    });
    instrument(throwing, { tracerProvider: otel.tracerProvider });
    await expect(throwing.start()).rejects.toBeInstanceOf(StartError);

    const silent = await startSilentTcpServer();
    const dialing = newClient({ url: silent.url, heartbeat: false });
    instrument(dialing, { tracerProvider: otel.tracerProvider });
    const starting = dialing.start().catch((e: unknown) => e);
    await dialing.stop();
    expect(await starting).toBeInstanceOf(StartError);

    otel.expectAllEnded();
    const attempts = otel.named(SpanNames.attempt);
    expect(attempts.map((s) => s.attributes[Attr.outcome])).toEqual([
      'failed',
      'rejected',
      'failed',
      'aborted',
    ]);
    expect(attempts[0]!.attributes[Attr.errorType]).toBe('WSM_ERR_CONNECT');
    expect(attempts[1]!.attributes).toMatchObject({
      [Attr.httpResponseStatusCode]: 401,
      [Attr.errorType]: 'WSM_ERR_HANDSHAKE',
      [Attr.closeClass]: 'auth',
    });
    // The url function failed before any URL existed: no server attributes, but the span is there.
    expect(attempts[2]!.attributes[Attr.serverAddress]).toBeUndefined();
    expect(attempts[2]!.status.code).toBe(SpanStatusCode.ERROR);
    expect(attempts[3]!.status.code).toBe(SpanStatusCode.UNSET);
    for (const s of attempts.slice(0, 3)) expect(s.status.code).toBe(SpanStatusCode.ERROR);
  });
});

describe('otel: no URL secrets in any span', () => {
  it('records scheme, host, port and path only, even in errors', async () => {
    const otel = rig();
    const server = await startWsServer({ echo: true });
    const port = await freePortClosed();
    const secretUrl = (p: number) => `ws://alice:hunter2@127.0.0.1:${p}/feed/v1?token=SECRET-TOKEN&x=1`;
    const client = newClient(
      keyed(secretUrl(server.port), {
        hooks: { onOpen: () => {}, onClose: () => {} },
      }),
    );
    instrument(client, {
      tracerProvider: otel.tracerProvider,
      meterProvider: otel.meterProvider,
      messages: { sampleRate: 1 },
    });
    await client.start();
    await req(client, 'x');
    await client.stop();
    // An error path with the same secrets in the URL.
    const failing = newClient({ url: secretUrl(port), heartbeat: false });
    instrument(failing, { tracerProvider: otel.tracerProvider });
    await expect(failing.start()).rejects.toBeInstanceOf(StartError);

    otel.expectAllEnded();
    const dump = JSON.stringify(
      otel.spans().map((s) => ({
        name: s.name,
        attributes: s.attributes,
        status: s.status,
        events: s.events,
        links: s.links.map((l) => l.attributes),
      })),
    );
    for (const secret of ['alice', 'hunter2', 'SECRET-TOKEN', 'token', '?x=', '***']) {
      expect(dump).not.toContain(secret);
    }
    const [connect] = otel.named(SpanNames.attempt);
    expect(connect!.attributes).toMatchObject({
      'url.scheme': 'ws',
      'url.path': '/feed/v1',
      'server.address': '127.0.0.1',
      'server.port': server.port,
    });
    expect(Object.keys(connect!.attributes)).not.toContain('url.full');
    expect(Object.keys(connect!.attributes)).not.toContain('url.query');
  });
});

describe('otel: metrics', () => {
  it('match stats() after a scripted run', async () => {
    const otel = rig();
    const server = await startWsServer({
      onConnection: ({ socket }) => {
        socket.on('message', (data) => {
          const text = String(data);
          // 'late' and 'hold' are never answered: a timeout, and a request pending for the gauge.
          if (!text.includes('"hold"') && !text.includes('"late"')) socket.send(text);
        });
      },
    });
    const client = newClient(
      keyed(server.url, {
        heartbeat: { intervalMs: 20, timeoutMs: 2_000 },
        reconnect: { baseDelayMs: 0, jitter: 'none' },
      }),
    );
    instrument(client, { tracerProvider: otel.tracerProvider, meterProvider: otel.meterProvider });
    const pongs: number[] = [];
    client.on('pong', (p) => pongs.push(p.rttMs));

    await client.start();
    for (let i = 0; i < 5; i++) client.send(`plain ${i} ✓`);
    await req(client, 'r1');
    await req(client, 'r2');
    await expect(req(client, 'late', { timeoutMs: 10 })).rejects.toBeInstanceOf(RequestTimeoutError);
    await waitFor(client, () => client.stats().messagesIn >= 7 && pongs.length >= 2, 'echoes and two pongs');
    const reopened = waitForEvent(client, 'open', (e) => e.sessionId === 2);
    server.terminateAll();
    await reopened;
    await req(client, 'r3');
    const held = req(client, 'hold').catch(() => {});

    const pongsBefore = pongs.length;
    let metrics = await otel.metrics();
    const pongsAfter = pongs.length;
    let stats = client.stats();
    expect(stats.pendingRequests).toBe(1);
    const value = (name: string, attrs: Record<string, unknown> = {}) => point(metrics, name, attrs)?.value;
    expect(value(Metrics.messages.name, { [Attr.networkIoDirection]: 'receive' })).toBe(stats.messagesIn);
    expect(value(Metrics.messages.name, { [Attr.networkIoDirection]: 'transmit' })).toBe(stats.messagesOut);
    expect(value(Metrics.bytes.name, { [Attr.networkIoDirection]: 'receive' })).toBe(stats.bytesIn);
    expect(value(Metrics.bytes.name, { [Attr.networkIoDirection]: 'transmit' })).toBe(stats.bytesOut);
    expect(value(Metrics.pendingRequests.name)).toBe(stats.pendingRequests);
    expect(value(Metrics.queuedSends.name)).toBe(stats.queuedSends);
    expect(value(Metrics.connectionsOpened.name)).toBe(stats.sessions);
    expect(stats.sessions).toBe(2);
    expect(sumOf(metrics, Metrics.reconnects.name)).toBe(stats.reconnects);
    expect(
      value(Metrics.reconnects.name, { [Attr.reconnectCause]: 'closed', [Attr.closeClass]: 'transient' }),
    ).toBe(1);
    const duration = (outcome: string) =>
      point<Histogram>(metrics, Metrics.requestDuration.name, { [Attr.outcome]: outcome })?.value;
    expect(duration('ok')?.count).toBe(3);
    expect(duration('timeout')?.count).toBe(1);
    expect(duration('timeout')!.sum).toBeGreaterThan(0);
    const sessions = point<Histogram>(metrics, Metrics.sessionDuration.name, {
      [Attr.closeClass]: 'transient',
    })?.value;
    expect(sessions?.count).toBe(1);
    const rtt = point<Histogram>(metrics, Metrics.heartbeatRtt.name)?.value;
    // Pings keep going every 20 ms: a pong may land while the collection runs.
    expect(rtt!.count).toBeGreaterThanOrEqual(pongsBefore);
    expect(rtt!.count).toBeLessThanOrEqual(pongsAfter);
    expect(rtt!.max).toBeCloseTo(Math.max(...pongs.slice(0, rtt!.count)) / 1000, 6);

    // Queued sends while the server is down.
    const reconnecting = waitForState(client, 'reconnecting');
    await server.close();
    await reconnecting;
    client.send('queued 1');
    client.send('queued 2');
    metrics = await otel.metrics();
    stats = client.stats();
    expect(stats.queuedSends).toBe(2);
    expect(value(Metrics.queuedSends.name)).toBe(2);
    expect(value(Metrics.pendingRequests.name)).toBe(0);
    await held;
    await client.stop();
    metrics = await otel.metrics();
    stats = client.stats();
    expect(value(Metrics.messages.name, { [Attr.networkIoDirection]: 'receive' })).toBe(stats.messagesIn);
    expect(value(Metrics.connectionsOpened.name)).toBe(stats.sessions);
    expect(sumOf(metrics, Metrics.reconnects.name)).toBe(stats.reconnects);
    expect(point<Histogram>(metrics, Metrics.sessionDuration.name)).toBeDefined();
    otel.expectAllEnded();
  });

  it('heartbeat misses are counted', async () => {
    const otel = rig();
    const server = await startUpgradeThenSilentServer();
    const client = newClient({
      url: server.url,
      reconnect: false,
      heartbeat: { intervalMs: 10, timeoutMs: 10, maxMissed: 2 },
      closeTimeoutMs: 20,
    });
    instrument(client, { tracerProvider: otel.tracerProvider, meterProvider: otel.meterProvider });
    const missed = waitForEvent(client, 'heartbeat-missed');
    await client.start();
    const { missed: count } = await missed;
    await waitForState(client, 'stopped');
    const metrics = await otel.metrics();
    expect(point(metrics, Metrics.heartbeatMissed.name)?.value).toBe(count);
    expect(count).toBe(2);
    const [session] = otel.named(SpanNames.session);
    expect(session!.attributes[Attr.errorType]).toBe('WSM_ERR_HEARTBEAT_TIMEOUT');
    otel.expectAllEnded();
  });

  it('clients sharing a meter provider add up per attribute set', async () => {
    const otel = rig();
    const server = await startWsServer({ echo: true });
    const a = newClient({ url: server.url, heartbeat: false });
    const b = newClient({ url: server.url, heartbeat: false });
    const c = newClient({ url: server.url, heartbeat: false });
    instrument(a, { meterProvider: otel.meterProvider });
    const detachB = instrument(b, { meterProvider: otel.meterProvider });
    instrument(c, { meterProvider: otel.meterProvider, attributes: { 'app.client': 'c' } });
    await Promise.all([a.start(), b.start(), c.start()]);
    a.send('1');
    b.send('22');
    b.send('333');
    c.send('4444');
    await waitFor(a, () => a.stats().messagesIn === 1);
    await waitFor(b, () => b.stats().messagesIn === 2);
    await waitFor(c, () => c.stats().messagesIn === 1);
    let metrics = await otel.metrics();
    const received = () =>
      (metrics.get(Metrics.messages.name)!.dataPoints as DataPoint<number>[])
        .filter((p) => p.attributes[Attr.networkIoDirection] === 'receive')
        .map((p) => [p.attributes['app.client'] ?? 'shared', p.value]);
    expect(Object.fromEntries(received())).toEqual({ shared: 3, c: 1 });
    // A detached client's counts stay in the total (counters never go back) and stop moving.
    detachB();
    b.send('5');
    await waitFor(b, () => b.stats().messagesIn === 3);
    metrics = await otel.metrics();
    expect(Object.fromEntries(received())).toEqual({ shared: 3, c: 1 });
  });

  it('the series of an attribute set ends when its last client detaches: short-lived clients do not pile up', async () => {
    const otel = rig();
    const server = await startWsServer({ echo: true });
    const live = newClient({ url: server.url, heartbeat: false });
    instrument(live, { meterProvider: otel.meterProvider, attributes: { 'app.client': 'live' } });
    await live.start();
    for (let i = 0; i < 20; i++) {
      const shortLived = newClient({ url: server.url, heartbeat: false });
      const detach = instrument(shortLived, {
        meterProvider: otel.meterProvider,
        attributes: { 'app.client': `c${i}` },
      });
      detach();
    }
    const metrics = await otel.metrics();
    const clients = new Set(
      (metrics.get(Metrics.messages.name)!.dataPoints as DataPoint<number>[]).map(
        (p) => p.attributes['app.client'],
      ),
    );
    expect([...clients]).toEqual(['live']);
  });
});

describe('otel: detach', () => {
  it('ends open spans as detached and stops the metric callbacks', async () => {
    const otel = rig();
    const server = await startWsServer();
    const client = newClient(keyed(server.url));
    const detach = instrument(client, {
      tracerProvider: otel.tracerProvider,
      meterProvider: otel.meterProvider,
    });
    await client.start();
    const pending = req(client, 'forever', { timeoutMs: 0 }).catch((e: unknown) => e);
    await otel.metrics();
    expect(otel.counting.started - otel.counting.ended).toBe(2); // the session and the request

    let statsCalls = 0;
    const stats = client.stats.bind(client);
    client.stats = () => {
      statsCalls++;
      return stats();
    };
    detach();
    detach(); // idempotent
    otel.expectAllEnded();
    const [session] = otel.named(SpanNames.session);
    const [request] = otel.named(SpanNames.request);
    expect(session!.attributes[Attr.outcome]).toBe('detached');
    expect(request!.attributes[Attr.outcome]).toBe('detached');

    const callsAtDetach = statsCalls;
    await otel.metrics();
    expect(statsCalls).toBe(callsAtDetach);

    // Nothing is traced any more, and the late settlement of the request is ignored.
    const before = otel.counting.started;
    await client.stop();
    expect(await pending).toMatchObject({ code: 'WSM_ERR_CLIENT_STOPPED' });
    expect(otel.counting.started).toBe(before);
    expect(request!.attributes[Attr.outcome]).toBe('detached');
    const metrics = await otel.metrics();
    expect(point<Histogram>(metrics, Metrics.requestDuration.name)).toBeUndefined();
  });

  it('instrumenting an open client traces its session; a second instrumentation keeps its own hook spans', async () => {
    const otelA = rig();
    const otelB = rig();
    const server = await startWsServer();
    let release!: () => void;
    let entered!: () => void;
    const inHook = new Promise<void>((r) => {
      entered = r;
    });
    const client = newClient({
      url: server.url,
      heartbeat: false,
      hooks: {
        onOpen: (session) => {
          if (session.id !== 2) return;
          entered();
          return new Promise<void>((r) => {
            release = r;
          });
        },
      },
    });
    await client.start();
    // Late: the session is already open.
    const detachA = instrument(client, {
      tracerProvider: otelA.tracerProvider,
      meterProvider: otelA.meterProvider,
    });
    instrument(client, { tracerProvider: otelB.tracerProvider, meterProvider: otelB.meterProvider });
    const reopened = waitForEvent(client, 'open', (e) => e.sessionId === 2);
    client.restart();
    await inHook;
    // A detaches while onOpen runs: B must still end its own onOpen span, as ok.
    detachA();
    release();
    await reopened;
    await client.stop();
    otelA.expectAllEnded();
    otelB.expectAllEnded();
    expect(otelA.named(SpanNames.onOpen).map((s) => s.attributes[Attr.outcome])).toEqual(['detached']);
    expect(otelB.named(SpanNames.onOpen).map((s) => s.attributes[Attr.outcome])).toEqual(['ok']);
    const lateSession = bySession(otelB.named(SpanNames.session), 1);
    expect(lateSession.attributes[Attr.outcome]).toBe('closed');
  });
});

describe('otel: session.context and message spans', () => {
  it('session.context carries the attempt span in onOpen and the session span in onMessage', async () => {
    const otel = rig();
    const server = await startWsServer({ echo: true });
    const seen: { onOpen?: string | undefined; onMessage?: string | undefined; user?: string } = {};
    let handled!: () => void;
    const messageHandled = new Promise<void>((r) => {
      handled = r;
    });
    const client = newClient({
      url: server.url,
      heartbeat: false,
      hooks: {
        onOpen: (session) => {
          seen.onOpen = trace.getSpan(session.context as Context)?.spanContext().spanId;
        },
        onMessage: (_m, session) => {
          seen.onMessage = trace.getSpan(session.context as Context)?.spanContext().spanId;
          const user = otel.tracerProvider
            .getTracer('app')
            .startSpan('app work', {}, session.context as Context);
          seen.user = user.spanContext().spanId;
          user.end();
          handled();
        },
      },
    });
    instrument(client, { tracerProvider: otel.tracerProvider });
    await client.start();
    client.send('hello');
    await messageHandled;
    await client.stop();
    const [attempt] = otel.named(SpanNames.attempt);
    const [session] = otel.named(SpanNames.session);
    const [user] = otel.named('app work');
    expect(seen.onOpen).toBe(idOf(attempt!));
    expect(seen.onMessage).toBe(idOf(session!));
    expect(parentOf(user!)).toBe(idOf(session!));
    otel.expectAllEnded();
  });

  it('no per-message spans by default; sampled receive spans under the session when asked', async () => {
    const off = rig();
    const on = rig();
    const server = await startWsServer({ echo: true });
    const client = newClient({ url: server.url, heartbeat: false });
    instrument(client, { tracerProvider: off.tracerProvider });
    instrument(client, { tracerProvider: on.tracerProvider, messages: { sampleRate: 1 } });
    expect(() => instrument(client, { messages: { sampleRate: 2 } })).toThrow(TypeError);
    expect(() => instrument({} as never)).toThrow(TypeError);
    await client.start();
    client.send('abc');
    client.send(new Uint8Array([1, 2, 3, 4]));
    await waitFor(client, () => client.stats().messagesIn === 2, 'two echoes');
    await client.stop();
    expect(off.named(SpanNames.receive)).toEqual([]);
    const received = on.named(SpanNames.receive);
    const [session] = on.named(SpanNames.session);
    expect(received).toHaveLength(2);
    for (const r of received) {
      expect(r.kind).toBe(SpanKind.CONSUMER);
      expect(parentOf(r)).toBe(idOf(session!));
      expect(r.attributes['messaging.operation.type']).toBe('receive');
    }
    expect(received.map((r) => r.attributes['messaging.message.body.size'])).toEqual([3, 4]);
    off.expectAllEnded();
    on.expectAllEnded();
  });
});

describe('the core instrumentation hook', () => {
  it('a throwing instrumentation is reported and breaks neither requests nor hooks', async () => {
    const server = await startWsServer({ echo: true });
    const errors: unknown[] = [];
    const client = newClient(keyed(server.url, { hooks: { onOpen: () => {} } }));
    client.on('error', (e) => errors.push(e));
    const boom = () => {
      throw new Error('broken exporter');
    };
    client[INSTRUMENT]({
      requestStarted: () => 'token',
      requestSettled: boom,
      hookStarted: () => 'h',
      hookEnded: boom,
    });
    await client.start();
    await expect(req(client, 'fine')).resolves.toBeDefined();
    await waitFor(client, () => errors.length >= 2, 'two reported errors');
    expect(errors).toEqual([
      expect.objectContaining({ code: 'WSM_ERR_HOOK', hook: 'instrumentation' }),
      expect.objectContaining({ code: 'WSM_ERR_HOOK', hook: 'instrumentation' }),
    ]);
  });
});
