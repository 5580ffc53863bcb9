/**
 * Span bookkeeping for one instrumented client. Every span started here is held in exactly one
 * table until it ends, and every table is emptied on every path: a session's `close` ends its
 * attempt, session and hook spans; `stopped` ends whatever is left; detaching ends everything,
 * requests included, with the outcome `detached`. Late calls for an ended span are ignored.
 */
import {
  type Attributes,
  type Context,
  type Link,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  context as otelContext,
  trace,
} from '@opentelemetry/api';
import type { CloseEvent, Message, RequestOutcome } from '../public.js';
import {
  Attr,
  MESSAGING_SYSTEM,
  Outcomes,
  PROTOCOL_NAME,
  SpanNames,
  errorMessageOf,
  errorTypeOf,
  keyAttribute,
  scrubText,
  urlAttributes,
} from './attributes.js';

type Outcome = (typeof Outcomes)[keyof typeof Outcomes];

interface AttemptRecord {
  readonly sessionId: number;
  readonly span: Span;
  readonly context: Context;
  /** Server/URL attributes, copied to the session span. */
  url: Attributes;
  /** The error onOpen failed with, if it did. */
  hookError: unknown;
  hookFailed: boolean;
}

interface SessionRecord {
  readonly sessionId: number;
  readonly span: Span;
  readonly context: Context;
}

/** Token handed to the client for a hook run. */
export interface HookToken {
  readonly hook: 'onOpen' | 'onClose';
  readonly sessionId: number;
  readonly span: Span;
  readonly context: Context;
  ended: boolean;
}

/** Token handed to the client for a request. */
export interface RequestToken {
  readonly span: Span;
  readonly startedAt: number;
  ended: boolean;
}

/** Facts about an attempt's end that the metrics need. */
export interface AttemptEnd {
  hookFailed: boolean;
}

/** What the tracer needs from its owner. */
export interface SpanTrackerOptions {
  tracer: Tracer;
  /** Added to every span. */
  attributes: Attributes;
  /** Probability of a receive span per message; 0 turns them off. */
  messageSampleRate: number;
}

/** Records an exception (message and stack scrubbed of URL secrets) and sets the ERROR status. */
function fail(span: Span, error: unknown, fallbackMessage: string): void {
  if (error !== undefined && error !== null) {
    const e = error as { name?: unknown; message?: unknown; stack?: unknown };
    span.recordException({
      name: typeof e.name === 'string' ? e.name : errorTypeOf(error),
      message: errorMessageOf(error),
      code: errorTypeOf(error),
      ...(typeof e.stack === 'string' ? { stack: scrubText(e.stack) } : {}),
    });
    span.setAttribute(Attr.errorType, errorTypeOf(error));
    span.setStatus({ code: SpanStatusCode.ERROR, message: errorMessageOf(error) });
  } else {
    span.setStatus({ code: SpanStatusCode.ERROR, message: fallbackMessage });
  }
}

/** The span tables of one instrumented client. */
export class SpanTracker {
  private readonly tracer: Tracer;
  private readonly base: Attributes;
  private readonly sampleRate: number;
  private readonly attempts = new Map<number, AttemptRecord>();
  private readonly sessions = new Map<number, SessionRecord>();
  private readonly hooks = new Set<HookToken>();
  private readonly requests = new Set<RequestToken>();
  /** The session whose span is open and current (the newest open one), 0 for none. */
  private currentSession = 0;
  /** Span context of the last session span that ended: linked from the next attempt. */
  private previousSession: Link | undefined;
  private detached = false;

  constructor(options: SpanTrackerOptions) {
    this.tracer = options.tracer;
    this.base = options.attributes;
    this.sampleRate = options.messageSampleRate;
  }

  /** Spans started and not ended yet (for tests and diagnostics). */
  get openSpans(): number {
    return this.attempts.size + this.sessions.size + this.hooks.size + this.requests.size;
  }

  // -----------------------------------------------------------------------------------------------
  // Attempts and sessions

