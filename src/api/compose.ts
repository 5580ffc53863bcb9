/**
 * Builds the parts of one client from its options: the send path, the receive path, requests,
 * dispatch, hooks, policy, error and loss reporting, the events. Each part gets only the functions it
 * needs (no part reaches the facade); whatever touches the lifecycle goes through `machine.send`.
 */
import type { MachineConfig } from '../../machines/connection.types.js';
import { HookError, InvalidOptionsError, type WsmError } from '../core/errors.js';
import type { Message } from '../core/message.js';
import { resolveOptions } from '../core/options.js';
import { printError } from '../core/safe.js';
import type { ClientState, Clock } from '../core/types.js';
import { Emitter } from '../events.js';
import { Correlator } from '../rpc/correlator.js';
import { Requests } from '../rpc/requests.js';
import { Counters } from '../session/counters.js';
import { Dispatcher } from '../session/dispatcher.js';
import { resolveEnvironment } from '../session/environment.actor.js';
import { HookRunner } from '../session/hook.actors.js';
import { Inbound } from '../session/inbound.js';
import { Outbox } from '../session/outbox.js';
import { ReconnectPolicy } from '../session/policy.js';
import { SendQueue } from '../session/send-queue.js';
import type { HandleOwner, SessionHandle } from '../session/session-handle.js';
import { SessionRegistry } from '../session/session-registry.js';
import { Subscriptions } from '../session/subscriptions.js';
import type { ClientServices } from '../session/services.js';
import type { Target } from '../session/socket.actor.js';
import type { SocketAdapter } from '../transport/adapter.js';
import type { ClientEvents, ClientOptions } from '../types.js';
import { ErrorReporter } from './error-reporter.js';
import { Instruments } from './instrumentation.js';
import type { BridgeParts } from './lifecycle-bridge.js';
import { LossReport } from './loss-report.js';
import { machineConfigOf, staticUrlOf } from './machine-config.js';

/** Durations are monotonic: a system clock stepped back or forward moves no deadline. */
const monotonicClock: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (id) => clearTimeout(id as ReturnType<typeof setTimeout>),
};

/** A clock whose timers do not keep Node alive (`unref: true`). */
function unrefClock(base: Clock): Clock {
  return {
    now: () => base.now(),
    setTimeout: (fn, ms) => {
      const t = base.setTimeout(fn, ms) as { unref?: () => void };
      t?.unref?.();
      return t;
    },
    clearTimeout: (id) => base.clearTimeout(id),
  };
}

/** The target of every dial, when neither `url` nor `headers` is a function. */
function staticTargetOf(url: unknown, headers: unknown): Target | undefined {
  const text = staticUrlOf(url);
  if (text === undefined || typeof headers === 'function') return undefined;
  return { url: text, headers: headers as Record<string, string> | undefined };
}

/** The machine, as the parts see it. */
export interface MachinePort {
  send: ClientServices['toMachine'];
  state(): ClientState;
}

/** What the facade keeps. */
export interface Composed {
  services: ClientServices;
  emitter: Emitter<ClientEvents & Record<string, unknown>>;
  instruments: Instruments;
  bridge: BridgeParts;
  config: MachineConfig;
}

/**
 * Validates the options and builds the parts.
 *
 * @throws {InvalidOptionsError} naming each bad option.
 */
