/**
 * The steps of the model: which ones the outside world can take in a state, and what each does to the
 * machine. A step is offered only where a real action produces it: no `server.accept` without a dial,
 * no `app.openDone` without an onOpen running, `app.exit` only through an exit the app really holds,
 * the browser's signals only while the client listens to them (while started).
 */
import type { AnyEventObject } from 'xstate';
import type { MachineConfig } from '../../machines/connection.types.js';
import { HandshakeError, HookError } from '../core/errors.js';
import { closeClassOf, closeInfoOf } from '../core/session-end.js';
import type { LifecycleStep } from './lifecycle-steps.js';
import {
  type ModelState,
  type Work,
  advance,
  beginWork,
  deliver,
  endWork,
  nextTimer,
  settleLater,
} from './model-machine.js';

const OPEN_HOOK_ERROR = new HookError('onOpen', new Error('onOpen failed (lifecycle path)'));
const CLOSE_HOOK_ERROR = new HookError('onClose', new Error('onClose failed (lifecycle path)'));
const REFUSED = new Error('connect ECONNREFUSED');
const HANDSHAKE = { 401: new HandshakeError(401), 503: new HandshakeError(503) } as const;

/** Close codes a server closes with: one per class the reconnect policy tells apart. */
export function serverCloseCodes(config: MachineConfig): number[] {
  const auth = config.reconnect.authCloseCodes[0];
  return auth === undefined ? [1002, 1012] : [1002, auth, 1012];
}

/** The subscription `app.subscribe` makes (`LifecycleControl.subscribe`). */
export const MODEL_SUBSCRIPTION = { name: 'lifecycle', timeoutMs: 0, retry: null } as const;
const MODEL_SUBSCRIPTION_ID = `subscription:${MODEL_SUBSCRIPTION.name}`;

const is = (s: ModelState, value: unknown) => s.m.matches(value as never);

/**
 * The steps the outside world can take in a state. Each kind of step is offered where it can take
 * its transitions, and the app's commands in the plain states (not on top of a flood, a held stream
 * or a ping that is out): the same transition from more states would only multiply the graph, not
 * the transitions it reaches.
 */
