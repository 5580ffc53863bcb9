/**
 * The inspector's view of a whole actor system: fed by an XState inspection observer (the one a user
 * passes to `createActor(appMachine, { inspect: inspector.inspect })`), it keeps every actor it has
 * seen (id, parent, its machine or logic, current state, status) and a log of the events each one
 * received, and turns them into page messages. When it sees a `fromClient` actor it hands the client
 * that actor owns to `onConnection`, so the connection's own statechart shows beside the app.
 *
 * Uses only public API: XState's inspection events and wsmachine's `clientOf`.
 */
import { clientOf } from '../api/from-client.js';
import type { WsClient } from '../client.js';

/** What the page knows about one actor. */
export interface ActorView {
  type: 'actor';
  /** The actor's session id: unique in its system. */
  key: string;
  /** The actor's id (`invoke.id`, `spawn`'s id, or the session id of a root). */
  id: string;
  /** The parent's key, or undefined for a root. */
  parent: string | undefined;
  /** `machine <id>`, `fromClient`, or the `src` the actor was invoked with. */
  logic: string;
  /** A machine's state value (`chat.connected`), a `fromClient` actor's client state, or the status. */
  state: string;
  /** XState's status: `active`, `done`, `error`, `stopped`. */
  status: string;
  log: string[];
}

interface ActorRefLike {
  id: string;
  sessionId: string;
  src?: unknown;
  logic?: { id?: unknown; root?: unknown; config?: { type?: unknown } };
  _parent?: { sessionId: string };
}

const LOG_LIMIT = 200;
/** Actors kept; past it, the oldest that are no longer active are forgotten (apps that spawn a lot). */
const ACTOR_LIMIT = 500;

/** A state value as one line: `chat.connected`, `open.{heartbeat.idle, flow.flowing}`. */
export function stateValueText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === null || typeof value !== 'object') return String(value);
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 1) {
    const [key, child] = entries[0]!;
    return `${key}.${stateValueText(child)}`;
  }
  return `{${entries.map(([k, v]) => `${k}.${stateValueText(v)}`).join(', ')}}`;
}

function logicOf(ref: ActorRefLike): string {
  const logic = ref.logic;
  if (logic?.config?.type === 'wsmachine.fromClient') return 'fromClient';
  if (logic !== undefined && logic.root !== undefined && typeof logic.id === 'string')
    return `machine ${logic.id}`;
  return typeof ref.src === 'string' ? ref.src : 'actor';
}

function stateOf(snapshot: { value?: unknown; state?: unknown; status?: unknown }): string {
  if (snapshot.value !== undefined) return stateValueText(snapshot.value);
  if (typeof snapshot.state === 'string') return snapshot.state;
  return String(snapshot.status);
}

/**
 * Keeps the actor views and reports each change through `send`.
 * @internal
 */
export function createActorRegistry(
  send: (message: unknown) => void,
  onConnection: (client: WsClient, name: string) => void,
) {
  const actors = new Map<string, ActorView>();
  const connected = new WeakSet<object>();
  const log = (view: ActorView, line: string) => {
    const entry = `${new Date().toISOString().slice(11, 23)} ${line}`;
    view.log.push(entry);
    if (view.log.length > LOG_LIMIT * 2) view.log.splice(0, view.log.length - LOG_LIMIT);
    send({ type: 'actor-log', key: view.key, line: entry });
  };
  const changed = (view: ActorView) => send({ ...view, log: view.log.slice(-LOG_LIMIT) });

  const observe = (event: {
    type: string;
    actorRef?: ActorRefLike;
    sourceRef?: ActorRefLike;
    snapshot?: { value?: unknown; state?: unknown; status?: unknown };
    event?: { type?: unknown };
  }) => {
    const ref = event.actorRef;
    if (ref === undefined) return;
    if (event.type === '@xstate.actor') {
      const view: ActorView = {
        type: 'actor',
        key: ref.sessionId,
        id: ref.id,
        parent: ref._parent?.sessionId,
        logic: logicOf(ref),
        state: 'not started',
        status: 'active',
        log: [],
      };
      actors.set(view.key, view);
      if (actors.size > ACTOR_LIMIT) {
        for (const [key, old] of actors) {
          if (old.status === 'active') continue;
          actors.delete(key);
          send({ type: 'actor-gone', key });
          break;
        }
      }
      changed(view);
      return;
    }
    const view = actors.get(ref.sessionId);
    if (view === undefined) return;
    if (event.type === '@xstate.snapshot' && event.snapshot !== undefined) {
      const state = stateOf(event.snapshot);
      const status = String(event.snapshot.status);
      if (state !== view.state || status !== view.status) {
        if (state !== view.state) log(view, `state ${state}`);
        if (status !== view.status) log(view, `status ${status}`);
        view.state = state;
        view.status = status;
        changed(view);
      }
      const client = view.logic === 'fromClient' ? clientOf(ref) : undefined;
      if (client !== undefined && !connected.has(client)) {
        connected.add(client);
        onConnection(client, `${view.id} (connection)`);
      }
    } else if (event.type === '@xstate.event') {
      const type = String(event.event?.type);
      const from = event.sourceRef === undefined ? '' : ` from ${event.sourceRef.id}`;
      log(view, `event ${type}${from}`);
    }
  };

  return {
    observe,
    /** Every actor as a page message (for a page that connects late). */
    describe: (): ActorView[] => [...actors.values()].map((v) => ({ ...v, log: v.log.slice(-LOG_LIMIT) })),
  };
}
