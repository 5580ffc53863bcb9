/**
 * The instrumentation seam: what `wsmachine/otel` observes beyond the public events (request and hook
 * lifetimes, a trace context per session). Nothing is paid when nothing is attached. A throwing
 * instrumentation is reported and never breaks the client.
 */
import { HookError, type WsmError, isWsmError } from '../core/errors.js';
import type { Message } from '../core/message.js';
import type { PendingEntry } from '../rpc/correlator.js';

/**
 * The key under which a client accepts an {@link Instrumentation} (the seam `wsmachine/otel` uses). A
 * `Symbol.for` key, so `wsmachine/otel` finds it across copies of the package without the core
 * importing OpenTelemetry. Advanced: most users want `instrument()` from `wsmachine/otel` instead.
 *
 * @example
 * ```ts
 * import { INSTRUMENT, createClient } from 'wsmachine';
 * const client = createClient({ url: 'wss://example.test/feed' });
 * const detach = client[INSTRUMENT]({ hookStarted: (hook, sessionId) => console.log(hook, 'runs for', sessionId) });
 * detach();
 * ```
 */
export const INSTRUMENT: unique symbol = Symbol.for('wsmachine.instrument') as never;

/**
 * How a settled request ended, for instrumentation: `timeout` ({@link RequestTimeoutError}),
 * `aborted` ({@link RequestAbortedError}), `closed` (the connection or session ended first), `stopped`
 * (the client stopped), `error` (anything else).
 *
 * @example
 * ```ts
 * import type { RequestOutcome } from 'wsmachine';
 * // Which outcomes a caller may retry: the server may never have seen the request.
 * const retryable: Record<RequestOutcome, boolean> = {
 *   ok: false, timeout: true, aborted: false, closed: true, stopped: false, error: false,
 * };
 * ```
 */
export type RequestOutcome = 'ok' | 'timeout' | 'aborted' | 'closed' | 'stopped' | 'error';

/**
 * What instrumentation can observe beyond the public events: request and hook lifetimes, and a trace
 * context per session for `session.context`. Every method is optional; a throwing one is reported and
 * never breaks the client. Advanced: `wsmachine/otel` implements it.
 *
 * @example
 * ```ts
 * import { INSTRUMENT, type Instrumentation, createClient } from 'wsmachine';
 * const timing: Instrumentation = {
 *   requestStarted: () => performance.now(),
 *   requestSettled: (started, outcome) => console.log(outcome, performance.now() - (started as number), 'ms'),
 * };
 * createClient({ url: 'wss://example.test/feed' })[INSTRUMENT](timing);
 * ```
 */
export interface Instrumentation {
  requestStarted?(info: { id: number; key: unknown; sessionId: number | undefined }): unknown;
  requestSettled?(token: unknown, outcome: RequestOutcome, error: unknown): void;
  hookStarted?(hook: 'onOpen' | 'onClose', sessionId: number): unknown;
  hookEnded?(token: unknown, error: unknown): void;
  sessionContext?(sessionId: number): unknown;
}

/** Hook spans in flight: each token with the instrumentation that started it. */
export type HookSpans = ReadonlyArray<readonly [Instrumentation, unknown]> | undefined;

function requestOutcome(error: unknown): RequestOutcome {
  if (!isWsmError(error)) return 'error';
  switch (error.code) {
    case 'WSM_ERR_REQUEST_TIMEOUT':
      return 'timeout';
    case 'WSM_ERR_REQUEST_ABORTED':
      return 'aborted';
    case 'WSM_ERR_CONNECTION_CLOSED':
    case 'WSM_ERR_SESSION_ENDED':
      return 'closed';
    case 'WSM_ERR_CLIENT_STOPPED':
      return 'stopped';
    default:
      return 'error';
  }
}

/** The instrumentations attached to one client. */
export class Instruments {
  private list: Instrumentation[] | undefined;
  private readonly report: (error: WsmError) => void;

  constructor(report: (error: WsmError) => void) {
    this.report = report;
  }

  get attached(): boolean {
    return this.list !== undefined;
  }

  attach(instrumentation: Instrumentation): () => void {
    this.list = [...(this.list ?? []), instrumentation];
    return () => {
      const rest = (this.list ?? []).filter((i) => i !== instrumentation);
      this.list = rest.length > 0 ? rest : undefined;
    };
  }

  /** The trace context an instrumentation keeps for a session (`session.context`). */
  contextOf(sessionId: number): unknown {
    const list = this.list;
    if (list === undefined) return undefined;
    for (const i of list) {
      const c = this.guarded(() => i.sessionContext?.(sessionId));
      if (c !== undefined) return c;
    }
    return undefined;
  }

  /** Observes one request until it settles. */
  traceRequest(entry: PendingEntry, promise: Promise<Message>, sessionId: number | undefined): void {
    const list = this.list ?? [];
    const tokens = list.map((i) =>
      this.guarded(() => i.requestStarted?.({ id: entry.id, key: entry.key, sessionId })),
    );
    // A throwing instrumentation is reported, never left as an unhandled rejection of this chain.
    const settle = (outcome: RequestOutcome, error: unknown) => {
      for (let n = 0; n < list.length; n++)
        this.guarded(() => list[n]!.requestSettled?.(tokens[n], outcome, error));
    };
    promise.then(
      () => settle('ok', undefined),
      (error: unknown) => settle(requestOutcome(error), error),
    );
  }

  /**
   * Starts hook spans. Each token stays paired with the instrumentation that made it: one attached or
   * detached while the hook runs must not receive another's token.
   */
  hookStarted(hook: 'onOpen' | 'onClose', sessionId: number): HookSpans {
    return this.list?.map((i) => [i, this.guarded(() => i.hookStarted?.(hook, sessionId))] as const);
  }

  hookEnded(spans: HookSpans, error: unknown): void {
    if (spans === undefined) return;
    // A throwing instrumentation must not turn a hook's success into a failure.
    for (const [i, token] of spans) this.guarded(() => i.hookEnded?.(token, error));
  }

  /** Runs instrumentation code: a throw is reported and yields undefined, never breaking the client. */
  private guarded<T>(fn: () => T): T | undefined {
    try {
      return fn();
    } catch (error) {
      this.report(new HookError('instrumentation', error));
      return undefined;
    }
  }
}
