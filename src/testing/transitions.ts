/**
 * The transitions of the connection machine, by readable name: `source event [guard] -> target`. The
 * names are computed from XState's transition objects (walked from `connectionMachine.root`, or read
 * from an inspection microstep), with XState's own event names turned into readable ones: `always`,
 * `after:<delay>`, `done:<actor>`, `error:<actor>`, `done:state`.
 */
import { connectionMachine } from '../../machines/connection.machine.js';
import { guardName } from '../visualize/export.js';

/** A transition as XState keeps it on a state node (and passes it in `@xstate.microstep`). */
interface TransitionLike {
  source: { id: string };
  target?: ReadonlyArray<{ id: string }> | undefined;
  eventType: string;
  guard?: unknown;
}

function eventName(eventType: string): string {
  if (eventType === '') return 'always';
  if (eventType.startsWith('xstate.after.')) {
    return `after:${eventType.slice('xstate.after.'.length).split('.')[0]}`;
  }
  if (eventType.startsWith('xstate.done.actor.'))
    return `done:${eventType.slice('xstate.done.actor.'.length)}`;
  if (eventType.startsWith('xstate.error.actor.')) {
    return `error:${eventType.slice('xstate.error.actor.'.length)}`;
  }
  if (eventType.startsWith('xstate.done.state.')) return 'done:state';
  return eventType;
}

/**
 * The readable name of a machine transition: `source event [guard] -> target` (`(internal)` for a
 * transition without a target).
 *
 * @example
 * ```ts
 * import { createClient } from 'wsmachine';
 * import { transitionName } from 'wsmachine/testing';
 * const client = createClient({ url: 'wss://example.test/feed' });
 * client.actor.system.inspect((event) => {
 *   if (event.type === '@xstate.microstep') for (const t of event._transitions) console.log(transitionName(t));
 * });
 * ```
 */
export function transitionName(t: TransitionLike): string {
  const guard = guardName(t.guard);
  const targets = (t.target ?? []).map((x) => x.id).join(',');
  return `${t.source.id} ${eventName(t.eventType)}${guard ? ` [${guard}]` : ''} -> ${targets || '(internal)'}`;
}

let all: readonly string[] | undefined;

/**
 * Every transition of the connection machine by name, targetless ones included, in document order.
 *
 * @example
 * ```ts
 * import { connectionTransitions, lifecyclePaths } from 'wsmachine/testing';
 * const covered = new Set(lifecyclePaths().flatMap((p) => p.transitions));
 * console.log(`${covered.size}/${connectionTransitions().length} transitions`);
 * ```
 */
export function connectionTransitions(): readonly string[] {
  if (all !== undefined) return all;
  const names: string[] = [];
  const walk = (node: any) => {
    for (const list of (node.transitions as Map<string, TransitionLike[]>).values()) {
      for (const t of list) names.push(transitionName(t));
    }
    for (const t of (node.always ?? []) as TransitionLike[]) names.push(transitionName(t));
    for (const child of Object.values(node.states ?? {})) walk(child);
  };
  walk(connectionMachine.root);
  all = names;
  return names;
}

/**
 * The transitions no client made by `createClient` can take, each with the reason; every other
 * transition of the machine is taken by some path of {@link lifecyclePaths} (for some client
 * configuration: see its documentation).
 *
 * @example
 * ```ts
 * import { UNREACHABLE_TRANSITIONS, connectionTransitions } from 'wsmachine/testing';
 * const takeable = connectionTransitions().filter((t) => !(t in UNREACHABLE_TRANSITIONS));
 * ```
 */
export const UNREACHABLE_TRANSITIONS = {
  'connection.session error:socket [isNotBound] -> (internal)':
    'Taken only when the machine runs without its client (createActor(connectionMachine) with no actors provided): the placeholder socket actor fails with MachineNotBoundError and the machine fails loudly. A client always provides its socket actor; test/machines covers this branch.',
  'connection.session.establishing.connecting.resolving error:target [isNotBound] -> (internal)':
    'Taken only when the machine runs without its client: the placeholder target actor fails with MachineNotBoundError. A client always provides its target actor; test/machines covers this branch.',
} as const satisfies Record<string, string>;
