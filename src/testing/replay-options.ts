/**
 * What `replayPath` takes and what it gives back: its options, and what it observed at each step.
 */
import type { WsClient } from '../client.js';
import type { ClientEvents } from '../types.js';
import type { ObservedStep } from './errors.js';
import type { LifecycleControl } from './lifecycle-control.js';
import type { LifecycleStep } from './lifecycle-steps.js';
import type { MemoryAdapter } from './memory-adapter.js';
import type { ReplayServer } from './replay-server.js';
import type { TestClock } from './test-clock.js';

/** The public events a replay records (every one but `message`, which a flood sends thousands of). */
export const EVENTS = [
  'state',
  'connecting',
  'open',
  'close',
  'reconnecting',
  'error',
  'ping',
  'pong',
  'heartbeat-missed',
  'undelivered',
  'unhandled',
  'stopped',
] as const satisfies ReadonlyArray<keyof ClientEvents>;

/**
 * A public client event seen during a step.
 *
 * @example
 * ```ts
 * import type { ObservedEvent } from 'wsmachine/testing';
 * const reconnects = (events: ObservedEvent[]) => events.filter((e) => e.type === 'reconnecting').length;
 * ```
 */
export interface ObservedEvent {
  type: (typeof EVENTS)[number];
  payload: unknown;
}

/**
 * What `replayPath` observed after one step.
 *
 * @example
 * ```ts
 * import type { StepObservation } from 'wsmachine/testing';
 * const log = (o: StepObservation) => console.log(o.step.type, '=>', o.state, o.events.map((e) => e.type));
 * ```
 */
export interface StepObservation extends ObservedStep {
  step: LifecycleStep;
  /** The public events the client emitted during the step, in order. */
  events: ObservedEvent[];
}

/**
 * Options of {@link replayPath}.
 *
 * @example
 * ```ts
 * import { createClient } from 'wsmachine';
 * import { createLifecycleControl, createMemoryAdapter, createTestClock, type ReplayOptions } from 'wsmachine/testing';
 * const server = createMemoryAdapter({ autoOpen: false, autoPong: false, autoCloseReply: false });
 * const clock = createTestClock();
 * const control = createLifecycleControl();
 * const client = createClient({ url: 'ws://app.test/', adapter: server, clock, hooks: control.hooks(), environment: control.environment });
 * const options: ReplayOptions = { client, server, clock, control };
 * ```
 */
export interface ReplayOptions {
  /** A new (idle) client, made with the options the path was found for. @default (required) */
  client: WsClient;
  /**
   * The server the client dials: the in-memory adapter the client was created with
   * (`createMemoryAdapter({ autoOpen: false, autoPong: false, autoCloseReply: false })`, simulated
   * time), or a {@link ReplayServer} over a real server (real time).
   * @default (required)
   */
  server: MemoryAdapter | ReplayServer;
  /**
   * The client's clock: required with the in-memory adapter (`time.advance` moves it); leave it out
   * with a real server (timers then run in real time).
   * @default undefined (real time)
   */
  clock?: TestClock;
  /** The control whose hooks and environment the client was created with. @default (required) */
  control: LifecycleControl;
  /**
   * Called after each step, once the client matched the path: check your app's invariants here
   * (a throw or rejection fails the replay).
   * @default undefined
   */
  onStep?: (observation: StepObservation, index: number) => void | Promise<void>;
  /**
   * Stop the client when the path is over (or failed): hooks are let go, the close is answered and
   * the clock advanced until it is stopped. Turn it off to look at the client after the path; then
   * call `control.finish()` before stopping it yourself.
   * @default true
   */
  stopWhenDone?: boolean;
  /**
   * Real time only: how long a step may take to show its transitions before the replay fails
   * (a `time.advance` step gets its `ms` on top).
   * @default 2_000
   */
  stepTimeoutMs?: number;
}