  /** Starts the attempt span of `sessionId` unless it exists; returns whether it started now. */
  attemptStarted(sessionId: number, attempt: number): boolean {
    if (this.detached || sessionId <= 0 || this.attempts.has(sessionId)) return false;
    const links = this.previousSession === undefined ? [] : [this.previousSession];
    this.previousSession = undefined;
    const span = this.tracer.startSpan(
      SpanNames.attempt,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          ...this.base,
          [Attr.networkProtocolName]: PROTOCOL_NAME,
          [Attr.sessionId]: sessionId,
          [Attr.attempt]: attempt,
        },
        links,
      },
      ROOT_CONTEXT,
    );
    this.attempts.set(sessionId, {
      sessionId,
      span,
      context: trace.setSpan(ROOT_CONTEXT, span),
      url: {},
      hookError: undefined,
      hookFailed: false,
    });
    return true;
  }

  /** The `connecting` event: the (already redacted) URL this attempt dials. */
  attemptUrl(sessionId: number, url: string, attempt: number): void {
    const record = this.attempts.get(sessionId);
    if (record === undefined) return;
    record.url = urlAttributes(url);
    record.span.setAttributes({ ...record.url, [Attr.attempt]: attempt });
  }

  /** The `open` event: the attempt succeeded; the session span starts as its child. */
  opened(sessionId: number, restarting: boolean, protocol: string): void {
    if (this.detached) return;
    const record = this.attempts.get(sessionId);
    let parent = ROOT_CONTEXT;
    let url: Attributes = {};
    if (record !== undefined) {
      this.attempts.delete(sessionId);
      record.span.setAttributes({ [Attr.outcome]: Outcomes.open, [Attr.restarting]: restarting });
      record.span.end();
      parent = record.context;
      url = record.url;
    }
    this.startSession(sessionId, parent, {
      ...url,
      [Attr.restarting]: restarting,
      [Attr.subprotocol]: protocol,
    });
  }

  /** A session span for a session that is already open (instrumented late) or just opened. */
  startSession(sessionId: number, parent: Context, attributes: Attributes): void {
    if (this.detached || this.sessions.has(sessionId)) return;
    const span = this.tracer.startSpan(
      SpanNames.session,
      {
        kind: SpanKind.INTERNAL,
        attributes: {
          ...this.base,
          [Attr.networkProtocolName]: PROTOCOL_NAME,
          [Attr.sessionId]: sessionId,
          ...attributes,
        },
      },
      parent,
    );
    this.sessions.set(sessionId, { sessionId, span, context: trace.setSpan(parent, span) });
    this.currentSession = sessionId;
  }

  /** The `close` event: ends the session's attempt (if it never opened), hook and session spans. */
  sessionClosed(close: CloseEvent): AttemptEnd {
    const sid = close.sessionId;
    const end: AttemptEnd = { hookFailed: false };
    const closeAttributes: Attributes = {
      [Attr.closeCode]: close.code,
      [Attr.closeReason]: close.reason,
      [Attr.closeClass]: close.class,
      [Attr.closeClean]: close.wasClean,
      [Attr.closeRequested]: close.requested === true,
    };
    // Hooks still running belong to a session that is gone: their actors were stopped.
    for (const hook of this.hooks) {
      if (hook.sessionId === sid) this.endHook(hook, Outcomes.abandoned, undefined);
    }
    const attempt = this.attempts.get(sid);
    if (attempt !== undefined) {
      this.attempts.delete(sid);
      end.hookFailed = attempt.hookFailed;
      const span = attempt.span;
      span.setAttributes(closeAttributes);
      if (close.status !== undefined) span.setAttribute(Attr.httpResponseStatusCode, close.status);
      const outcome: Outcome = attempt.hookFailed
        ? Outcomes.hookFailed
        : close.status !== undefined
          ? Outcomes.rejected
          : errorTypeOf(close.error) === 'WSM_ERR_OPEN_TIMEOUT'
            ? Outcomes.timeout
            : close.requested === true
              ? Outcomes.aborted
              : Outcomes.failed;
      span.setAttribute(Attr.outcome, outcome);
      if (outcome !== Outcomes.aborted) {
        fail(
          span,
          attempt.hookFailed ? attempt.hookError : close.error,
          close.status !== undefined
            ? `HTTP ${close.status} on the upgrade`
            : `closed ${close.code}${close.reason ? ` ${scrubText(close.reason)}` : ''} before open`,
        );
      }
      span.end();
    }
    const session = this.sessions.get(sid);
    if (session !== undefined) {
      this.sessions.delete(sid);
      if (this.currentSession === sid) this.currentSession = 0;
      const span = session.span;
      span.setAttributes({ ...closeAttributes, [Attr.outcome]: Outcomes.closed });
      const expected =
        close.requested === true || (close.wasClean && (close.code === 1000 || close.code === 1001));
      if (close.error !== undefined || !expected) {
        fail(span, close.error, `closed ${close.code}${close.reason ? ` ${scrubText(close.reason)}` : ''}`);
      }
      span.end();
      this.previousSession = { context: span.spanContext() };
    }
    return end;
  }

  // -----------------------------------------------------------------------------------------------
  // Hooks

  hookStarted(hook: 'onOpen' | 'onClose', sessionId: number): HookToken | undefined {
    if (this.detached) return undefined;
    const parent =
      this.sessions.get(sessionId)?.context ?? this.attempts.get(sessionId)?.context ?? ROOT_CONTEXT;
    const span = this.tracer.startSpan(
      hook === 'onOpen' ? SpanNames.onOpen : SpanNames.onClose,
      { kind: SpanKind.INTERNAL, attributes: { ...this.base, [Attr.sessionId]: sessionId } },
      parent,
    );
    const token: HookToken = { hook, sessionId, span, context: trace.setSpan(parent, span), ended: false };
    this.hooks.add(token);
    return token;
  }

  hookEnded(token: unknown, error: unknown): void {
    if (!this.hooks.has(token as HookToken)) return;
    const hook = token as HookToken;
    if (error !== undefined && hook.hook === 'onOpen') {
      const attempt = this.attempts.get(hook.sessionId);
      if (attempt !== undefined) {
        attempt.hookFailed = true;
        attempt.hookError = error;
      }
    }
    this.endHook(hook, error === undefined ? Outcomes.ok : Outcomes.error, error);
  }

  private endHook(hook: HookToken, outcome: Outcome, error: unknown): void {
    if (hook.ended) return;
    hook.ended = true;
    this.hooks.delete(hook);
    hook.span.setAttribute(Attr.outcome, outcome);
    if (outcome === Outcomes.error) fail(hook.span, error, `${hook.hook} failed`);
    hook.span.end();
  }

  // -----------------------------------------------------------------------------------------------
  // Requests

  /**
   * Starts a request span. Parent: the session it was issued on (its running `onOpen` span while
   * one runs), else the caller's active span, else the current session, else none.
   */
  requestStarted(info: {
    id: number;
    key: unknown;
    sessionId: number | undefined;
  }): RequestToken | undefined {
    if (this.detached) return undefined;
    let parent: Context | undefined;
    const sid = info.sessionId;
    if (sid !== undefined) {
      for (const hook of this.hooks)
        if (hook.sessionId === sid && hook.hook === 'onOpen') parent = hook.context;
      parent ??= this.sessions.get(sid)?.context ?? this.attempts.get(sid)?.context;
    }
    if (parent === undefined) {
      const active = otelContext.active();
      if (trace.getSpan(active) !== undefined) parent = active;
    }
    parent ??= this.sessions.get(this.currentSession)?.context ?? ROOT_CONTEXT;
    const attributes: Attributes = { ...this.base, [Attr.requestId]: info.id };
    const key = keyAttribute(info.key);
    if (key !== undefined) attributes[Attr.requestKey] = key;
    if (sid !== undefined) attributes[Attr.sessionId] = sid;
    const span = this.tracer.startSpan(SpanNames.request, { kind: SpanKind.CLIENT, attributes }, parent);
    const token: RequestToken = { span, startedAt: performance.now(), ended: false };
    this.requests.add(token);
    return token;
  }

  /** Ends a request span; returns its duration in seconds, or undefined when it had already ended. */
  requestSettled(token: unknown, outcome: RequestOutcome, error: unknown): number | undefined {
    if (!this.requests.has(token as RequestToken)) return undefined;
    const request = token as RequestToken;
    request.ended = true;
    this.requests.delete(request);
    request.span.setAttribute(Attr.outcome, outcome);
    // A cancel or a stop is the application's choice, not a failure of the request.
    if (outcome !== 'ok' && outcome !== 'aborted' && outcome !== 'stopped') {
      fail(request.span, error, `request ${outcome}`);
    } else if (error !== undefined) {
      request.span.setAttribute(Attr.errorType, errorTypeOf(error));
    }
    request.span.end();
    return (performance.now() - request.startedAt) / 1000;
  }

  // -----------------------------------------------------------------------------------------------
  // Messages and context

  /** A receive span for a sampled message (only called when message spans are on). */
  message(message: Message): void {
    if (this.detached || Math.random() >= this.sampleRate) return;
    const parent = this.sessions.get(message.sessionId)?.context ?? ROOT_CONTEXT;
    const size = message.binary ? (message.data as Uint8Array).byteLength : (message.data as string).length;
    this.tracer
      .startSpan(
        SpanNames.receive,
        {
          kind: SpanKind.CONSUMER,
          attributes: {
            ...this.base,
            [Attr.messagingSystem]: MESSAGING_SYSTEM,
            [Attr.messagingOperationType]: 'receive',
            [Attr.messagingMessageBodySize]: size,
            [Attr.messageBinary]: message.binary,
            [Attr.sessionId]: message.sessionId,
          },
        },
        parent,
      )
      .end();
  }

  /** `session.context`: the session span's context, or the attempt span's while it opens. */
  sessionContext(sessionId: number): Context | undefined {
    return this.sessions.get(sessionId)?.context ?? this.attempts.get(sessionId)?.context;
  }

  // -----------------------------------------------------------------------------------------------
  // Ending everything

  /**
   * Ends every open span with `outcome`. `stopped` keeps requests (they settle through their
   * promises right after); `detached` ends them too and refuses new spans from then on.
   */
  endAll(outcome: typeof Outcomes.stopped | typeof Outcomes.detached): void {
    for (const hook of [...this.hooks]) this.endHook(hook, outcome, undefined);
    for (const record of this.attempts.values()) {
      record.span.setAttribute(Attr.outcome, outcome);
      record.span.end();
    }
    this.attempts.clear();
    for (const record of this.sessions.values()) {
      record.span.setAttribute(Attr.outcome, outcome);
      record.span.end();
    }
    this.sessions.clear();
    this.currentSession = 0;
    this.previousSession = undefined;
    if (outcome === Outcomes.detached) {
      this.detached = true;
      for (const request of this.requests) {
        request.ended = true;
        request.span.setAttribute(Attr.outcome, outcome);
        request.span.end();
      }
      this.requests.clear();
    }
  }
}
