/**
 * The client state name of a machine snapshot: the names users see in `client.state` and `state`
 * events. One mapping, read from the machine, never kept beside it.
 */
import type { ClientState } from '../core/types.js';

/**
 * The client state name of a machine snapshot.
 *
 * @example
 * ```ts
 * import { createClient, stateOf } from 'wsmachine';
 * const client = createClient({ url: 'wss://example.test/feed' });
 * client.actor.subscribe((s) => console.log(stateOf(s))); // 'idle', 'connecting', 'open', ...
 * ```
 */
export function stateOf(snapshot: { matches(value: any): boolean }): ClientState {
  if (snapshot.matches({ session: 'open' })) return 'open';
  if (snapshot.matches({ session: 'closing' })) return 'closing';
  if (snapshot.matches({ session: { establishing: 'opening' } })) return 'opening';
  if (snapshot.matches('session')) return 'connecting';
  if (snapshot.matches('reconnecting')) return 'reconnecting';
  if (snapshot.matches('stopped')) return 'stopped';
  // `ended` and `deciding` are passed within one step and never observed; between the two they are
  // still the end of a session.
  if (snapshot.matches('ended') || snapshot.matches('deciding')) return 'closing';
  return 'idle';
}
