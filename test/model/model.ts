/**
 * The test model of the connection machine: what a user and the environment can do to a client, and
 * what the machine says happens next. Paths come from `xstate/graph`'s `getShortestPaths`.
 *
 * The machine alone is not enough to generate paths that a real client can follow:
 * - Time. `after` delays and delayed raises are events to the machine, but a real clock fires only the
 *   earliest pending timer, and fires every timer that is due when it jumps. The model keeps the
 *   pending timers (recorded from the machine's own `raise`/`cancel` actions) and offers one time
 *   event: "advance to the next timer", which fires, in due order, everything due by then.
 * - Consequences inside the client. Some machine events are sent by the client itself as a result of
 *   an action: `heartbeat.missed` (a ping finds the peer silent past the wall-clock bound),
 *   `xstate.error.actor.socket` (an adapter's `connect()` throws), `heartbeat.pong` (any inbound
 *   frame answers a ping), `inbound.paused` (the dispatcher pauses reading). The model mirrors those
 *   few rules of src/client.ts, so each path step is one real action and the model says which
 *   machine transitions it takes.
 * - Availability. Events are offered only where a real action produces them (no `socket.opened`
 *   without a socket, `exit()` only through a handle the app really holds, environment signals only
 *   while started, when the client listens to them).
 *
 * The graph's nodes are (abstract state, transitions taken to get there), so the shortest paths reach
 * every transition, not only every state (ARCHITECTURE.md §6).
 */
import { type AnyEventObject, type SnapshotFrom, createEmptyActor, fromTransition } from 'xstate';
import { getShortestPaths } from 'xstate/graph';
import { connectionMachine } from '../../machines/connection.machine.js';
import type { MachineConfig } from '../../machines/connection.types.js';
import { stateOf } from '../../src/client.js';
import { HandshakeError } from '../../src/core/errors.js';
import type { ClientState } from '../../src/core/types.js';
import { guardName } from '../../src/visualize/export.js';

export type MachineSnapshot = SnapshotFrom<typeof connectionMachine>;

// -------------------------------------------------------------------------------------------------
// Transitions of the machine

/** A transition definition, as XState keeps it on a StateNode. */
interface TransitionDef {
  source: { id: string };
  target?: ReadonlyArray<{ id: string }> | undefined;
  eventType: string;
  guard?: unknown;
}

/** A stable, readable name of a transition: `source event[guard] -> target`. */
export function transitionKey(t: TransitionDef): string {
  const guard = guardName(t.guard);
  const targets = (t.target ?? []).map((x) => x.id).join(',');
  return `${t.source.id} ${t.eventType === '' ? 'always' : t.eventType}${guard ? ` [${guard}]` : ''} -> ${targets || '(internal)'}`;
}

/** Every transition of the machine, targetless ones included, walked from its StateNodes. */
export function machineTransitions(machine: { root: unknown } = connectionMachine): string[] {
  const keys: string[] = [];
  const walk = (node: any) => {
    for (const list of (node.transitions as Map<string, TransitionDef[]>).values()) {
      for (const t of list) keys.push(transitionKey(t));
    }
    for (const t of (node.always ?? []) as TransitionDef[]) keys.push(transitionKey(t));
    for (const child of Object.values(node.states ?? {})) walk(child);
  };
  walk(machine.root);
  return keys;
}

// -------------------------------------------------------------------------------------------------
// Model state

interface Timer {
  /** The id XState schedules it under (the after-event type, or a raise's `id`). */
  id: string;
  event: AnyEventObject;
  due: number;
  seq: number;
}

/** The harness-side socket as the fake server sees it. */
export type ConnStatus = 'none' | 'dialing' | 'open' | 'closed';

/** One node of the model: the machine snapshot plus what the client and the fake server hold. */
export interface ModelState {
  m: MachineSnapshot;
  /** Clock reading (ms), the same as the simulated clock of the replayed client. */
  now: number;
  timers: readonly Timer[];
  conn: ConnStatus;
  /** Clock reading of the last inbound frame of the session (src/client.ts `lastInboundAt`). */
  lastInbound: number;
  /** A ping is out and unanswered (src/client.ts `awaitingPongFor`). */
  awaitingPong: boolean;
  /** The app holds an `exit()` from `onRestartError`. */
  exitFn: boolean;
  /** The next `adapter.connect()` throws (a broken adapter). */
  dialThrows: boolean;
  /** An exclusive section holds two unread messages (dispatched when it ends). */
  buffered: boolean;
  /** The dispatcher paused reading for backpressure. */
  readingPaused: boolean;
  /** Transitions taken by the step that led here, in order. */
  taken: readonly string[];
  /** Machine events the step applied, in order (for failure messages). */
  applied: readonly string[];
  seq: number;
  /** Actions from the initial state (the first path that reached this abstract state). */
  depth: number;
}

