/**
 * The view of a session that dispatch and exclusive sections need, and the handle `exclusive(fn)`
 * gives `fn`.
 */
import type { Message } from '../core/message.js';
import type { Data } from '../core/types.js';
import type { RequestOptions, SendResult } from '../types.js';

/** The view of a session the dispatcher needs. */
export interface DispatchSession {
  readonly id: number;
  /** The machine began ending this session. */
  readonly ending: boolean;
  /**
   * Set when the user's own stop(), exit() or restart() ended it: its received messages are then
   * reported `unhandled` instead of handled.
   */
  readonly endedBy: 'stop' | 'exit' | 'restart' | undefined;
  readonly signal: AbortSignal;
  send(data: Data): SendResult;
  request(data: Data, options?: RequestOptions): Promise<Message>;
}

/**
 * The session handle inside `client.exclusive(fn)`: send and read the stream directly.
 *
 * @example
 * ```ts
 * const price = await client.exclusive(async (s) => {
 *   s.send('GET price');
 *   return (await s.next((m) => String(m.data).startsWith('price'), { timeoutMs: 1000 })).data;
 * });
 * ```
 */
export interface ExclusiveSession extends DispatchSession {
  /**
   * The next message (matching `predicate`, if given) in arrival order. Messages it skips stay
   * buffered and are dispatched normally after the section ends.
   * @throws {RequestTimeoutError} after `timeoutMs`.
   * @throws {ConnectionClosedError} when the session ends; {@link ClientStoppedError} on stop.
   */
  next(predicate?: (message: Message) => boolean, options?: { timeoutMs?: number }): Promise<Message>;
}
