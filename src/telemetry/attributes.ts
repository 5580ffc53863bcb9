/**
 * Every name `wsmachine/otel` records, in one place: span names, attribute keys, metric names and
 * units, and the redaction applied to anything URL-shaped before it reaches a span.
 *
 * Keys follow the OpenTelemetry semantic conventions where one exists (`server.*`, `url.*`,
 * `network.*`, `error.type`, `http.response.status_code`, `messaging.*`); what WebSocket-specific
 * facts have no convention for lives under `wsmachine.*`.
 */
import type { Attributes } from '@opentelemetry/api';

/**
 * The instrumentation scope: the name of the tracer and the meter.
 *
 * @example
 * ```ts
 * import { INSTRUMENTATION_SCOPE } from 'wsmachine/otel';
 * const ours = spans.filter((s) => s.instrumentationScope.name === INSTRUMENTATION_SCOPE);
 * ```
 */
export const INSTRUMENTATION_SCOPE = 'wsmachine';

/**
 * Span names: low-cardinality, one per kind of work.
 *
 * @example
 * ```ts
 * import { SpanNames } from 'wsmachine/otel';
 * const sessions = exporter.getFinishedSpans().filter((s) => s.name === SpanNames.session);
 * ```
 */
export const SpanNames = {
  /** One connection attempt: URL resolution, dial, HTTP upgrade and `onOpen`, until open or failure. */
  attempt: 'wsmachine connect',
  /** One session: from `open` to its `close`. */
  session: 'wsmachine session',
  /** The `onOpen` hook (child of the attempt span). */
  onOpen: 'wsmachine onOpen',
  /** The `onClose` hook (child of the session span, or of the attempt span when `onOpen` failed). */
  onClose: 'wsmachine onClose',
  /** One `request()`, from registration to settlement. */
  request: 'wsmachine request',
  /** One received message (opt-in, sampled). */
  receive: 'wsmachine receive',
} as const;

/**
 * Attribute keys of spans and metric points.
 *
 * @example
 * ```ts
 * import { Attr } from 'wsmachine/otel';
 * const failed = spans.filter((s) => s.attributes[Attr.outcome] === 'failed');
 * ```
 */
export const Attr = {
  // OpenTelemetry semantic conventions (stable)
  serverAddress: 'server.address',
  serverPort: 'server.port',
  urlScheme: 'url.scheme',
  urlPath: 'url.path',
  networkProtocolName: 'network.protocol.name',
  errorType: 'error.type',
  httpResponseStatusCode: 'http.response.status_code',
  // OpenTelemetry semantic conventions (development)
  messagingSystem: 'messaging.system',
  messagingOperationType: 'messaging.operation.type',
  messagingMessageBodySize: 'messaging.message.body.size',
  networkIoDirection: 'network.io.direction',
  // wsmachine
  outcome: 'wsmachine.outcome',
  sessionId: 'wsmachine.session.id',
  attempt: 'wsmachine.attempt',
  restarting: 'wsmachine.restarting',
  subprotocol: 'wsmachine.subprotocol',
  closeCode: 'wsmachine.close.code',
  closeReason: 'wsmachine.close.reason',
  closeClass: 'wsmachine.close.class',
  closeClean: 'wsmachine.close.clean',
  closeRequested: 'wsmachine.close.requested',
  requestId: 'wsmachine.request.id',
  requestKey: 'wsmachine.request.key',
  reconnectCause: 'wsmachine.reconnect.cause',
  messageBinary: 'wsmachine.message.binary',
} as const;

/** `network.protocol.name` of every span. */
export const PROTOCOL_NAME = 'websocket';
/** `messaging.system` of receive spans (not a registered value: WebSocket has none). */
export const MESSAGING_SYSTEM = 'websocket';

/**
 * Values of `wsmachine.outcome`.
 *
 * - attempt: `open`, `failed` (dial or socket error), `rejected` (HTTP status on the upgrade),
 *   `timeout` (openTimeoutMs), `hook_failed` (onOpen threw), `aborted` (stop/exit/restart while
 *   connecting), `stopped`, `detached`;
 * - session: `closed`, `stopped`, `detached`;
 * - hooks: `ok`, `error`, `abandoned` (the session ended while the hook still ran), `detached`;
 * - request: `ok`, `timeout`, `aborted`, `closed`, `stopped`, `error`, `detached`.
 *
 * @example
 * ```ts
 * import { Attr, Outcomes } from 'wsmachine/otel';
 * const timedOut = spans.filter((s) => s.attributes[Attr.outcome] === Outcomes.timeout);
 * ```
 */
export const Outcomes = {
  open: 'open',
  failed: 'failed',
  rejected: 'rejected',
  timeout: 'timeout',
  hookFailed: 'hook_failed',
  aborted: 'aborted',
  closed: 'closed',
  stopped: 'stopped',
  detached: 'detached',
  ok: 'ok',
  error: 'error',
  abandoned: 'abandoned',
} as const;

/**
 * Metric names, units and descriptions.
 *
 * @example
 * ```ts
 * import { Metrics } from 'wsmachine/otel';
 * const opened = resourceMetrics.scopeMetrics[0]?.metrics.find((m) => m.descriptor.name === Metrics.connectionsOpened.name);
 * ```
 */