export function compose(
  options: ClientOptions,
  defaultAdapter: SocketAdapter | (() => SocketAdapter) | undefined,
  machine: MachinePort,
): Composed {
  const adapter =
    options?.adapter ?? (typeof defaultAdapter === 'function' ? defaultAdapter() : defaultAdapter);
  if (adapter === undefined) {
    throw new InvalidOptionsError([
      {
        option: 'adapter',
        value: undefined,
        expected:
          'a SocketAdapter: this runtime has no global WebSocket; import from "wsmachine/node" (uses ws) or pass one',
      },
    ]);
  }
  const o = resolveOptions(options, {
    protocolPing: adapter.capabilities?.protocolPing === true,
    headers: adapter.capabilities?.headers === true,
  });
  const unref = options.unref === true;
  const clock = unref ? unrefClock(options.clock ?? monotonicClock) : (options.clock ?? monotonicClock);
  const hooks = options.hooks ?? {};
  const counters = new Counters();
  const sessions = new SessionRegistry();
  const { send: toMachine, state } = machine;
  const environment = resolveEnvironment(options.environment);

  const emitter = new Emitter<ClientEvents & Record<string, unknown>>((error, event) => {
    // A throwing `error` listener must not be reported through `error` again (endless recursion).
    if (event === 'error') printError("wsmachine: an 'error' listener threw", error);
    else errors.report(new HookError(`'${event}' listener`, error));
  });
  const errors = new ErrorReporter({
    onError: hooks.onError as ((e: WsmError) => void) | undefined,
    hasListener: () => emitter.has('error'),
    emit: (e) => emitter.emit('error', e),
  });
  const report = (e: WsmError) => errors.report(e);
  const losses = new LossReport({
    counters,
    errors,
    has: (event) => emitter.has(event),
    emit: (event, payload) => emitter.emit(event, payload as never),
  });
  const instruments = new Instruments(report);

  const correlator = new Correlator(clock, {
    keyOfResponse: o.requests.key?.response,
    match: o.requests.match,
    onMatcherError: (error, which) => report(new HookError(which, error)),
  });
  const sb = o.sendBuffer;
  const outbox = new Outbox(
    sb.enabled ? new SendQueue(sb.maxMessages, sb.maxBytes) : undefined,
    clock,
    counters,
    sessions,
    sb.maxAgeMs,
    {
      state,
      reportUndelivered: (messages, reason) => losses.undelivered(messages, reason),
      rejectRequest: (entry, error) => correlator.reject(entry, error),
    },
  );
  const requests = new Requests(correlator, o.requests, outbox, {
    state,
    reportError: report,
    current: () => sessions.current?.handle,
    traced: (entry, promise, sessionId) => {
      if (instruments.attached) instruments.traceRequest(entry, promise, sessionId);
    },
  });
  const dispatcher = new Dispatcher({
    onMessage: hooks.onMessage as ((m: Message, s: unknown) => unknown) | undefined,
    concurrency: o.concurrency,
    limits: o.inbound,
    clock,
    reportError: report,
    reportUnhandled: (messages, reason) => losses.unhandled(messages, reason),
    whenOpen: () => sessions.whenOpen(state() === 'stopped'),
    pauseReading: (session) => {
      const conn = (session as SessionHandle).conn;
      if (conn?.pause === undefined || !adapter.capabilities.pause) return false;
      conn.pause();
      return true;
    },
    resumeReading: (session) => (session as SessionHandle).conn?.resume?.(),
    notify: (type) => toMachine({ type }),
    overflow: (session) =>
      toMachine({ type: 'client.restart', reason: 'inbound queue overflow', sessionId: session.id }),
  });
  const subscriptions = new Subscriptions({
    toMachine,
    sessions,
    // An error a subscription's own `error` listener had is not printed (still reported to onError/`error`).
    reportError: (e, handled) => {
      if (handled) errors.heldByCaller(e);
      errors.report(e);
    },
    reportUnhandled: (messages, reason) => losses.unhandled(messages, reason),
    iteratorLimits: { messages: o.inbound.iteratorBufferSize, bytes: o.inbound.iteratorBufferBytes },
  });
  const handleOwner: HandleOwner = {
    // Subscriptions made just before a session write are told to the connection first (their order).
    write: (handle, data) => {
      subscriptions.flush();
      outbox.writeOn(handle, data);
    },
    request: (handle, data, opts) => {
      subscriptions.flush();
      return requests.request(handle, data, opts);
    },
    toMachine,
    traceContextOf: (id) => instruments.contextOf(id),
  };
  const services: ClientServices = {
    options: o,
    adapter,
    clock,
    unref,
    counters,
    errors,
    sessions,
    outbox,
    requests,
    dispatcher,
    subscriptions,
    inbound: new Inbound({
      counters,
      clock,
      coarseTime: options.clock === undefined,
      prepare: o.prepare as ((m: Message) => unknown) | undefined,
      isPong: o.heartbeat.isPong as ((m: Message) => boolean) | undefined,
      emitMessage: (m) => emitter.emit('message', m),
      requests,
      subscriptions: subscriptions.router,
      dispatcher,
      reportError: report,
    }),
    hooks: new HookRunner(hooks, sessions, instruments),
    policy: new ReconnectPolicy(
      o.reconnect.shouldReconnect as ((info: unknown) => unknown) | undefined,
      o.reconnect.random,
      report,
    ),
    environment,
    staticTarget: staticTargetOf(o.url, o.headers),
    handleOwner,
    toMachine,
    emitFact: (event, payload) => emitter.emit(event, payload as never),
  };
  const credentialsRefreshable = typeof options.url === 'function' || typeof options.headers === 'function';
  return {
    services,
    emitter,
    instruments,
    config: machineConfigOf(o, credentialsRefreshable, environment !== undefined),
    bridge: {
      emit: (event, payload) => emitter.emit(event, payload as never),
      errors,
      counters,
      sessions,
      dispatcher,
      requests,
      outbox,
      onRestartError: hooks.onRestartError as BridgeParts['onRestartError'],
    },
  };
}
