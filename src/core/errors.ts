/**
 * Error classes of wsmachine. Every error the library creates extends {@link WsmError} and carries a
 * stable `code` from {@link ErrorCodes}; the README's error table says what to do about each.
 *
 * This file holds the errors of options, state, sending, requests, received messages, hooks and
 * subscriptions, and re-exports the base (`./error-base.js`) and the connection's errors
 * (`./connection-errors.js`), so every error is imported from here.
 */
import { ErrorCodes, WsmError, describeValue, messageOf } from './error-base.js';

export * from './error-base.js';
export * from './connection-errors.js';

/**
 * One problem with an option given to `createClient`.
 *
 * @example
 * ```ts
 * import { createClient, InvalidOptionsError, type OptionProblem } from 'wsmachine';
 * try {
 *   createClient({ url: 'http://example.test', openTimeoutMs: -1 });
 * } catch (e) {
 *   const problems: readonly OptionProblem[] = e instanceof InvalidOptionsError ? e.problems : [];
 *   for (const p of problems) console.log(p.option, 'must be', p.expected); // url ..., openTimeoutMs ...
 * }
 * ```
 */
export interface OptionProblem {
  /** Dotted path of the option, e.g. `reconnect.baseDelayMs`. */
  option: string;
  /** The value that was given. */
  value: unknown;
  /** What is allowed, e.g. `an integer >= 0`. */
  expected: string;
}

/**
 * `createClient` was given an option it cannot use. The message names each bad option, the value
 * and what is allowed; `problems` has them as data.
 *
 * @example
 * ```ts
 * try { createClient({ url: 'ws://x', openTimeoutMs: -1 }); }
 * catch (e) { if (e instanceof InvalidOptionsError) console.log(e.problems[0].option); }
 * ```
 */
export class InvalidOptionsError extends WsmError {
  readonly problems: readonly OptionProblem[];
  constructor(problems: readonly OptionProblem[]) {
    super(
      ErrorCodes.INVALID_OPTIONS,
      `Invalid wsmachine options:\n${problems
        .map((p) => `  - ${p.option}: got ${describeValue(p.value)}, expected ${p.expected}`)
        .join('\n')}`,
    );
    this.problems = problems;
  }
}

/**
 * A method was called in a state where it cannot work, e.g. `start()` while already started.
 *
 * @example
 * ```ts
 * if (client.state === 'idle' || client.state === 'stopped') await client.start();
 * ```
 */
export class InvalidStateError extends WsmError {
  /** The client state when the call was made. */
  readonly state: string;
  constructor(message: string, state: string) {
    super(ErrorCodes.INVALID_STATE, message);
    this.state = state;
  }
}

/**
 * `send()` was called while the client is not open and the send buffer is disabled
 * (`sendBuffer: false`).
 *
 * @example
 * ```ts
 * if (client.isOpen) client.send(data);
 * ```
 */
export class NotOpenError extends WsmError {
  constructor(state: string) {
    super(
      ErrorCodes.NOT_OPEN,
      `Cannot send while the client is "${state}" and sendBuffer is false. ` +
        `Wait for the 'open' event, or enable sendBuffer to queue messages until the connection opens.`,
    );
  }
}

/**
 * The bounded send buffer is full: the message was NOT queued.
 *
 * @example
 * ```ts
 * try { client.send(data); } catch (e) { if (e instanceof SendBufferFullError) dropOrWait(data); }
 * ```
 */
export class SendBufferFullError extends WsmError {
  readonly maxMessages: number;
  readonly maxBytes: number;
  constructor(maxMessages: number, maxBytes: number, queuedMessages: number, queuedBytes: number) {
    super(
      ErrorCodes.SEND_BUFFER_FULL,
      `The send buffer is full (${queuedMessages}/${maxMessages} messages, ${queuedBytes}/${maxBytes} bytes); ` +
        `the message was not queued. Raise sendBuffer.maxMessages/maxBytes or wait for 'open'.`,
    );
    this.maxMessages = maxMessages;
    this.maxBytes = maxBytes;
  }
}

/**
 * Carried by the `undelivered` event: why queued or written messages were not delivered.
 *
 * @example
 * ```ts
 * client.on('undelivered', ({ messages, reason }) => console.warn(messages.length, reason.message));
 * ```
 */
export class UndeliveredError extends WsmError {
  constructor(message: string, cause?: unknown) {
    super(ErrorCodes.UNDELIVERED, message, { cause });
  }
}

/**
 * A request got no matching response within its timeout. The pending entry is removed; a late
 * response is treated as an ordinary message.
 *
 * @example
 * ```ts
 * await client.request(data, { timeoutMs: 2_000 }).catch((e) => e instanceof RequestTimeoutError && retry());
 * ```
 */
export class RequestTimeoutError extends WsmError {
  readonly timeoutMs: number;
  constructor(timeoutMs: number) {
    super(ErrorCodes.REQUEST_TIMEOUT, `No response within ${timeoutMs} ms`);
    this.timeoutMs = timeoutMs;
  }
}

/**
 * A request was cancelled by `cancel()` or its `AbortSignal`.
 *
 * @example
 * ```ts
 * const ac = new AbortController(); client.request(data, { signal: ac.signal }); ac.abort();
 * ```
 */
export class RequestAbortedError extends WsmError {
  constructor(reason?: unknown) {
    super(ErrorCodes.REQUEST_ABORTED, 'The request was aborted', { cause: reason });
  }
}

/**
 * A request's key equals the key of a request still pending; the new request was rejected.
 *
 * @example
 * ```ts
 * client.request(data, { params: { id: nextId++ } }); // keep keys unique while pending
 * ```
 */
