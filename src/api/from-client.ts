/**
 * `fromClient`: XState actor logic that owns a wsmachine client for the life of the invoking state.
 *
 * A custom `ActorLogic` (not `fromCallback`) because the actor must do what a callback actor cannot:
 * fail (so the parent's `onError` hears about a client that gave up), finish (`onDone` after
 * `session.exit()`), and carry the client's state in its snapshot (so the parent's inspection and
 * `useSelector` see it). It follows XState's own promise and callback logic: side effects start in
 * `start`, outcomes come back as events the actor sends itself, `xstate.stop` cleans up.
 *
 * Uses only the client's public API and XState's public actor-logic contract (`self._parent` is in
 * XState's published types). It imports nothing from XState at run time, so it works with whichever
 * copy of XState 5 the app runs.
 */
import type { ActorScope, ActorSystem } from 'xstate';
import type { CreateClient, WsClient } from '../client.js';
import {
  type WsmError,
  HookError,
  InvalidOptionsError,
  InvalidStateError,
  StartError,
  isWsmError,
} from '../core/errors.js';
import type { ClientState } from '../core/types.js';
import type { ClientOptions } from '../types.js';
import type {
  FromClient,
  FromClientCommand,
  FromClientEvent,
  FromClientInput,
  FromClientLogic,
  FromClientSnapshot,
} from './from-client.types.js';

type Scope = ActorScope<FromClientSnapshot, FromClientCommand, ActorSystem<any>, FromClientEvent>;
type Self = Scope['self'];

/** Events the actor sends itself: how outcomes of the client reach its snapshot. */
const CLIENT_CHANGED = 'wsmachine.client.changed';
const CLIENT_ENDED = 'wsmachine.client.ended';
const STOP = 'xstate.stop';

type SelfEvent =
  | { type: typeof CLIENT_CHANGED; state: ClientState; sessionId: number; attempt: number }
  | { type: typeof CLIENT_ENDED; error: unknown };

/** What one running actor holds. Gone once the client was stopped or ended by itself. */
interface Running {
  client: WsClient;
  /** True once the parent stopped us or the client stopped by itself: nothing more goes out. */
  ending: boolean;
  /** True once the first session opened: a later failure is not a start failure. */
  opened: boolean;
  offs: Array<() => void>;
}

/** Input per actor, kept across stop/start: @xstate/react restarts the same actor in Strict Mode. */
const inputs = new WeakMap<object, Partial<FromClientInput> | undefined>();
const running = new WeakMap<object, Running>();

/**
 * The client a `fromClient` actor owns right now, or `undefined` before it started, after it stopped,
 * or for any other actor. For what the events do not carry: `stats()`, `messages()`, `exclusive()`.
 *
 * @example
 * ```ts
 * import { createActor, setup } from 'xstate';
 * import { clientOf, fromClient } from 'wsmachine';
 * const app = setup({ actors: { ws: fromClient() } }).createMachine({
 *   invoke: { id: 'ws', src: 'ws', input: { url: 'wss://example.test/feed' } },
 * });
 * const actor = createActor(app).start();
 * console.log(clientOf(actor.getSnapshot().children.ws)?.stats());
 * ```
 */
