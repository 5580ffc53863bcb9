/**
 * `instrument(client, options)`: attaches OpenTelemetry traces and metrics to a client from the
 * outside, through its public events, `stats()`, and the small instrumentation hook the client
 * accepts under `Symbol.for('wsmachine.instrument')` (request and hook lifetimes, `session.context`).
 * Nothing here runs per received message unless message spans were asked for, and nothing here
 * starts a timer.
 */
import {
  type Attributes,
  type MeterProvider,
  ROOT_CONTEXT,
  type TracerProvider,
  metrics,
  trace,
} from '@opentelemetry/api';
import type { ClientEvents, ClientState, ClientStats, INSTRUMENT, Instrumentation } from '../public.js';
import { Attr, INSTRUMENTATION_SCOPE, Outcomes, reconnectCauseOf } from './attributes.js';
import { instrumentsFor } from './metrics.js';
import { SpanTracker } from './tracing.js';

/** The key the client accepts an instrumentation under (shared across copies of the package). */
const INSTRUMENT_KEY: typeof INSTRUMENT = Symbol.for('wsmachine.instrument') as typeof INSTRUMENT;

/**
 * What `instrument()` needs of a client: the public surface of `WsClient` and the instrumentation key.
 * Any client made by `createClient()` is one.
 *
 * @example
 * ```ts
 * import { createClient } from 'wsmachine';
 * import { type InstrumentableClient, instrument } from 'wsmachine/otel';
 * const client: InstrumentableClient = createClient({ url: 'wss://feed.example/v1' });
 * instrument(client);
 * ```
 */
export type InstrumentableClient = {
  on<K extends keyof ClientEvents>(event: K, listener: (payload: ClientEvents[K]) => void): () => void;
  stats(): ClientStats;
  readonly state: ClientState;
  readonly sessionId: number;
  readonly attempt: number;
} & { [K in typeof INSTRUMENT]: (instrumentation: Instrumentation) => () => void };

/**
 * Options of {@link instrument}.
 *
 * @example
 * ```ts
 * import { instrument } from 'wsmachine/otel';
 * instrument(client, { messages: { sampleRate: 0.01 }, attributes: { 'app.client': 'prices' } });
 * ```
 */
export interface InstrumentOptions {
  /** Where spans go. @default the global tracer provider (`trace.getTracerProvider()`) */
  tracerProvider?: TracerProvider;
  /**
   * Where metrics go. The global one is read when `instrument()` is called: register the SDK first.
   * @default the global meter provider (`metrics.getMeterProvider()`)
   */
  meterProvider?: MeterProvider;
  /**
   * A `wsmachine receive` span per received message, sampled with `sampleRate` in [0, 1]. Off by
   * default: spans are never created per message unless asked for.
   * @default false
   */
  messages?: false | { sampleRate?: number };
  /**
   * Added to every span and metric point, e.g. `{ 'wsmachine.client': 'prices' }`. Clients
   * instrumented with the same meter provider and the same attributes add up into one metric series.
   * @default {}
   */
  attributes?: Attributes;
}

/**
 * Attaches OpenTelemetry tracing and metrics to a client. Returns a function that detaches it: it
 * ends every span still open (outcome `detached`) and removes every listener and metric callback.
 * Calling it twice is harmless.
 *
 * @throws {TypeError} when `client` is not a wsmachine client, or `messages.sampleRate` is not in [0, 1].
 *
 * @example
 * ```ts
 * import { createClient } from 'wsmachine';
 * import { instrument } from 'wsmachine/otel';
 * import { context, trace } from '@opentelemetry/api';
 *
 * const client = createClient({
 *   url: 'wss://feed.example/v1',
 *   hooks: {
 *     onMessage: (m, session) =>
 *       context.with(session.context as never, () => trace.getTracer('app').startActiveSpan('handle', (s) => s.end())),
 *   },
 * });
 * const detach = instrument(client); // global providers
 * await client.start();
 * // ...
 * await client.stop();
 * detach();
 * ```
 */