/** A step of a path: a machine event, or an action of the harness whose consequences the model computes. */
export type ModelEvent = AnyEventObject & {
  /** For time steps: how far the clock jumps. */
  advanceMs?: number;
  /** For `socket.closed`: which fault of the fake server causes it. */
  fault?: 'reject401' | 'reject503' | 'drop' | 'close1002' | 'close4401' | 'echo';
};

/** Everything about a configuration that the model needs. */
export interface ModelConfig {
  name: string;
  config: MachineConfig;
  /** Clock reading when the client is created (> 0: the client treats lastInboundAt 0 as "never"). */
  startAt: number;
}

const SLEEP_MARGIN_MS = 1;

/**
 * Paths are generated up to this many actions. The longest path a transition needs today is 8
 * (a second missed pong); the coverage test fails, naming the transition, if one ever needs more.
 */
export const MAX_DEPTH = 10;

/** The wall-clock bound of src/client.ts `ping()`: silence past it means the peer is dead. */
export function silenceBound(config: MachineConfig): number {
  const hb = config.heartbeat;
  return hb.maxMissed * hb.intervalMs + hb.timeoutMs;
}

// -------------------------------------------------------------------------------------------------
// Running the machine with a recording actor scope

interface Recorded {
  actions: Array<{ type: string; params: any }>;
  transitions: TransitionDef[];
}