export const Metrics = {
  connectionsOpened: {
    name: 'wsmachine.connections.opened',
    unit: '{connection}',
    description: 'Sessions that reached open (equals stats().sessions).',
  },
  reconnects: {
    name: 'wsmachine.reconnects',
    unit: '{reconnect}',
    description:
      'Reconnect dials (equals stats().reconnects), by wsmachine.reconnect.cause and wsmachine.close.class.',
  },
  sessionDuration: {
    name: 'wsmachine.session.duration',
    unit: 's',
    description: 'How long sessions stayed open, by wsmachine.close.class.',
  },
  messages: {
    name: 'wsmachine.messages',
    unit: '{message}',
    description: 'Messages received and sent (stats().messagesIn/Out), by network.io.direction.',
  },
  bytes: {
    name: 'wsmachine.bytes',
    unit: 'By',
    description:
      'Payload received and sent (stats().bytesIn/Out; text counted in UTF-16 units), by network.io.direction.',
  },
  requestDuration: {
    name: 'wsmachine.request.duration',
    unit: 's',
    description: 'Time from request() to its settlement, by wsmachine.outcome.',
  },
  pendingRequests: {
    name: 'wsmachine.requests.pending',
    unit: '{request}',
    description: 'Requests waiting for a response (stats().pendingRequests).',
  },
  queuedSends: {
    name: 'wsmachine.sends.queued',
    unit: '{message}',
    description: 'Messages in the send buffer (stats().queuedSends).',
  },
  heartbeatRtt: {
    name: 'wsmachine.heartbeat.rtt',
    unit: 's',
    description: 'Round trip of answered heartbeat pings.',
  },
  heartbeatMissed: {
    name: 'wsmachine.heartbeat.missed',
    unit: '{ping}',
    description: 'Consecutive unanswered pings that ended a session.',
  },
} as const;

/** Histogram bucket advice (seconds). */
export const Buckets = {
  requestDuration: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  sessionDuration: [1, 5, 30, 60, 300, 900, 1800, 3600, 14_400, 43_200, 86_400],
  heartbeatRtt: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
} as const;

/**
 * Server and URL attributes of a connection URL: scheme, host, port, path. Never the query string
 * or the user info, whatever the URL carries.
 *
 * @example
 * ```ts
 * urlAttributes('wss://user:pw@feed.example:8443/v1?token=abc');
 * // { 'url.scheme': 'wss', 'server.address': 'feed.example', 'server.port': 8443, 'url.path': '/v1' }
 * ```
 */
export function urlAttributes(url: string): Attributes {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return {};
  }
  const scheme = parsed.protocol.replace(/:$/, '');
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  const port =
    parsed.port !== ''
      ? Number(parsed.port)
      : scheme === 'wss' || scheme === 'https'
        ? 443
        : scheme === 'ws' || scheme === 'http'
          ? 80
          : undefined;
  const attributes: Attributes = {
    [Attr.urlScheme]: scheme,
    [Attr.serverAddress]: host,
    [Attr.urlPath]: parsed.pathname,
  };
  if (port !== undefined) attributes[Attr.serverPort] = port;
  return attributes;
}

const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s'"<>()]+/gi;

/**
 * Removes user info and query strings from every URL inside a text (error messages and stacks go
 * into spans; an adapter's message may quote the URL it dialed).
 *
 * @example
 * ```ts
 * import { scrubText } from 'wsmachine/otel';
 * scrubText('dial wss://u:p@feed.example/v1?token=abc failed'); // 'dial wss://feed.example/v1 failed'
 * ```
 */
export function scrubText(text: string): string {
  return text.replace(URL_IN_TEXT, (match) => {
    try {
      const u = new URL(match);
      return `${u.protocol}//${u.host}${u.pathname}`;
    } catch {
      return '<url>';
    }
  });
}

/** The `error.type` of an error: its stable `WSM_ERR_*` code, else its class name. */
export function errorTypeOf(error: unknown): string {
  if (typeof error === 'object' && error !== null) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code !== '') return code;
    const name = (error as { name?: unknown }).name;
    if (typeof name === 'string' && name !== '') return name;
  }
  return '_OTHER';
}

/** The message of an error, scrubbed of URL secrets. */
export function errorMessageOf(error: unknown): string {
  if (typeof error === 'object' && error !== null) {
    const message = (error as { message?: unknown }).message;
    if (typeof message === 'string') return scrubText(message);
  }
  return scrubText(String(error));
}

/** A request key as an attribute value, when it is a plain string or number. */
export function keyAttribute(key: unknown): string | number | undefined {
  if (typeof key === 'string') return key.length <= 128 ? key : `${key.slice(0, 128)}…`;
  if (typeof key === 'number' && Number.isFinite(key)) return key;
  return undefined;
}

/**
 * What `wsmachine.reconnect.cause` says about a reconnect: the stable code of the error that ended
 * the previous session (`WSM_ERR_HEARTBEAT_TIMEOUT`, `WSM_ERR_CONNECT`, ...), `restart` when the
 * app asked, or `closed` when the server closed without an error. Bounded cardinality.
 */
export function reconnectCauseOf(cause: unknown): string {
  if (typeof cause === 'object' && cause !== null) {
    const code = (cause as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('WSM_ERR_')) return code;
    if ((cause as { requested?: unknown }).requested === true) return 'restart';
    const inner = (cause as { error?: unknown }).error;
    if (inner !== undefined) return reconnectCauseOf(inner);
    if (typeof (cause as { code?: unknown }).code === 'number') return 'closed';
  }
  return cause === undefined ? 'closed' : '_OTHER';
}
