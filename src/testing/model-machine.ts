/**
 * The model's engine: the connection machine itself, run step by step with a recording actor scope
 * (nothing is executed: the actions are read), plus what the outside world does with what the
 * machine says. A machine action is either a timer (`raise` with a delay, `cancel`), a command to an
 * actor (`sendTo`), an actor started (`spawnChild`) or an emitted event (`emit`); the world answers
 * some of them at once, as the client's actors and the in-memory server do:
 * - the target (url/headers) resolves, or fails when the path said so; the socket dials, or the
 *   adapter throws when the path said so; the environment reports online when it starts listening;
 * - a ping goes out (the peer has said nothing since), a close frame goes out (the server holds it
 *   until `server.answerClose`);
 * - the pong verdict comes after the input already waiting (one macrotask), `socket.silent` unless
 *   something arrived since the ping;
 * - reading resumes when a paused session is sealed by the user's request or ends, and the app gets
 *   an `exit` from `onRestartError` when a reconnect attempt failed;
 * - a subscription told the client stopped ends, and its end removes it from the connection
 *   (`subscription.remove`, after the current step).
 *
 * None of the client's private rules is mirrored: these are the machine's commands and the facts its
 * actors report by contract (machines/connection.types.ts).
 */
import { type AnyEventObject, type SnapshotFrom, createEmptyActor } from 'xstate';
import { connectionMachine } from '../../machines/connection.machine.js';
import type { MachineConfig } from '../../machines/connection.types.js';
import { ConnectError } from '../core/errors.js';
import type { LifecycleTimer } from './lifecycle-steps.js';
import { transitionName } from './transitions.js';

/** A snapshot of the connection machine. */
export type MachineSnapshot = SnapshotFrom<typeof connectionMachine>;

/** A pending timer of the machine. */
export interface Timer {
  /** The id XState schedules it under (the after-event type, or a raise's `id`). */
  id: string;
  name: LifecycleTimer;
  event: AnyEventObject;
  due: number;
  seq: number;
}

/** What the outside world holds, beside the machine. */
export interface World {
  /** The server's side of the current session's socket. */
  conn: 'none' | 'dialing' | 'open';
  /** The close frame the client sent and the server has not answered. */
  closeFrame: { code: number; reason: string } | undefined;
  /** A ping is out and the peer has said nothing since (what the socket actor reports on). */
  pingOut: boolean;
  /** The session whose handle the app got in onOpen (0: none). */
  handle: number;
  /** The app holds the `exit` that onRestartError gave it. */
  exitFn: boolean;
  /** The next dial's `adapter.connect()` throws. */
  breakDial: boolean;
  /** The next attempt's url/headers function throws. */
  failUrl: boolean;
  /** The app's message handler is blocked (by a flood) and has not been released. */
  blocked: boolean;
  /** The app's subscription (`app.subscribe`) is live. */
  subscribed: boolean;
}

/** One node of the model: the machine, the clock, the timers and the world. */
export interface ModelState {
  m: MachineSnapshot;
  now: number;
  timers: readonly Timer[];
  world: World;
  /** Transitions taken by the step that led here, in order. */
  taken: readonly string[];
  seq: number;
}

/** A model state being changed by one step. */
export interface Work {
  m: MachineSnapshot;
  now: number;
  timers: Timer[];
  world: World;
  taken: string[];
  seq: number;
  /** Verdicts that come after the input already waiting (one macrotask). */
  later: AnyEventObject[];
}

const DIAL_ERROR = new ConnectError("The adapter's connect() threw");
const URL_ERROR = new ConnectError('The url function threw');

interface Recorded {
  actions: Array<{ type: string; params: any }>;
  transitions: unknown[];
}

/** An actor scope that records the actions and microsteps of a transition instead of running them. */
function recordingScope(): { scope: any; rec: Recorded } {
  const empty = createEmptyActor() as any;
  const rec: Recorded = { actions: [], transitions: [] };
  // Children spawned with a systemId (subscriptions) are made again at every step (they belong to the
  // empty actor's system): nothing is registered.
  empty.system._set = () => {};
  const system = Object.create(empty.system);
  system._sendInspectionEvent = (event: { type: string; _transitions?: unknown[] }) => {
    if (event.type === '@xstate.microstep') rec.transitions.push(...(event._transitions ?? []));
  };
  const scope = {
    self: empty,
    logger: () => {},
    id: '',
    sessionId: 'lifecycle-model',
    defer: () => {},
    system,
    stopChild: () => {},
    emit: () => {},
    actionExecutor: (action: { type: string; params: unknown }) => {
      rec.actions.push(action);
    },
  };
  return { scope, rec };
}

const recording = recordingScope();

/** The machine's initial snapshot for a configuration. */
export function initialModelState(config: MachineConfig): ModelState {
  const m = connectionMachine.getInitialSnapshot(recording.scope, { config }) as MachineSnapshot;
  return {
    m,
    now: 0,
    timers: [],
    world: {
      conn: 'none',
      closeFrame: undefined,
      pingOut: false,
      handle: 0,
      exitFn: false,
      breakDial: false,
      failUrl: false,
      blocked: false,
      subscribed: false,
    },
    taken: [],
    seq: 0,
  };
}

/** A copy of `s` to change. */
export function beginWork(s: ModelState): Work {
  return { ...s, timers: [...s.timers], world: { ...s.world }, taken: [], later: [] };
}