export function candidateSteps(s: ModelState, config: MachineConfig): LifecycleStep[] {
  const steps: LifecycleStep[] = [];
  const world = s.world;
  const ctx = s.m.context;
  const started = !is(s, 'idle') && !is(s, 'stopped');
  const reconnecting = is(s, 'reconnecting');
  const closing = is(s, { session: 'closing' });
  const open = is(s, { session: 'open' });
  const opening = is(s, { session: { establishing: 'opening' } });
  const dialing = world.conn === 'dialing';
  const heartbeat = (s.m.value as { session?: { open?: { heartbeat?: string } } }).session?.open?.heartbeat;
  const calm = !world.blocked && !ctx.readingPaused && !world.pingOut;
  const plainOpen = open && calm && (heartbeat === 'waiting' || heartbeat === 'disabled');
  const timer = nextTimer(s);
  const atPongDeadline =
    timer?.name === 'pongTimeout' && world.pingOut ? { ms: timer.due - s.now } : undefined;

  // The app's commands.
  if (!started || plainOpen || is(s, { reconnecting: 'backoff' })) steps.push({ type: 'client.start' });
  if (!started || reconnecting || dialing || opening || plainOpen) steps.push({ type: 'client.stop' });
  // A stop while closing gets a deadline shorter than whatever the close still waits for.
  if (closing) steps.push({ type: 'client.stop', timeoutMs: 1 });
  if (reconnecting || dialing || plainOpen || closing) steps.push({ type: 'client.restart' });
  const live = world.handle === ctx.sessionId && world.conn !== 'none';
  if (live && (opening || plainOpen || (closing && ctx.endRequest?.kind !== 'exit'))) {
    steps.push({ type: 'app.exit', via: 'session' });
  }
  if (world.exitFn && reconnecting) steps.push({ type: 'app.exit', via: 'onRestartError' });
  // One subscription, made or ended where the connection is not open and where it is plainly open
  // (the two ways `subscription.add` goes); elsewhere it only multiplies the graph.
  if (!started || plainOpen) steps.push({ type: world.subscribed ? 'app.unsubscribe' : 'app.subscribe' });
  // Faults armed for the first dial (a reconnect dial that fails is served by the server's steps).
  if (is(s, 'idle')) {
    if (!world.breakDial) steps.push({ type: 'adapter.breaks' });
    if (!world.failUrl && config.staticUrl === undefined) steps.push({ type: 'app.urlFails' });
  }

  // The server.
  if (dialing) {
    // (Where two steps lead to the same place, the first one offered is the one paths use.)
    steps.push(
      { type: 'server.accept' },
      { type: 'server.reject', status: 401 },
      { type: 'server.refuse' },
      { type: 'server.reject', status: 503 },
    );
  }
  const canFlood = calm && !ctx.offline;
  if (world.conn === 'open') {
    if (opening) {
      steps.push({ type: 'server.drop' }, { type: 'app.openDone' }, { type: 'app.openFails' });
      if (canFlood) steps.push({ type: 'server.flood' });
    } else if (open) {
      if (plainOpen) for (const code of serverCloseCodes(config)) steps.push({ type: 'server.close', code });
      steps.push({ type: 'server.drop' });
      // A visible page probes the heartbeat: that matters only while it waits for the next ping.
      if (config.watchEnvironment && plainOpen) steps.push({ type: 'page.visible' });
      if (canFlood) steps.push({ type: 'server.flood' });
      if (world.pingOut) steps.push({ type: 'server.pong' });
      if (atPongDeadline) steps.push({ type: 'server.pong', ...atPongDeadline });
    } else if (is(s, { session: { closing: 'hook' } })) {
      steps.push({ type: 'server.drop' });
    } else if (world.closeFrame !== undefined) {
      steps.push({ type: 'server.answerClose' });
    }
  }

  // The app's hooks and handler.
  if (is(s, { session: { closing: 'hook' } }))
    steps.push({ type: 'app.closeDone' }, { type: 'app.closeFails' });
  if (world.blocked) steps.push({ type: 'app.release' });

  // The browser's signals reach a client only while it listens (started, with an environment).
  // Going offline matters only to reconnecting: it is offered there, and in a plain open session
  // (so that the next reconnect begins offline).
  if (config.watchEnvironment && started) {
    if (ctx.offline) steps.push({ type: 'network.online' });
    else if (reconnecting || plainOpen) steps.push({ type: 'network.offline' });
    // A page that becomes visible during the backoff dials at once.
    if (is(s, { reconnecting: 'backoff' })) steps.push({ type: 'page.visible' });
  }

  // Time: to the next timer, when no other is due at the same instant.
  if (timer !== undefined) steps.push({ type: 'time.advance', ms: timer.due - s.now, timer: timer.name });
  return steps;
}

/** Something arrived from the peer: it answers the ping that is out, if one is. */
function heard(w: Work): void {
  if (!w.world.pingOut) return;
  w.world.pingOut = false;
  deliver(w, { type: 'socket.heard', sessionId: w.m.context.sessionId });
}

/** The socket closed on the server's side. */
function socketClosed(w: Work, close: Record<string, unknown>): void {
  w.world.conn = 'none';
  w.world.closeFrame = undefined;
  deliver(w, { type: 'socket.closed', sessionId: w.m.context.sessionId, reason: '', ...close });
}

const HOOK_EVENTS: Record<string, AnyEventObject> = {
  'app.openDone': { type: 'xstate.done.actor.openHook', output: undefined, actorId: 'openHook' },
  'app.openFails': { type: 'xstate.error.actor.openHook', error: OPEN_HOOK_ERROR, actorId: 'openHook' },
  'app.closeDone': { type: 'xstate.done.actor.closeHook', output: undefined, actorId: 'closeHook' },
  'app.closeFails': { type: 'xstate.error.actor.closeHook', error: CLOSE_HOOK_ERROR, actorId: 'closeHook' },
};

