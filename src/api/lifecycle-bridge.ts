/**
 * The lifecycle bridge: turns what the machine emits into the public events and settles the promises
 * callers hold (`start()`, `stop()`). It decides nothing: every lifecycle fact it acts on comes from
 * the machine, in the machine's own order.
 *
 * Event order without a second mailbox: XState 5 runs emitted events after the snapshot is updated
 * and before observers are told, so each handler first publishes the `state` change (if any) and
 * then the event: `state` comes before the event that caused it, and inside any listener
 * `client.state` is already the new state. Calls made from listeners (`start()` then `stop()`, say)
 * are machine events like any other: XState's mailbox runs them after the current step, in order.
 */
import type { Actor, AnyStateMachine, SnapshotFrom } from 'xstate';
import type { ConnectionEmitted } from '../../machines/connection.types.js';
import {
  ClientStoppedError,
  ConnectionClosedError,
  ConnectError,
  HookError,
  InvalidStateError,
  StartError,
  type WsmError,
  isWsmError,
  messageOf,
} from '../core/errors.js';
import { whenSettled } from '../core/safe.js';
import type { ClientState, CloseInfo } from '../core/types.js';
import type { Requests } from '../rpc/requests.js';
import type { Counters } from '../session/counters.js';
import type { Dispatcher } from '../session/dispatcher.js';
import type { Outbox } from '../session/outbox.js';
import type { SessionRegistry } from '../session/session-registry.js';
import type { ClientEvents, RestartErrorContext } from '../types.js';
import type { ErrorReporter } from './error-reporter.js';
import { stateOf } from './state-of.js';

interface Waiter {
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** What the bridge is wired to. */
export interface BridgeParts {
  emit<K extends keyof ClientEvents>(event: K, payload: ClientEvents[K]): void;
  errors: ErrorReporter;
  counters: Counters;
  sessions: SessionRegistry;
  dispatcher: Dispatcher;
  requests: Requests;
  outbox: Outbox;
  onRestartError: ((error: unknown, context: RestartErrorContext) => unknown) | undefined;
}

/** Wraps anything as a WsmError for the `error` event. */
export function asWsmError(error: unknown): WsmError {
  if (isWsmError(error)) return error;
  return new ConnectError(messageOf(error), error);
}

/** The bridge of one client. */
export class LifecycleBridge {
  private readonly actor: Actor<AnyStateMachine>;
  private readonly p: BridgeParts;
  /** The last state published in a `state` event (what listeners were told, not a lifecycle fact). */
  private published: ClientState = 'idle';
  /** start() calls the machine has not answered yet, in order. */
  private starts: Waiter[] = [];
  /** The accepted start() waiting for the first open. */
  private active: Waiter | undefined;
  private stops: Array<() => void> = [];

  constructor(actor: Actor<AnyStateMachine>, parts: BridgeParts) {
    this.actor = actor;
    this.p = parts;
    actor.on('*', (event) => this.handle(event as ConnectionEmitted));
    actor.subscribe({ next: () => this.sync(), error: (error) => this.machineFailed(error) });
  }

  /** Resolves at the first open; the machine accepts or refuses it in order with every other call. */
  start(): Promise<void> {
    if (this.failed())
      return Promise.reject(new StartError(new ClientStoppedError('The client failed; create a new one')));
    return new Promise<void>((resolve, reject) => {
      this.starts.push({ resolve, reject });
      this.actor.send({ type: 'client.start' });
    });
  }