export function clientOf(actorRef: unknown): WsClient | undefined {
  if (typeof actorRef !== 'object' || actorRef === null) return undefined;
  return running.get(actorRef)?.client;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' &&
  v !== null &&
  (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null);

/**
 * `input` over `defaults`, one level deep: option groups that are plain objects on both sides
 * (`reconnect`, `hooks`, `headers`, ...) merge key by key; anything else in `input` replaces the
 * default. An `undefined` in `input` keeps the default.
 */
function mergeInput(
  defaults: Partial<FromClientInput> | undefined,
  input: Partial<FromClientInput> | undefined,
): Partial<FromClientInput> {
  const out: Record<string, unknown> = { ...defaults };
  for (const [key, value] of Object.entries(input ?? {})) {
    if (value === undefined) continue;
    const base = out[key];
    out[key] = isPlainObject(base) && isPlainObject(value) ? { ...base, ...value } : value;
  }
  return out as Partial<FromClientInput>;
}

function asError(error: unknown, what: string): WsmError {
  return isWsmError(error) ? error : new HookError(what, error);
}

/** Sends `event` to the parent (and emits it for `actor.on`), unless the actor is ending. */
function toParent(scope: Scope, run: Running | undefined, event: FromClientEvent): void {
  if (run?.ending || scope.self.getSnapshot().status !== 'active') return;
  scope.emit(event);
  scope.self._parent?.send(event);
}

function toSelf(self: Self, event: SelfEvent): void {
  self.send(event as unknown as FromClientCommand);
}

/** Stops watching the client and stops it (bounded by its `stopTimeoutMs`). */
function release(self: Self, run: Running): void {
  run.ending = true;
  running.delete(self);
  for (const off of run.offs) off();
  run.offs = [];
  run.client.stop().catch(() => {});
}

function startClient(
  createClient: CreateClient,
  defaults: Partial<FromClientInput> | undefined,
  scope: Scope,
): void {
  const { self } = scope;
  if (running.has(self)) return;
  if (!inputs.has(self)) {
    throw new InvalidStateError(
      'A fromClient actor cannot be restored from a persisted snapshot: its input (client options, hooks, ' +
        'functions) is not persisted. Persist the app machine in a state without the connection, or re-enter ' +
        'the invoking state after restoring.',
      'stopped',
    );
  }
  const { forwardMessages, subscriptions, ...options } = mergeInput(defaults, inputs.get(self));
  let run: Running | undefined;
  if (forwardMessages === true) {
    const userOnMessage = options.hooks?.onMessage;
    options.hooks = {
      ...options.hooks,
      onMessage: (message, session) => {
        toParent(scope, run, { type: 'wsmachine.message', message });
        return userOnMessage?.(message, session);
      },
    };
  }
  // A bad option throws InvalidOptionsError here: XState turns it into this actor's error (onError).
  const client = createClient(options as ClientOptions);
  const current: Running = { client, ending: false, opened: false, offs: [] };
  run = current;
  running.set(self, current);
  const changed = () => {
    if (current.ending) return;
    toSelf(self, {
      type: CLIENT_CHANGED,
      state: client.state,
      sessionId: client.sessionId,
      attempt: client.attempt,
    });
  };
  const ended = (error: unknown) => {
    if (current.ending) return;
    current.ending = true;
    running.delete(self);
    for (const off of current.offs) off();
    current.offs = [];
    // A client that never opened failed to start: say so (StartError, with the reason as its cause).
    toSelf(self, {
      type: CLIENT_ENDED,
      error: error === undefined || current.opened ? error : new StartError(error),
    });
  };
  current.offs.push(
    client.on('state', changed),
    client.on('open', (e: { sessionId: number; restarting: boolean }) => {
      current.opened = true;
      toParent(scope, current, { type: 'wsmachine.open', sessionId: e.sessionId, restarting: e.restarting });
    }),
    client.on('close', (e) =>
      toParent(scope, current, {
        type: 'wsmachine.close',
        code: e.code,
        reason: e.reason,
        wasClean: e.wasClean,
        class: e.class,
        sessionId: e.sessionId,
      }),
    ),
    client.on('reconnecting', (e: { attempt: number; delayMs: number }) =>
      toParent(scope, current, { type: 'wsmachine.reconnecting', attempt: e.attempt, delayMs: e.delayMs }),
    ),
    client.on('error', (error: WsmError) => toParent(scope, current, { type: 'wsmachine.error', error })),
    client.on('stopped', ({ error }: { error: unknown }) => {
      toParent(scope, current, { type: 'wsmachine.stopped', error });
      ended(error);
    }),
  );
  // A failed start also ends in `stopped` (handled above); this only catches what would slip past it.
  try {
    for (const spec of subscriptions ?? []) {
      const sub = client.subscribe(spec);
      const name = sub.name;
      current.offs.push(
        sub.on('state', ({ from, to }) =>
          toParent(scope, current, { type: 'wsmachine.subscription', name, from, to }),
        ),
      );
      if (forwardMessages === true) {
        current.offs.push(
          sub.on('message', (message) =>
            toParent(scope, current, { type: 'wsmachine.subscription.message', name, message }),
          ),
        );
      }
    }
  } catch (error) {
    // Bad subscription options fail the actor as bad client options do (the parent's onError).
    release(self, current);
    throw error;
  }
  client.start().catch((error: unknown) => ended(error ?? new StartError(undefined)));
}

function runCommand(scope: Scope, event: FromClientCommand): void {
  const run = running.get(scope.self);
  if (run === undefined) return;
  const fail = (error: unknown, what: string) =>
    toParent(scope, run, { type: 'wsmachine.error', error: asError(error, what) });
  switch (event.type) {
    case 'wsmachine.send':
      try {
        run.client.send(event.data);
      } catch (error) {
        fail(error, 'wsmachine.send');
      }
      return;
    case 'wsmachine.request': {
      const id = event.id;
      let reply: Promise<unknown>;
      try {
        reply = run.client.request(event.data, event.options);
      } catch (error) {
        reply = Promise.reject(error);
      }
      reply.then(
        (message) => toParent(scope, run, { type: 'wsmachine.response', id, message: message as never }),
        (error: unknown) =>
          toParent(scope, run, { type: 'wsmachine.requestFailed', id, error: asError(error, 'request') }),
      );
      return;
    }
    case 'wsmachine.restart':
      try {
        run.client.restart(event.reason);
      } catch (error) {
        fail(error, 'wsmachine.restart');
      }
      return;
    default: {
      const type = (event as { type?: unknown }).type;
      // XState's own events are not ours to judge.
      if (typeof type === 'string' && type.startsWith('xstate.')) return;
      fail(
        new InvalidOptionsError([
          {
            option: 'event.type',
            value: type,
            expected: "'wsmachine.send', 'wsmachine.request' or 'wsmachine.restart'",
          },
        ]),
        'event',
      );
    }
  }
}

/**
 * Binds `fromClient` to an entry point's `createClient` (each entry has its own default adapter).
 * @internal
 */
export function makeFromClient(createClient: CreateClient): FromClient {
  return ((defaults?: Partial<FromClientInput>): FromClientLogic<any> => ({
    // Lets tools (the live inspector) tell this logic apart without importing it.
    config: { type: 'wsmachine.fromClient', defaults },
    getInitialSnapshot: (scope, input) => {
      inputs.set(scope.self, input as Partial<FromClientInput> | undefined);
      return {
        status: 'active',
        output: undefined,
        error: undefined,
        state: 'idle',
        sessionId: 0,
        attempt: 0,
      };
    },
    start: (snapshot, scope) => {
      if (snapshot.status !== 'active') return;
      startClient(createClient, defaults, scope as Scope);
    },
    transition: (snapshot, event, scope) => {
      const e = event as FromClientCommand | SelfEvent | { type: typeof STOP };
      switch (e.type) {
        case STOP: {
          const run = running.get(scope.self);
          if (run !== undefined) release(scope.self, run);
          return {
            ...snapshot,
            status: 'stopped',
            output: undefined,
            error: undefined,
          } as FromClientSnapshot;
        }
        case CLIENT_CHANGED:
          if (snapshot.status !== 'active') return snapshot;
          return { ...snapshot, state: e.state, sessionId: e.sessionId, attempt: e.attempt };
        case CLIENT_ENDED:
          if (snapshot.status !== 'active') return snapshot;
          return e.error === undefined
            ? { ...snapshot, state: 'stopped', status: 'done', output: undefined, error: undefined }
            : { ...snapshot, state: 'stopped', status: 'error', output: undefined, error: e.error };
        default:
          if (snapshot.status === 'active') runCommand(scope as Scope, e);
          return snapshot;
      }
    },
    getPersistedSnapshot: (snapshot) => snapshot,
    restoreSnapshot: (snapshot) => snapshot as FromClientSnapshot,
  })) as FromClient;
}