/** The finished state of a step. */
export function endWork(w: Work): ModelState {
  const { later: _later, ...rest } = w;
  return rest;
}

/** Delivers a machine event, then every event the world answers with, in order (a mailbox). */
export function deliver(w: Work, first: AnyEventObject): void {
  const mailbox: AnyEventObject[] = [first];
  const { scope, rec } = recording;
  while (mailbox.length > 0) {
    const event = mailbox.shift()!;
    rec.actions = [];
    rec.transitions = [];
    w.m = connectionMachine.transition(w.m, event as never, scope) as MachineSnapshot;
    for (const t of rec.transitions) w.taken.push(transitionName(t as never));
    for (const action of rec.actions) answer(w, action, mailbox);
    if (!w.m.matches('session')) {
      w.world.conn = 'none';
      w.world.closeFrame = undefined;
      w.world.pingOut = false;
    }
  }
}

function timerName(id: string): LifecycleTimer {
  if (id.startsWith('xstate.after.')) return id.slice('xstate.after.'.length).split('.')[0] as LifecycleTimer;
  return 'stopTimeout';
}

/** What the world does about one action of the machine. */
function answer(w: Work, action: { type: string; params: any }, mailbox: AnyEventObject[]): void {
  const p = action.params;
  const world = w.world;
  const ctx = w.m.context;
  switch (action.type) {
    case 'xstate.cancel':
      w.timers = w.timers.filter((t) => t.id !== p.sendId);
      return;
    case 'xstate.raise': {
      if (typeof p.delay !== 'number') return;
      const id: string = p.id ?? p.event.type;
      w.timers = w.timers.filter((t) => t.id !== id);
      w.timers.push({ id, name: timerName(id), event: p.event, due: w.now + p.delay, seq: w.seq++ });
      return;
    }
    case 'xstate.spawnChild':
      switch (p.id) {
        case 'socket':
          world.conn = 'none';
          world.closeFrame = undefined;
          world.pingOut = false;
          return;
        case 'target':
          if (world.failUrl) {
            world.failUrl = false;
            mailbox.push({ type: 'xstate.error.actor.target', error: URL_ERROR, actorId: 'target' });
          } else {
            mailbox.push({
              type: 'xstate.done.actor.target',
              output: { url: 'ws://model.invalid/' },
              actorId: 'target',
            });
          }
          return;
        case 'environment':
          mailbox.push({ type: 'env.online' });
          return;
        case 'openHook':
          world.handle = ctx.sessionId;
          return;
      }
      return;
    case 'xstate.sendTo':
      switch (p.event?.type) {
        case 'socket.dial':
          if (world.breakDial) {
            world.breakDial = false;
            mailbox.push({ type: 'xstate.error.actor.socket', error: DIAL_ERROR, actorId: 'socket' });
          } else {
            world.conn = 'dialing';
          }
          return;
        case 'socket.ping':
          if (world.conn === 'open') world.pingOut = true;
          return;
        case 'socket.judge':
          w.later.push({ type: '(verdict)' });
          return;
        case 'socket.close':
          if (world.conn === 'open') world.closeFrame = { code: p.event.code, reason: p.event.reason };
          return;
        case 'socket.seal':
          // The dispatcher reports what the session still queued and resumes reading at once.
          if (p.event.requested !== undefined && ctx.readingPaused) mailbox.push({ type: 'inbound.resumed' });
          return;
        case 'connection.stopped':
          // The subscription ends with the client; the client then removes it from the connection.
          world.subscribed = false;
          mailbox.push({ type: 'subscription.remove', ids: [p.targetId ?? p.to?.id] });
          return;
      }
      return;
    case 'xstate.emit':
      if (p.event?.type === 'session.closed') {
        if (ctx.readingPaused) mailbox.push({ type: 'inbound.resumed' });
        if (p.event.attemptFailed === true) world.exitFn = true;
      }
      return;
  }
}

/** The verdict of a pong deadline: silent unless something arrived since the ping. */
export function verdict(w: Work): AnyEventObject | undefined {
  if (!w.world.pingOut || w.world.conn !== 'open') return undefined;
  return { type: 'socket.silent', sessionId: w.m.context.sessionId };
}

/** The clock jumps `ms`: every timer due by then fires in due order, then the verdicts come. */
export function advance(w: Work, ms: number): void {
  const target = w.now + ms;
  for (;;) {
    const next = [...w.timers]
      .filter((t) => t.due <= target)
      .sort((a, b) => a.due - b.due || a.seq - b.seq)[0];
    if (next === undefined) break;
    w.now = next.due;
    w.timers = w.timers.filter((t) => t !== next);
    deliver(w, next.event);
  }
  w.now = target;
}

/** Runs the verdicts (and what they lead to) that wait for the input already waiting. */
export function settleLater(w: Work): void {
  while (w.later.length > 0) {
    w.later.shift();
    const event = verdict(w);
    if (event !== undefined) deliver(w, event);
  }
}

/** The earliest pending timer, unless two are due at once (a real clock's order is then unknown). */
export function nextTimer(s: { timers: readonly Timer[] }): Timer | undefined {
  const sorted = [...s.timers].sort((a, b) => a.due - b.due || a.seq - b.seq);
  const [first, second] = sorted;
  if (first === undefined) return undefined;
  if (second !== undefined && second.due === first.due) return undefined;
  return first;
}
