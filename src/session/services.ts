/**
 * How the invoked actors find the client they serve, without a per-client `machine.provide()` (that
 * costs ~240 µs and 24 KiB per client) and without putting the client in the machine's context
 * (every snapshot and inspection event would carry it).
 *
 * Every actor of one client shares that client's actor system: the client registers its services
 * under its system when it creates the actor, and the module-level actors look them up from the
 * `system` XState hands them. The registry holds the system weakly: a dropped client is collected.
 */
import { MachineNotBoundError } from '../core/errors.js';
import type { Clock } from '../core/types.js';
import type { ResolvedOptions } from '../core/options.js';
import type { SocketAdapter } from '../transport/adapter.js';
import type { ConnectionEvent } from '../../machines/connection.types.js';
import type { Counters } from './counters.js';
import type { Dispatcher } from './dispatcher.js';
import type { EnvironmentSignals } from './environment.actor.js';
import type { HookRunner } from './hook.actors.js';
import type { Inbound } from './inbound.js';
import type { Outbox } from './outbox.js';
import type { Requests } from '../rpc/requests.js';
import type { ErrorSink } from '../api/error-reporter.js';
import type { SessionRegistry } from './session-registry.js';
import type { ReconnectPolicy } from './policy.js';
import type { Target } from './socket.actor.js';
import type { HandleOwner } from './session-handle.js';
import type { Subscriptions } from './subscriptions.js';

/** What the actors of one client reach: its parts, wired by the composition root (src/client.ts). */
export interface ClientServices {
  readonly options: ResolvedOptions;
  readonly adapter: SocketAdapter;
  readonly clock: Clock;
  readonly unref: boolean;
  readonly counters: Counters;
  readonly errors: ErrorSink;
  readonly sessions: SessionRegistry;
  readonly outbox: Outbox;
  readonly inbound: Inbound;
  readonly requests: Requests;
  readonly dispatcher: Dispatcher;
  readonly subscriptions: Subscriptions;
  readonly hooks: HookRunner;
  readonly policy: ReconnectPolicy;
  readonly environment: EnvironmentSignals | undefined;
  /** The target of every dial when `url` and `headers` are not functions (no resolution step). */
  readonly staticTarget: Target | undefined;
  /** What session handles call (writes, requests, restart/exit, trace context). */
  readonly handleOwner: HandleOwner;
  /** Sends an event to the client's machine. */
  toMachine(event: ConnectionEvent): void;
  /** Emits a public event that is an I/O fact, not a lifecycle step (`ping`, `pong`). */
  emitFact(event: 'ping' | 'pong', payload: { sessionId: number } | { rttMs: number }): void;
}

const registry = new WeakMap<object, ClientServices>();

/** Registers a client's services under its actor system. */
export function bindServices(system: object, services: ClientServices): void {
  registry.set(system, services);
}

/**
 * The services of the client that owns `system`.
 *
 * @throws {MachineNotBoundError} when the machine runs outside a client.
 */
export function servicesOf(system: unknown, actor: string): ClientServices {
  const services = typeof system === 'object' && system !== null ? registry.get(system) : undefined;
  if (services === undefined) throw new MachineNotBoundError(actor);
  return services;
}