export function instrument(client: InstrumentableClient, options: InstrumentOptions = {}): () => void {
  if (typeof client?.[INSTRUMENT_KEY] !== 'function' || typeof client.on !== 'function') {
    throw new TypeError('instrument(client) needs a client made by wsmachine createClient()');
  }
  const messageOption = options.messages ?? false;
  const sampleRate = messageOption === false ? 0 : (messageOption.sampleRate ?? 1);
  if (typeof sampleRate !== 'number' || !(sampleRate >= 0 && sampleRate <= 1)) {
    throw new TypeError(
      `instrument(): messages.sampleRate must be a number in [0, 1], got ${String(sampleRate)}`,
    );
  }
  const base: Attributes = { ...(options.attributes ?? {}) };
  const tracerProvider = options.tracerProvider ?? trace.getTracerProvider();
  const meterProvider = options.meterProvider ?? metrics.getMeterProvider();
  const spans = new SpanTracker({
    tracer: tracerProvider.getTracer(INSTRUMENTATION_SCOPE),
    attributes: base,
    messageSampleRate: sampleRate,
  });
  const instruments = instrumentsFor(meterProvider);
  let detached = false;
  /** The reconnect scheduled by the last `reconnecting` event, counted when its dial starts. */
  let pendingReconnect: Attributes | undefined;
  /** Facts of the last close, for the reconnect that follows it. */
  let lastCloseClass = 'transient';
  let lastHookFailed = false;
  /** performance.now() at each open session's `open`. */
  const openedAt = new Map<number, number>();

  const attemptStarted = () => {
    const sid = client.sessionId;
    if (!spans.attemptStarted(sid, client.attempt)) return;
    if (pendingReconnect !== undefined) {
      instruments.reconnects.add(1, pendingReconnect);
      pendingReconnect = undefined;
    }
  };

  const offs: Array<() => void> = [
    client.on('connecting', ({ attempt, url }) => {
      attemptStarted();
      spans.attemptUrl(client.sessionId, url, attempt);
    }),
    client.on('state', ({ to }) => {
      // The `connecting` event comes first when the URL is static; a url function that fails never
      // emits it, so the state change starts the attempt too.
      if (to === 'connecting') attemptStarted();
    }),
    client.on('open', ({ sessionId, restarting, protocol }) => {
      spans.opened(sessionId, restarting, protocol);
      openedAt.set(sessionId, performance.now());
      instruments.connectionsOpened.add(1, base);
    }),
    client.on('close', (close) => {
      const end = spans.sessionClosed(close);
      lastCloseClass = close.class;
      lastHookFailed = end.hookFailed;
      const started = openedAt.get(close.sessionId);
      if (started !== undefined) {
        openedAt.delete(close.sessionId);
        instruments.sessionDuration.record((performance.now() - started) / 1000, {
          ...base,
          [Attr.closeClass]: close.class,
        });
      }
    }),
    client.on('reconnecting', ({ cause }) => {
      pendingReconnect = {
        ...base,
        [Attr.reconnectCause]: lastHookFailed ? 'WSM_ERR_HOOK' : reconnectCauseOf(cause),
        [Attr.closeClass]: lastCloseClass,
      };
    }),
    client.on('pong', ({ rttMs }) => {
      instruments.heartbeatRtt.record(rttMs / 1000, base);
    }),
    client.on('heartbeat-missed', ({ missed }) => {
      instruments.heartbeatMissed.add(missed, base);
    }),
    client.on('stopped', () => {
      pendingReconnect = undefined;
      openedAt.clear();
      spans.endAll(Outcomes.stopped);
    }),
  ];
  if (sampleRate > 0) offs.push(client.on('message', (m) => spans.message(m)));

  const instrumentation: Instrumentation = {
    requestStarted: (info) => spans.requestStarted(info),
    requestSettled: (token, outcome, error) => {
      const seconds = spans.requestSettled(token, outcome, error);
      if (seconds !== undefined && !detached) {
        instruments.requestDuration.record(seconds, { ...base, [Attr.outcome]: outcome });
      }
    },
    hookStarted: (hook, sessionId) => spans.hookStarted(hook, sessionId),
    hookEnded: (token, error) => spans.hookEnded(token, error),
    sessionContext: (sessionId) => spans.sessionContext(sessionId),
  };
  const detachCore = client[INSTRUMENT_KEY](instrumentation);
  const stopObserving = instruments.observeClient(() => client.stats(), base);

  // Instrumented mid-flight: trace the attempt or session under way.
  const state = client.state;
  if (state === 'connecting' || state === 'opening') attemptStarted();
  else if (state === 'open') {
    spans.startSession(client.sessionId, ROOT_CONTEXT, {});
    openedAt.set(client.sessionId, performance.now());
  }

  return () => {
    if (detached) return;
    detached = true;
    for (const off of offs) off();
    detachCore();
    stopObserving();
    openedAt.clear();
    spans.endAll(Outcomes.detached);
  };
}
