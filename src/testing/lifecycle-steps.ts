/**
 * The vocabulary of lifecycle paths: what the app, the server, the adapter, the network, the page and
 * time can do to a client, as typed, named steps a person can read. No XState event name appears
 * here: the model translates each step into what the machine sees.
 */
import type { MachineConfig } from '../../machines/connection.types.js';
import type { ClientState } from '../core/types.js';

/**
 * A named delay of the connection machine that a `time.advance` step lets expire. Each is set by a
 * client option: `openTimeoutMs`, `closeTimeoutMs`, the reconnect backoff, `reconnect.resetAfterMs`,
 * `heartbeat.intervalMs` / `heartbeat.timeoutMs` and `stopTimeoutMs` (or `stop({ timeoutMs })`).
 *
 * @example
 * ```ts
 * import type { LifecycleTimer } from 'wsmachine/testing';
 * const waitsForTheServer = (timer: LifecycleTimer) => timer === 'openTimeout' || timer === 'closeTimeout';
 * ```
 */
export type LifecycleTimer =
  | 'openTimeout'
  | 'closeTimeout'
  | 'reconnectDelay'
  | 'stableAfter'
  | 'pingInterval'
  | 'pongTimeout'
  | 'stopTimeout';

/**
 * One step of a lifecycle path: something the outside world does to a client.
 *
 * - `client.start` / `client.stop` (`timeoutMs`: that stop's own deadline) / `client.restart`: the app
 *   calls the client's method (a `start()` while started is refused: that is a step too).
 * - `app.exit`: the app calls `exit()`, `via` the live session's handle (`session.exit()`) or the
 *   `exit` given to `onRestartError`.
 * - `app.openDone` / `app.openFails`: the app's `onOpen` resolves / throws; `app.closeDone` /
 *   `app.closeFails`: the same for `onClose`.
 * - `app.release`: the app's blocked message handler lets go (reading resumes).
 * - `app.urlFails`: the app's `url` (or `headers`) function throws for the next attempt.
 * - `app.subscribe` / `app.unsubscribe`: the app calls `client.subscribe(...)` (a subscription that
 *   claims no messages and whose subscribe resolves at once) / that subscription's `unsubscribe()`.
 * - `server.accept` / `server.reject` (an HTTP status) / `server.refuse` (connection refused): the
 *   server's answer to a dial.
 * - `server.close` (a close frame with `code`) / `server.drop` (1006, no close frame) /
 *   `server.answerClose` (the server answers the client's close frame).
 * - `server.pong`: the peer answers a ping. With `ms`: the answer is already waiting when the pong
 *   deadline passes, `ms` later (a busy event loop reads it late), and is read before the verdict.
 * - `server.flood`: messages pile up behind a blocked handler until the client pauses reading.
 * - `adapter.breaks`: the next dial's `adapter.connect()` throws.
 * - `network.offline` / `network.online` / `page.visible`: the browser's signals.
 * - `time.advance`: time jumps `ms`, to the moment the named `timer` is due (and only it).
 *
 * @example
 * ```ts
 * import type { LifecycleStep } from 'wsmachine/testing';
 * const serverRestarts: LifecycleStep[] = [
 *   { type: 'client.start' },
 *   { type: 'server.accept' },
 *   { type: 'app.openDone' },
 *   { type: 'server.close', code: 1012 },
 *   { type: 'app.closeDone' },
 *   { type: 'time.advance', ms: 1_000, timer: 'reconnectDelay' },
 * ];
 * ```
 */
export type LifecycleStep =
  | { type: 'client.start' }
  | { type: 'client.stop'; timeoutMs?: number }
  | { type: 'client.restart' }
  | { type: 'app.exit'; via: 'session' | 'onRestartError' }
  | { type: 'app.openDone' }
  | { type: 'app.openFails' }
  | { type: 'app.closeDone' }
  | { type: 'app.closeFails' }
  | { type: 'app.release' }
  | { type: 'app.urlFails' }
  | { type: 'app.subscribe' }
  | { type: 'app.unsubscribe' }
  | { type: 'server.accept' }
  | { type: 'server.reject'; status: 401 | 503 }
  | { type: 'server.refuse' }
  | { type: 'server.close'; code: number }
  | { type: 'server.drop' }
  | { type: 'server.answerClose' }
  | { type: 'server.pong'; ms?: number }
  | { type: 'server.flood' }
  | { type: 'adapter.breaks' }
  | { type: 'network.offline' }
  | { type: 'network.online' }
  | { type: 'page.visible' }
  | { type: 'time.advance'; ms: number; timer: LifecycleTimer };

/**
 * What the model says holds after one step of a path.
 *
 * @example
 * ```ts
 * import type { StepExpectation } from 'wsmachine/testing';
 * const opened: StepExpectation = {
 *   state: 'open',
 *   machine: { session: { open: { heartbeat: 'waiting' } } },
 *   transitions: ['connection.session.establishing.opening done:openHook -> connection.session.open'],
 *   closeFrameOut: false,
 *   timers: [{ timer: 'pingInterval', ms: 30_000 }, { timer: 'stableAfter', ms: 5_000 }],
 * };
 * ```
 */
export interface StepExpectation {
  /** The client's state (`client.state`). */
  state: ClientState;
  /** The machine's state value (`client.actor.getSnapshot().value`). */
  machine: unknown;
  /** The machine transitions the step takes, in the order the model took them. */
  transitions: string[];
  /** The client has sent a close frame the server has not answered (a `server.answerClose` may follow). */
  closeFrameOut: boolean;
  /** The machine's timers pending after the step, earliest first, with the time left until each is due. */
  timers: Array<{ timer: LifecycleTimer; ms: number }>;
}

/**
 * A path through the connection's lifecycle: steps to replay on a client, and what the model says
 * each one does.
 *
 * @example
 * ```ts
 * import { lifecyclePaths } from 'wsmachine/testing';
 * for (const path of lifecyclePaths()) console.log(path.name, '\n  covers', path.transitions.length, 'transitions');
 * ```
 */
export interface LifecyclePath {
  /** The steps, readable: `client.start → server.accept → app.openDone → server.drop → …`. */
  name: string;
  /** What the outside world does, in order. */
  steps: LifecycleStep[];
  /** Every machine transition the path takes, in the order it first takes them. */
  transitions: string[];
  /** What the model says after each step (same index as `steps`). */
  expected: StepExpectation[];
  /** The machine configuration the path was found for (a client replaying it must have the same). */
  config: MachineConfig;
}

/**
 * A short readable form of a step: `server.close(1002)`, `time.advance(130 ms: pongTimeout)`.
 *
 * @example
 * ```ts
 * import { describeStep } from 'wsmachine/testing';
 * describeStep({ type: 'server.reject', status: 503 }); // 'server.reject(503)'
 * ```
 */
export function describeStep(step: LifecycleStep): string {
  switch (step.type) {
    case 'client.stop':
      return step.timeoutMs === undefined ? step.type : `client.stop(timeoutMs ${step.timeoutMs})`;
    case 'app.exit':
      return `app.exit(via ${step.via})`;
    case 'server.reject':
      return `server.reject(${step.status})`;
    case 'server.close':
      return `server.close(${step.code})`;
    case 'server.pong':
      return step.ms === undefined ? step.type : `${step.type}(at the pong deadline, +${step.ms} ms)`;
    case 'time.advance':
      return `time.advance(${step.ms} ms: ${step.timer})`;
    default:
      return step.type;
  }
}