  /** Resolves when the machine reached `stopped` (or had nothing to stop). */
  stop(event: {
    code?: number | undefined;
    reason?: string | undefined;
    timeoutMs?: number | undefined;
  }): Promise<void> {
    // A failed actor takes no events; everything was settled when it failed.
    if (this.failed()) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.stops.push(resolve);
      this.actor.send({ type: 'client.stop', ...event });
    });
  }

  /** The actor reached XState's `error` status (a backstop: it must not). */
  private failed(): boolean {
    return this.actor.getSnapshot().status === 'error';
  }

  private state(): ClientState {
    return stateOf(this.actor.getSnapshot() as SnapshotFrom<AnyStateMachine>);
  }

  /** Publishes the state change the machine made, once. */
  private sync(): void {
    const to = this.state();
    if (to === this.published) return;
    const from = this.published;
    this.published = to;
    this.p.emit('state', { from, to });
  }

  private handle(event: ConnectionEmitted): void {
    this.sync();
    const p = this.p;
    switch (event.type) {
      case 'start.accepted':
        this.active = this.starts.shift();
        p.dispatcher.started();
        return;
      case 'start.refused': {
        const w = this.starts.shift();
        const state = this.state();
        w?.reject(
          new InvalidStateError(
            this.active !== undefined
              ? 'start() is already in progress; await it.'
              : `start() was called while the client is "${state}"; call stop() first.`,
            state,
          ),
        );
        return;
      }
      case 'stop.acknowledged':
        this.stopped(new ClientStoppedError('stop() was called'));
        this.settleStops();
        return;
      case 'session.dialing':
        p.emit('connecting', { attempt: event.attempt, url: event.url });
        return;
      case 'session.open': {
        p.counters.sessions++;
        p.errors.opened();
        const binding = p.sessions.current;
        if (binding !== undefined) p.sessions.opened(binding);
        p.emit('open', {
          sessionId: event.sessionId,
          restarting: event.restarting,
          protocol: binding?.handle.protocol ?? '',
          extensions: binding?.handle.extensions ?? '',
        });
        const w = this.active;
        this.active = undefined;
        w?.resolve();
        return;
      }
      case 'session.ending':
        return;
      case 'session.closed':
        this.closed(event);
        return;
      case 'connection.error': {
        if (event.error === undefined) return;
        const error =
          event.hook !== undefined && !isWsmError(event.error)
            ? new HookError(event.hook, event.error, event.sessionId)
            : event.error;
        p.errors.report(asWsmError(error));
        return;
      }
      case 'reconnect.scheduled':
        p.emit('reconnecting', { attempt: event.attempt, delayMs: event.delayMs, cause: event.cause });
        return;
      case 'heartbeat.sent':
        return;
      case 'heartbeat.missed':
        p.emit('heartbeat-missed', { missed: event.missed });
        return;
      case 'client.stopped':
        this.clientStopped(event);
        return;
    }
  }

  private closed(event: Extract<ConnectionEmitted, { type: 'session.closed' }>): void {
    const p = this.p;
    const close = event.close;
    const binding = p.sessions.current;
    if (binding !== undefined && binding.handle.id === close.sessionId) {
      p.dispatcher.sessionEnded(binding.handle, () =>
        event.requested === 'stop' || event.requested === 'exit'
          ? new ClientStoppedError()
          : new ConnectionClosedError(`The session ended (${close.code} ${close.reason})`.trim(), close.code),
      );
    }
    p.requests.sessionClosed(close, event.requested);
    p.emit('close', { ...close, class: event.closeClass });
    if (event.attemptFailed) this.restartError(close.error, event.attempt);
  }

  private restartError(error: unknown, attempt: number): void {
    const hook = this.p.onRestartError;
    if (hook === undefined) return;
    const exit = () => this.actor.send({ type: 'client.exit', reason: 'onRestartError exit()' });
    try {
      const r = hook(error, { attempt: Math.max(1, attempt), exit });
      whenSettled(
        r,
        () => {},
        (e) => this.p.errors.report(new HookError('onRestartError', e)),
      );
    } catch (e) {
      this.p.errors.report(new HookError('onRestartError', e));
    }
  }

  private clientStopped(event: Extract<ConnectionEmitted, { type: 'client.stopped' }>): void {
    const byUser = event.requested !== undefined;
    const error = byUser ? undefined : (event.error ?? this.endedWithout(event.because));
    const reason = byUser
      ? new ClientStoppedError(event.requested === 'exit' ? 'exit() was called' : 'stop() was called')
      : asWsmError(error ?? new ClientStoppedError('The client stopped'));
    // A client that stopped on its own (the peer or the network ended the last session and the
    // policy said no) still hands over what that session received; only the user's stop()/exit()
    // means "handle nothing more".
    this.stopped(reason, !byUser);
    const w = this.active;
    this.active = undefined;
    if (w !== undefined) {
      const cause = byUser
        ? new ClientStoppedError(`${event.requested}() was called before the connection opened`)
        : (event.error ?? reason);
      this.p.errors.heldByCaller(cause);
      const endCause = (this.actor.getSnapshot().context as { endCause?: { kind: string } }).endCause;
      w.reject(new StartError(cause, !byUser && endCause?.kind === 'openHook' ? 'onOpen failed' : undefined));
    }
    this.p.emit('stopped', { error });
    this.settleStops();
  }

  /** The error of a client that stopped on its own without one: why no reconnect followed. */
  private endedWithout(because: 'requested' | 'firstStart' | 'policy'): WsmError | undefined {
    const close = (this.actor.getSnapshot().context as { lastClose?: CloseInfo }).lastClose;
    if (close === undefined) return undefined;
    const what = `The connection closed (${close.code}${close.reason ? ` ${close.reason}` : ''})`;
    return new ConnectionClosedError(
      because === 'firstStart'
        ? `${what} before the first session opened (reconnect.retryOnStart is off)`
        : `${what} and the reconnect policy stopped`,
      close.code,
    );
  }

  /** Everything the client owes its callers when it stops. */
  private stopped(reason: WsmError, keepReceived = false): void {
    const p = this.p;
    const stop = reason instanceof ClientStoppedError ? reason : new ClientStoppedError(reason.message);
    p.requests.failAll(reason);
    p.outbox.failAll(reason);
    p.dispatcher.stopped(stop, keepReceived);
    p.sessions.stopped(stop);
  }

  private settleStops(): void {
    const stops = this.stops;
    this.stops = [];
    for (const resolve of stops) resolve();
  }

  /**
   * Backstop: if the machine ever reached XState's `error` status (it must not), settle everything
   * the client owes its callers instead of hanging: requests, queued sends, start() and stop().
   */
  private machineFailed(error: unknown): void {
    const failure = new HookError('machine', error);
    this.p.errors.report(failure);
    this.stopped(new ClientStoppedError(`The client failed: ${messageOf(error)}`));
    for (const w of this.starts.splice(0)) w.reject(new StartError(failure));
    const w = this.active;
    this.active = undefined;
    w?.reject(new StartError(failure));
    this.p.emit('stopped', { error: failure });
    this.settleStops();
  }
}