function createRecordingScope(): { scope: any; rec: Recorded } {
  const empty = createEmptyActor() as any;
  const rec: Recorded = { actions: [], transitions: [] };
  const system = Object.create(empty.system);
  system._sendInspectionEvent = (event: any) => {
    if (event.type === '@xstate.microstep') rec.transitions.push(...event._transitions);
  };
  const scope = {
    self: empty,
    logger: () => {},
    id: '',
    sessionId: 'model',
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

const recording = createRecordingScope();

interface Work extends Omit<ModelState, 'timers' | 'taken' | 'applied'> {
  timers: Timer[];
  taken: string[];
  applied: string[];
  config: MachineConfig;
}

function copy(s: ModelState, config: MachineConfig): Work {
  return { ...s, timers: [...s.timers], taken: [], applied: [], config };
}

function freeze(w: Work): ModelState {
  const { config: _config, ...rest } = w;
  return rest;
}

/** Delivers a machine event, then every event the client sends back as a consequence (its mailbox). */
function deliver(w: Work, first: AnyEventObject): void {
  const mailbox: AnyEventObject[] = [first];
  const { scope, rec } = recording;
  while (mailbox.length > 0) {
    const event = mailbox.shift()!;
    rec.actions = [];
    rec.transitions = [];
    w.applied.push(event.type);
    w.m = connectionMachine.transition(w.m, event as never, scope) as MachineSnapshot;
    for (const t of rec.transitions) w.taken.push(transitionKey(t));
    for (const action of rec.actions) effect(w, action, mailbox);
    if (!w.m.matches('session')) w.conn = 'none';
  }
}

/** What an executed machine action means for timers, the socket and the client (src/client.ts). */
function effect(w: Work, action: { type: string; params: any }, mailbox: AnyEventObject[]): void {
  const p = action.params;
  switch (action.type) {
    case 'xstate.cancel':
      w.timers = w.timers.filter((t) => t.id !== p.sendId);
      return;
    case 'xstate.raise':
      if (typeof p.delay !== 'number') return;
      w.timers = w.timers.filter((t) => t.id !== p.id);
      w.timers.push({ id: p.id ?? p.event.type, event: p.event, due: w.now + p.delay, seq: w.seq++ });
      return;
    case 'xstate.spawnChild':
      if (p.id !== 'socket') return;
      w.conn = 'dialing';
      if (w.dialThrows) {
        w.dialThrows = false;
        if (w.config.reconnect.credentialsRefreshable) {
          // A url/headers function: the dial runs once they resolve, and a throw is a failed dial.
          w.conn = 'closed';
          mailbox.push({
            type: 'socket.closed',
            sessionId: w.m.context.sessionId,
            code: 1006,
            reason: '',
            wasClean: false,
            error: new Error('connect() threw'),
          });
        } else {
          // A static URL dials inside the socket actor's start: the callback actor fails.
          mailbox.push({
            type: 'xstate.error.actor.socket',
            error: new Error('connect() threw'),
            actorId: 'socket',
          });
        }
      }
      return;
    case 'xstate.sendTo':
      if (p.event?.type === 'socket.ping' && w.conn === 'open') {
        // client.ping(): judge the silence by the clock first (a laptop that slept ends the session).
        if (w.lastInbound > 0 && w.now - w.lastInbound > silenceBound(w.config)) {
          mailbox.push({ type: 'heartbeat.missed', sessionId: w.m.context.sessionId });
        } else {
          w.awaitingPong = true;
        }
      }
      return;
    case 'xstate.emit': {
      const e = p.event;
      if (e.type === 'session.ending') w.awaitingPong = false;
      if (e.type === 'session.open' && w.readingPaused) mailbox.push({ type: 'inbound.paused' });
      if (e.type === 'session.closed') {
        w.readingPaused = false;
        w.buffered = false;
        w.awaitingPong = false;
        // client.ts calls onRestartError (whose context carries exit()) for these sessions.
        if (
          !e.reachedOpen &&
          e.requested === undefined &&
          (e.restarting || w.config.reconnect.retryOnStart)
        ) {
          w.exitFn = true;
        }
      }
      if (e.type === 'client.stopped') {
        w.readingPaused = false;
        w.buffered = false;
      }
      return;
    }
  }
}

/** The clock jumps `ms`: every timer due by then fires in due order (as SimulatedClock does). */
function advance(w: Work, ms: number): void {
  const target = w.now + ms;
  w.now = target;
  for (;;) {
    const due = w.timers.filter((t) => t.due <= target).sort((a, b) => a.due - b.due || a.seq - b.seq);
    const next = due[0];
    if (next === undefined) return;
    w.timers = w.timers.filter((t) => t !== next);
    deliver(w, next.event);
  }
}

/** An inbound frame reaches the client: it answers an outstanding ping first. */
function inboundFrame(w: Work): void {
  w.lastInbound = w.now;
  if (w.awaitingPong) {
    w.awaitingPong = false;
    deliver(w, { type: 'heartbeat.pong', sessionId: w.m.context.sessionId });
  }
}

/** The model's transition function: one real action and its consequences. */
export function step(s: ModelState, event: ModelEvent, config: MachineConfig): ModelState {
  const w = copy(s, config);
  w.depth = s.depth + 1;
  if (event.advanceMs !== undefined) {
    advance(w, event.advanceMs);
    return freeze(w);
  }
  switch (event.type) {
    case 'client.start':
      // start() attaches the environment listeners and syncs the online flag (no navigator: online).
      deliver(w, { type: 'env.online' });
      deliver(w, event);
      break;
    case 'fault.dialThrows':
      w.dialThrows = true;
      break;
    case 'inbound.buffer':
      // Two messages arrive while an exclusive section owns the stream: it buffers them.
      inboundFrame(w);
      w.buffered = true;
      break;
    case 'heartbeat.pong':
      inboundFrame(w);
      break;
    case 'inbound.paused':
      // Two messages arrive for a blocked handler: the second one fills the queue.
      inboundFrame(w);
      w.readingPaused = true;
      deliver(w, event);
      break;
    case 'inbound.resumed':
      w.readingPaused = false;
      deliver(w, event);
      break;
    case 'flow.resume': {
      const leftovers = w.buffered;
      w.buffered = false;
      deliver(w, event);
      // The section's unread messages are dispatched to a blocked handler: reading pauses.
      if (leftovers && !w.readingPaused) {
        w.readingPaused = true;
        deliver(w, { type: 'inbound.paused' });
      }
      break;
    }
    case 'socket.opened':
      w.conn = 'open';
      w.lastInbound = w.now;
      deliver(w, event);
      break;
    case 'socket.closed': {
      w.conn = 'closed';
      const { fault: _fault, ...machineEvent } = event;
      deliver(w, machineEvent);
      break;
    }
    default:
      deliver(w, event);
  }
  return freeze(w);
}

// -------------------------------------------------------------------------------------------------
// What can happen in a state

const matches = (s: ModelState, value: unknown) => s.m.matches(value as never);

function handleLive(s: ModelState): boolean {
  // The app got this session's handle in onOpen (socketWasOpen means onOpen was called).
  return matches(s, 'session') && s.m.context.socketWasOpen;
}

// Shared, so that offering an event does not build an Error (and its stack) per state.
const HANDSHAKE_ERRORS = { 401: new HandshakeError(401), 503: new HandshakeError(503) } as const;
const ON_OPEN_ERROR = new Error('onOpen failed');

function closeEvent(s: ModelState, fault: NonNullable<ModelEvent['fault']>): ModelEvent {
  const sessionId = s.m.context.sessionId;
  const base = { type: 'socket.closed', sessionId, reason: '', fault };
  switch (fault) {
    case 'reject401':
    case 'reject503': {
      const status = fault === 'reject401' ? 401 : 503;
      return { ...base, code: 1006, wasClean: false, status, error: HANDSHAKE_ERRORS[status] };
    }
    case 'drop':
      return { ...base, code: 1006, wasClean: false };
    case 'close1002':
      return { ...base, code: 1002, wasClean: true };
    case 'close4401':
      return { ...base, code: 4401, wasClean: true };
    case 'echo': {
      const frame = s.m.context.closeFrame ?? { code: 1000, reason: '' };
      return { ...base, code: frame.code, reason: frame.reason, wasClean: true };
    }
  }
}

/** The earliest pending timer, unless two timers are due at once (a real clock's order is then unknown). */
function nextTimer(s: ModelState): Timer | undefined {
  const sorted = [...s.timers].sort((a, b) => a.due - b.due || a.seq - b.seq);
  const [first, second] = sorted;
  if (first === undefined) return undefined;
  if (second !== undefined && second.due === first.due) return undefined;
  return first;
}

/** The real actions possible in a state, as model events. */
export function candidateEvents(s: ModelState, config: MachineConfig): ModelEvent[] {
  const sessionId = s.m.context.sessionId;
  const started = !matches(s, 'idle') && !matches(s, 'stopped');
  const events: ModelEvent[] = [];
  if (!started) events.push({ type: 'client.start' });
  if (matches(s, 'idle') && !s.dialThrows) events.push({ type: 'fault.dialThrows' });
  if (started) {
    // A stop that arrives while closing gets its own, shorter deadline, so the two never tie.
    events.push(
      matches(s, { session: 'closing' })
        ? { type: 'client.stop', timeoutMs: Math.floor(config.stopTimeoutMs / 2) }
        : { type: 'client.stop' },
    );
    events.push({ type: 'client.restart' });
    if (handleLive(s) || s.exitFn) events.push({ type: 'client.exit' });
  }
  // Offline/online matter to reconnecting (the root handlers only record the flag elsewhere).
  if (matches(s, 'reconnecting')) events.push({ type: 'env.offline' }, { type: 'env.online' });
  if (s.conn === 'dialing') {
    events.push({ type: 'socket.opened', sessionId, protocol: '', response: undefined });
    events.push(closeEvent(s, 'reject401'), closeEvent(s, 'reject503'));
  }
  if (s.conn === 'open') {
    if (matches(s, { session: { closing: 'handshake' } })) events.push(closeEvent(s, 'echo'));
    else if (matches(s, { session: 'closing' })) events.push(closeEvent(s, 'drop'));
    else events.push(closeEvent(s, 'drop'), closeEvent(s, 'close1002'), closeEvent(s, 'close4401'));
  }
  if (matches(s, { session: { establishing: 'opening' } })) {
    events.push({ type: 'xstate.done.actor.openHook', actorId: 'openHook', output: undefined });
    events.push({ type: 'xstate.error.actor.openHook', actorId: 'openHook', error: ON_OPEN_ERROR });
  }
  if (matches(s, { session: { closing: 'hook' } })) {
    events.push({ type: 'xstate.done.actor.closeHook', actorId: 'closeHook', output: undefined });
  }
  if (matches(s, { session: 'open' })) {
    events.push({ type: 'env.visible' });
    const hb = (value: string) => matches(s, { session: { open: { heartbeat: value } } });
    const flowing = matches(s, { session: { open: { flow: 'flowing' } } });
    if (hb('awaitingPong')) events.push({ type: 'heartbeat.pong', sessionId });
    if ((hb('waiting') || hb('awaitingPong')) && flowing && !s.readingPaused) {
      events.push({ type: 'inbound.paused' });
    }
    if (hb('suspended')) events.push({ type: 'inbound.resumed' });
    if (hb('waiting')) {
      events.push({ type: 'time.sleep', advanceMs: silenceBound(config) + SLEEP_MARGIN_MS });
    }
    if (flowing) events.push({ type: 'flow.pause' });
    else {
      events.push({ type: 'flow.resume' });
      if (!s.buffered && config.heartbeat.enabled) events.push({ type: 'inbound.buffer' });
    }
  }
  const timer = nextTimer(s);
  if (timer !== undefined) events.push({ type: timer.event.type, advanceMs: timer.due - s.now });
  return events;
}

// -------------------------------------------------------------------------------------------------
// Serialization: the abstract state (finite) plus the transitions that led to it

const abstractCache = new WeakMap<ModelState, string>();

/**
 * The parts of the state that decide what happens next; ids and absolute times are left out, and so
 * is what the next session or start() resets (beginSession, beginStart), so that the graph is finite
 * and small.
 */
export function abstractState(s: ModelState, config: MachineConfig): string {
  const cached = abstractCache.get(s);
  if (cached !== undefined) return cached;
  const inOpen = matches(s, { session: 'open' });
  const bound = silenceBound(config);
  const key = JSON.stringify([
    machineView(s.m, config),
    [...s.timers].sort((a, b) => a.due - b.due || a.seq - b.seq).map((t) => [t.id, t.due - s.now]),
    s.conn,
    inOpen ? Math.min(s.now - s.lastInbound, bound + 1) : 0,
    s.awaitingPong,
    s.exitFn,
    s.dialThrows,
    s.buffered,
    s.readingPaused,
  ]);
  abstractCache.set(s, key);
  return key;
}

/**
 * The machine's part of the abstract state: the state value and the context that guards and later
 * steps read. Also what a replay compares with the real client's actor after every step.
 */
export function machineView(
  m: Pick<MachineSnapshot, 'value' | 'context' | 'matches'>,
  config: MachineConfig,
) {
  const c = m.context;
  const inSession = m.matches('session');
  const reconnecting = m.matches('reconnecting');
  return {
    value: m.value,
    session: inSession
      ? {
          endRequest: c.endRequest?.kind ?? '-',
          sessionOpened: c.sessionOpened,
          socketOpen: c.socketOpen,
          socketWasOpen: c.socketWasOpen,
          missedPongs: c.missedPongs,
          lastClose:
            c.lastClose === undefined
              ? '-'
              : [c.lastClose.code, c.lastClose.status ?? 0, c.lastClose.requested ?? false],
          closeFrame: c.closeFrame?.code ?? 0,
          restarting: c.restarting,
        }
      : undefined,
    attempts:
      inSession || reconnecting
        ? { hasOpened: c.hasOpened, attempt: Math.min(c.attempt, config.reconnect.maxAttempts) }
        : undefined,
    offline: c.offline,
  };
}

/** The client state the machine snapshot maps to. */
export function clientStateOf(s: ModelState): ClientState {
  return stateOf(s.m);
}

// -------------------------------------------------------------------------------------------------
// Paths

/** One step of a path: the action, and the model state after it. */
export interface PathStep {
  event: ModelEvent;
  state: ModelState;
}

export interface ModelPath {
  config: ModelConfig;
  steps: PathStep[];
  /** The transition this path was chosen to reach (taken by its last step). */
  target: string;
}

/** The initial model state for a configuration. */
export function initialState(model: ModelConfig): ModelState {
  const { scope } = recording;
  const m = connectionMachine.getInitialSnapshot(scope, { config: model.config }) as MachineSnapshot;
  return {
    m,
    now: model.startAt,
    timers: [],
    conn: 'none',
    lastInbound: 0,
    awaitingPong: false,
    exitFn: false,
    dialThrows: false,
    buffered: false,
    readingPaused: false,
    taken: [],
    applied: [],
    seq: 0,
    depth: 0,
  };
}

export interface Traversal {
  initial: ModelState;
  /** Shortest paths to every node (xstate/graph's answer). */
  all: PathStep[][];
  /** For every transition reached: the shortest path whose last step takes it. */
  perTransition: Map<string, PathStep[]>;
  /**
   * For every action and every way it plays out (the transitions its step takes): the shortest path
   * that ends with it. A superset, in what it exercises, of {@link Traversal.perTransition}.
   */
  perOutcome: Map<string, PathStep[]>;
  nodes: number;
}

const nodeKeys = new WeakMap<ModelState, string>();

/** A node of the graph: the abstract state and the transitions taken to reach it. */
function nodeKey(s: ModelState, config: MachineConfig): string {
  let key = nodeKeys.get(s);
  if (key === undefined) {
    key = `${abstractState(s, config)} <- ${s.taken.join(' ; ')}`;
    nodeKeys.set(s, key);
  }
  return key;
}

/** Generates the shortest paths of a configuration with `getShortestPaths`. */
export function traverse(model: ModelConfig, maxDepth = MAX_DEPTH): Traversal {
  const config = model.config;
  // Successors depend only on the abstract state: compute each (abstract state, action) once.
  const next = new Map<string, ModelState>();
  const stepCached = (s: ModelState, e: ModelEvent): ModelState => {
    const key = `${abstractState(s, config)} ${eventKey(e)}`;
    let to = next.get(key);
    if (to === undefined) {
      to = step(s, e, config);
      next.set(key, to);
    }
    return to;
  };
  const logic = fromTransition(
    (s: ModelState, e: ModelEvent) => stepCached(s, e),
    () => initialState(model),
  );
  const paths = getShortestPaths(logic, {
    events: (snapshot) => candidateEvents(snapshot.context, config),
    // An action that changes nothing (no transition, no state of the client or the server) is no step.
    filterEvents: (snapshot, e) => {
      const to = stepCached(snapshot.context, e as ModelEvent);
      return to.taken.length > 0 || abstractState(to, config) !== abstractState(snapshot.context, config);
    },
    // Every transition is reached within a few actions; deeper states only recombine context.
    stopWhen: (snapshot) => snapshot.context.depth >= maxDepth,
    serializeState: (snapshot) => nodeKey(snapshot.context, config),
  });
  const all = paths.map((p) =>
    p.steps.slice(1).map((s) => ({ event: s.event as ModelEvent, state: s.state.context })),
  );
  const perTransition = new Map<string, PathStep[]>();
  const perOutcome = new Map<string, PathStep[]>();
  for (const steps of [...all].sort((a, b) => a.length - b.length)) {
    const last = steps[steps.length - 1];
    if (last === undefined) continue;
    for (const key of last.state.taken) if (!perTransition.has(key)) perTransition.set(key, steps);
    const outcome = `${eventKey(last.event)} :: ${last.state.taken.join(' ; ')}`;
    if (!perOutcome.has(outcome)) perOutcome.set(outcome, steps);
  }
  const initial = paths.find((p) => p.weight === 0)!.state.context;
  return { initial, all, perTransition, perOutcome, nodes: paths.length };
}

/** Drops paths that are a prefix of another chosen path (replaying the longer one replays both). */
export function withoutPrefixes(paths: PathStep[][]): PathStep[][] {
  const sig = (p: PathStep[]) => p.map((s) => JSON.stringify(s.event));
  const sorted = [...paths].sort((a, b) => b.length - a.length);
  const kept: PathStep[][] = [];
  for (const p of sorted) {
    const ps = sig(p);
    const isPrefix = kept.some((k) => {
      const ks = sig(k);
      return ps.every((e, i) => e === ks[i]);
    });
    if (!isPrefix) kept.push(p);
  }
  return kept;
}

/** What identifies an action, whatever the session it is sent in. */
function eventKey(e: ModelEvent): string {
  return `${e.type}|${e.fault ?? ''}|${e.advanceMs ?? ''}|${e.timeoutMs ?? ''}`;
}

/** A readable one-line description of an event. */
export function describeEvent(e: ModelEvent): string {
  if (e.advanceMs !== undefined) return `${e.type} (+${e.advanceMs} ms)`;
  if (e.type === 'socket.closed') return `socket.closed (${e.fault})`;
  return e.type;
}

/** A readable description of a path, for failure messages. */
export function describePath(steps: PathStep[]): string {
  return steps
    .map(
      (s, i) =>
        `${i + 1}. ${describeEvent(s.event)} => ${clientStateOf(s.state)} ${JSON.stringify(s.state.m.value)}`,
    )
    .join('\n');
}