export class DuplicateKeyError extends WsmError {
  readonly key: unknown;
  constructor(key: unknown) {
    super(ErrorCodes.DUPLICATE_KEY, `A request with key ${describeValue(key)} is already pending`);
    this.key = key;
  }
}

/**
 * A message was larger than `maxPayloadBytes`, or arrived in more pieces than the adapter keeps for
 * one message (see the fragment limit in the README); the session was closed with 1009.
 *
 * @param limit the `maxPayloadBytes` in force.
 * @param size the message's size, when known.
 * @param options `message` replaces the default text (for a limit other than the size); `cause` is
 *   the runtime's own error.
 *
 * @example
 * ```ts
 * createClient({ url, maxPayloadBytes: 16 * 1024 * 1024 });
 * ```
 */
export class MessageTooBigError extends WsmError {
  constructor(limit: number, size?: number, options: { message?: string; cause?: unknown } = {}) {
    super(
      ErrorCodes.MESSAGE_TOO_BIG,
      options.message ??
        `A message exceeded maxPayloadBytes (${limit} bytes${size === undefined ? '' : `; got ${size}`})`,
      { closeCode: 1009, cause: options.cause },
    );
  }
}

/**
 * A user hook threw or rejected. `hook` names it; `cause` is what it threw. The client carries on.
 *
 * @example
 * ```ts
 * client.on('error', (e) => { if (e instanceof HookError) console.error(`${e.hook} failed`, e.cause); });
 * ```
 */
export class HookError extends WsmError {
  readonly hook: string;
  readonly sessionId: number | undefined;
  /** What the hook was called with, when that helps (for `prepare`: the raw Message). */
  readonly input?: unknown;
  constructor(hook: string, cause: unknown, sessionId?: number, input?: unknown) {
    super(ErrorCodes.HOOK, `The ${hook} hook threw: ${messageOf(cause)}`, { cause });
    this.hook = hook;
    this.sessionId = sessionId;
    if (input !== undefined) this.input = input;
  }
}

/**
 * An inbound buffer (an unread `messages()` iterator, or the inbound queue) passed its bound.
 *
 * @example
 * ```ts
 * for await (const m of client.messages()) handle(m); // read promptly, or it ends with this error
 * ```
 */
export class QueueOverflowError extends WsmError {
  constructor(message: string) {
    super(ErrorCodes.QUEUE_OVERFLOW, message);
  }
}

/**
 * The connection machine was run without the service that binds it to sockets and hooks
 * (`createActor(connectionMachine)`). It cannot dial by itself: run it through `createClient()`, or
 * embed it in your own machine with `fromClient()`. To test the machine alone, provide its actors with
 * `connectionMachine.provide({ actors: { socket, target, openHook, closeHook } })`.
 *
 * @example
 * ```ts
 * import { createActor } from 'xstate';
 * import { connectionMachine } from 'wsmachine/machines';
 * const actor = createActor(connectionMachine, { input: { config } });
 * actor.subscribe({ error: (e) => console.error(e) }); // MachineNotBoundError on the first start
 * ```
 */
export class MachineNotBoundError extends WsmError {
  constructor(what: string) {
    super(
      ErrorCodes.NOT_BOUND,
      `The connection machine has no ${what === 'input' ? 'input (`{ config }`)' : `"${what}" actor`}: it runs ` +
        'only inside a client. Use createClient(options) (client.actor is the running machine), or ' +
        'fromClient() to invoke it from your own machine; to test the machine alone, give it input and ' +
        'provide its actors with connectionMachine.provide({ actors: { socket, target, openHook, closeHook } }).',
    );
  }
}

/**
 * Received messages that were not handed to a handler, an iterator, an exclusive section or a
 * request (the inbound twin of {@link UndeliveredError}): reported on the `error` channel only when
 * nothing listens to the `unhandled` event.
 *
 * @example
 * ```ts
 * client.on('unhandled', ({ messages, reason }) => console.warn(messages.length, 'not handled:', reason.message));
 * ```
 */
export class UnhandledMessagesError extends WsmError {
  constructor(message: string, cause?: unknown) {
    super(ErrorCodes.UNHANDLED, message, { cause });
  }
}

/**
 * A subscription's `subscribe` (or `unsubscribe`) rejected, threw, or did not settle within the
 * subscription's `timeoutMs`. `cause` is what it failed with (the server's refusal, a
 * {@link RequestTimeoutError}, a {@link ConnectionClosedError}...). A failed subscribe is retried at
 * the next reopen, or after the subscription's own backoff when it has `retry`; it never blocks the
 * other subscriptions or the session.
 *
 * @example
 * ```ts
 * const sub = client.subscribe({ name: 'prices', subscribe: (s) => s.request('{"op":"sub","topic":"prices"}') });
 * sub.on('error', (e) => console.warn(`${e.subscription} ${e.phase} failed (attempt ${e.attempt}):`, e.cause));
 * ```
 */
export class SubscriptionError extends WsmError {
  /** The subscription's `name`. */
  readonly subscription: string;
  /** What failed: the user's `subscribe` or `unsubscribe`. */
  readonly phase: 'subscribe' | 'unsubscribe';
  /** The attempt that failed (1 for the first attempt of a session), 0 for an unsubscribe. */
  readonly attempt: number;
  constructor(subscription: string, phase: 'subscribe' | 'unsubscribe', cause: unknown, attempt = 0) {
    super(
      ErrorCodes.SUBSCRIPTION,
      `The ${phase} of subscription ${JSON.stringify(subscription)} failed: ${messageOf(cause)}` +
        (phase === 'subscribe'
          ? '. It is retried at the next reopen (or after its retry backoff, with `retry`); `cause` is what the server or your code said.'
          : '. The subscription is unsubscribed on this side anyway.'),
      { cause },
    );
    this.subscription = subscription;
    this.phase = phase;
    this.attempt = attempt;
  }
}
