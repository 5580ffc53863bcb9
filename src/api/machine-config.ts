/**
 * The machine the client runs: the pure connection machine with its actors and its policy action
 * provided once per module (a `provide()` per client costs ~240 µs and 24 KiB), and the per-client
 * configuration it gets as input (data only).
 */
import { type Actor, raise } from 'xstate';
import { connectionMachine } from '../../machines/connection.machine.js';
import type { MachineConfig } from '../../machines/connection.types.js';
import type { ResolvedOptions } from '../core/options.js';
import { redactUrl } from '../core/redact.js';
import { environmentActor } from '../session/environment.actor.js';
import { closeHookActor, openHookActor } from '../session/hook.actors.js';
import { servicesOf } from '../session/services.js';
import { socketActor } from '../session/socket.actor.js';
import { liveSubscriptionMachine } from '../session/subscription.actors.js';
import { targetActor } from '../session/target.actor.js';

/** Provided once per module, never per client. */
export const liveMachine = connectionMachine.provide({
  actors: {
    socket: socketActor,
    target: targetActor,
    openHook: openHookActor,
    closeHook: closeHookActor,
    environment: environmentActor,
    subscription: liveSubscriptionMachine,
  },
  actions: {
    // The client's policy: the user's shouldReconnect and jitter source, decided within the step.
    consultPolicy: raise(({ context, system }) => servicesOf(system, 'policy').policy.decide(context)),
  },
});

/**
 * The running actor's type, for embedding (`waitFor`, `useSelector`).
 *
 * @example
 * ```ts
 * import { waitFor } from 'xstate';
 * import { type ClientActor, createClient } from 'wsmachine';
 * // Resolves when the client is reconnecting (e.g. to show a banner).
 * const whenReconnecting = (actor: ClientActor) => waitFor(actor, (s) => s.matches('reconnecting'));
 * const client = createClient({ url: 'wss://example.test/feed' });
 * void whenReconnecting(client.actor).then(() => console.log('connection lost, retrying'));
 * ```
 */
export type ClientActor = Actor<typeof liveMachine>;

/** The URL when it is static (a string or a URL object), else undefined. */
export function staticUrlOf(url: unknown): string | undefined {
  if (typeof url === 'string') return url;
  if (typeof url === 'object' && url !== null && typeof (url as { href?: unknown }).href === 'string') {
    return (url as { href: string }).href;
  }
  return undefined;
}

/** The machine's input for a client's resolved options (data only: no functions, no URL). */
export function machineConfigOf(
  o: ResolvedOptions,
  credentialsRefreshable: boolean,
  watchEnvironment = false,
): MachineConfig {
  const r = o.reconnect;
  const url = staticUrlOf(o.url);
  return shared({
    watchEnvironment,
    staticUrl: url === undefined || typeof o.headers === 'function' ? undefined : redactUrl(url),
    openTimeoutMs: o.openTimeoutMs,
    closeTimeoutMs: o.closeTimeoutMs,
    stopTimeoutMs: o.stopTimeoutMs,
    reconnect: {
      enabled: r.enabled,
      baseDelayMs: r.baseDelayMs,
      factor: r.factor,
      maxDelayMs: r.maxDelayMs,
      jitter: r.jitter,
      maxAttempts: Number.isFinite(r.maxAttempts) ? r.maxAttempts : null,
      resetAfterMs: r.resetAfterMs,
      retryOnStart: r.retryOnStart,
      // Copies: the user's arrays are not frozen under them.
      authCloseCodes: [...r.authCloseCodes],
      fatalCloseCodes: [...r.fatalCloseCodes],
      credentialsRefreshable,
    },
    heartbeat: {
      enabled: o.heartbeat.enabled,
      intervalMs: o.heartbeat.intervalMs,
      timeoutMs: o.heartbeat.timeoutMs,
      maxMissed: o.heartbeat.maxMissed,
    },
  });
}

/**
 * Clients made with the same options share one frozen configuration (the machine only reads it):
 * a fleet of thousands of clients holds one copy, not thousands. Bounded, so a program that makes
 * clients with ever-changing options cannot grow it without limit.
 */
const configs = new Map<string, MachineConfig>();
const MAX_SHARED_CONFIGS = 64;

function shared(config: MachineConfig): MachineConfig {
  const key = JSON.stringify(config);
  const known = configs.get(key);
  if (known !== undefined) return known;
  if (configs.size >= MAX_SHARED_CONFIGS) configs.delete(configs.keys().next().value as string);
  const frozen = deepFreeze(config);
  configs.set(key, frozen);
  return frozen;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