/** What one step does: the model state after it. */
export function applyStep(s: ModelState, step: LifecycleStep): ModelState {
  const w = beginWork(s);
  const world = w.world;
  const sessionId = w.m.context.sessionId;
  switch (step.type) {
    case 'client.start':
    case 'client.restart':
      deliver(w, { type: step.type });
      break;
    case 'client.stop':
      deliver(w, { type: 'client.stop', timeoutMs: step.timeoutMs });
      break;
    case 'app.exit':
      deliver(
        w,
        step.via === 'session'
          ? { type: 'client.exit', sessionId: world.handle }
          : { type: 'client.exit', reason: 'onRestartError exit()' },
      );
      break;
    case 'app.openDone':
    case 'app.openFails':
    case 'app.closeDone':
    case 'app.closeFails':
      deliver(w, HOOK_EVENTS[step.type]!);
      break;
    case 'app.release':
      world.blocked = false;
      if (w.m.context.readingPaused) deliver(w, { type: 'inbound.resumed' });
      break;
    case 'app.urlFails':
      world.failUrl = true;
      break;
    case 'app.subscribe':
      world.subscribed = true;
      deliver(w, {
        type: 'subscription.add',
        subscriptions: [{ id: MODEL_SUBSCRIPTION_ID, input: MODEL_SUBSCRIPTION }],
      });
      break;
    case 'app.unsubscribe':
      // It ends at once (or after its subscribe, on an open session), and the client removes it.
      world.subscribed = false;
      deliver(w, { type: 'subscription.remove', ids: [MODEL_SUBSCRIPTION_ID] });
      break;
    case 'adapter.breaks':
      world.breakDial = true;
      break;
    case 'server.accept':
      world.conn = 'open';
      deliver(w, { type: 'socket.opened', sessionId, protocol: '', response: undefined });
      break;
    case 'server.reject':
      socketClosed(w, {
        code: 1006,
        wasClean: false,
        error: HANDSHAKE[step.status],
        status: step.status,
        retryAfterMs: undefined,
      });
      break;
    case 'server.refuse':
      socketClosed(w, { code: 1006, wasClean: false, error: REFUSED });
      break;
    case 'server.close':
      socketClosed(w, { code: step.code, wasClean: true });
      break;
    case 'server.drop':
      socketClosed(w, { code: 1006, wasClean: false });
      break;
    case 'server.answerClose': {
      const frame = world.closeFrame!;
      socketClosed(w, { code: frame.code, reason: frame.reason, wasClean: true });
      break;
    }
    case 'server.pong':
      if (step.ms !== undefined) advance(w, step.ms);
      heard(w);
      break;
    case 'server.flood':
      heard(w);
      world.blocked = true;
      deliver(w, { type: 'inbound.paused' });
      break;
    case 'network.offline':
    case 'network.online':
      deliver(w, { type: step.type === 'network.offline' ? 'env.offline' : 'env.online' });
      break;
    case 'page.visible':
      deliver(w, { type: 'env.visible' });
      break;
    case 'time.advance':
      advance(w, step.ms);
      break;
  }
  settleLater(w);
  return endWork(w);
}

/**
 * The parts of a state that decide what can happen next. Ids and absolute times are left out (the
 * session id through the handle's liveness, timers as time left), and so is what the next session or
 * start() resets, so that the graph stays finite and small.
 */
export function abstractKey(s: ModelState, config: MachineConfig): string {
  const c = s.m.context;
  const w = s.world;
  // Attempts matter for the limit and for "a restart after a stable session goes at once" (0 or
  // not); without a limit, only those. Their backoff delays do not matter either: nothing else runs
  // while reconnecting, and replayPath waits the delay the client drew.
  const limit = config.reconnect.maxAttempts ?? 1;
  // Facts of the current session: reset when the next one begins, and read by nothing outside it
  // (lastClose is not here: it is written when a session ends, before the policy reads it).
  const session = s.m.matches('session')
    ? [
        c.reached,
        c.endRequest?.kind ?? 0,
        c.endCause?.kind ?? 0,
        // Once the socket closed, how it closed matters only through the class the policy will see.
        c.socketClose === undefined
          ? (c.closeFrame?.code ?? 0)
          : closeClassOf(closeInfoOf(c), c.endRequest?.kind, c.config.reconnect),
        c.missedPongs,
        w.conn,
        w.closeFrame !== undefined,
        w.pingOut,
        w.handle === c.sessionId,
      ]
    : 0;
  return JSON.stringify([
    s.m.value,
    session,
    Math.min(c.attempt, limit + 1),
    c.restarting,
    // Read only by "a failed first start stops" (isFirstStart), which retryOnStart turns off.
    config.reconnect.retryOnStart ? 0 : c.hasOpened,
    c.offline,
    c.readingPaused,
    [...s.timers]
      .sort((a, b) => a.due - b.due || a.seq - b.seq)
      .map((t) => (t.name === 'reconnectDelay' ? t.name : [t.name, t.due - s.now])),
    w.exitFn,
    w.breakDial,
    w.failUrl,
    w.blocked,
    w.subscribed,
  ]);
}
