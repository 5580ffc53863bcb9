/**
 * The metric names the engine emits through Artillery's event emitter (`ee.emit('counter', name, n)`,
 * `ee.emit('histogram', name, ms)`), so they appear in Artillery's console summary and JSON report
 * next to its own `vusers.*` metrics.
 */

/**
 * Counter names. `requests.sent` always equals `requests.ok + requests.failed`: every request a step
 * issues settles (a response, or a typed failure), and the failures are also counted per code.
 *
 * @example
 * ```ts
 * const { Counters } = require('artillery-engine-wsmachine'); // static members of the engine class
 * const c = report.aggregate.counters;
 * expect(c[Counters.REQUESTS_SENT]).toBe(c[Counters.REQUESTS_OK] + (c[Counters.REQUESTS_FAILED] ?? 0));
 * ```
 */
export const Counters = {
  /** Sessions that opened (the first one and every reconnect that succeeded): `stats().sessions`. */
  SESSIONS: 'wsmachine.sessions',
  /** Reconnect dials: `stats().reconnects`. */
  RECONNECTS: 'wsmachine.reconnects',
  /** Messages received: `stats().messagesIn`. */
  MESSAGES_IN: 'wsmachine.messages.in',
  /** Messages written to the socket: `stats().messagesOut`. */
  MESSAGES_OUT: 'wsmachine.messages.out',
  /** Sends the client knows were not delivered (`undelivered` events): `stats().undelivered`. */
  UNDELIVERED: 'wsmachine.undelivered',
  /** Requests issued by `request` steps. */
  REQUESTS_SENT: 'wsmachine.requests.sent',
  /** Requests answered. */
  REQUESTS_OK: 'wsmachine.requests.ok',
  /** Requests that failed, all codes; `wsmachine.requests.failed.<code>` per code. */
  REQUESTS_FAILED: 'wsmachine.requests.failed',
  /** Connection-scoped errors the client reported (`error` events), as `wsmachine.errors.<code>`. */
  CLIENT_ERRORS: 'wsmachine.errors',
  /** Messages dropped from a virtual user's inbox because `inboxSize` was reached. */
  INBOX_DROPPED: 'wsmachine.inbox.dropped',
} as const;

/**
 * Histogram names (milliseconds; Artillery reports min, max, mean, median, p95, p99 ...).
 *
 * @example
 * ```ts
 * const { Histograms } = require('artillery-engine-wsmachine');
 * report.aggregate.summaries[Histograms.REQUEST_LATENCY].p99;
 * ```
 */
export const Histograms = {
  /** From `request()` to its response, for answered requests (queue time during an outage included). */
  REQUEST_LATENCY: 'wsmachine.request.latency',
  /** From a `connect` step to the open session (dial, handshake, retries with `retryOnStart`). */
  TIME_TO_OPEN: 'wsmachine.time_to_open',
  /** From the close of an open session to the next open session of the same client. */
  RECONNECT_DOWNTIME: 'wsmachine.reconnect.downtime',
} as const;

/** What the engine needs of Artillery's event emitter. */
export interface MetricEvents {
  emit(event: string, ...args: unknown[]): unknown;
}
