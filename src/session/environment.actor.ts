/**
 * The environment actor: browser signals, listened to while the client is started (spawned on
 * start, stopped on `stopped`, so a stopped client holds no listener on window or document).
 * `offline` pauses reconnect attempts, `online` attempts at once, and a tab that becomes visible or
 * resumes from being frozen probes the heartbeat at once, so a socket that died meanwhile is found
 * within one `timeoutMs`, or, during a reconnect's backoff, dials at once.
 */
import { fromCallback } from 'xstate';
import type { ConnectionEvent } from '../../machines/connection.types.js';
import type { ClientOptions } from '../types.js';
import { servicesOf } from './services.js';

/** The subset of EventTarget used here. */
export interface EventTargetLike {
  addEventListener(type: string, fn: () => void): void;
  removeEventListener(type: string, fn: () => void): void;
}

/** What the environment actor listens to. */
export interface EnvironmentSignals {
  online: boolean;
  visibility: boolean;
  window: EventTargetLike | undefined;
  document: (EventTargetLike & { visibilityState?: string }) | undefined;
  isOnline(): boolean | undefined;
}

/** Finds the browser's window/document (or the ones given for tests); undefined in Node. */
export function resolveEnvironment(option: ClientOptions['environment']): EnvironmentSignals | undefined {
  if (option === false) return undefined;
  const g = globalThis as {
    addEventListener?: unknown;
    document?: unknown;
    navigator?: { onLine?: boolean };
  };
  const win =
    option?.window ?? (typeof g.addEventListener === 'function' ? (g as EventTargetLike) : undefined);
  const doc =
    option?.document ??
    (typeof (g.document as { addEventListener?: unknown } | undefined)?.addEventListener === 'function'
      ? (g.document as EventTargetLike & { visibilityState?: string })
      : undefined);
  if (win === undefined && doc === undefined) return undefined;
  return {
    online: option?.online !== false,
    visibility: option?.visibility !== false,
    window: win as EventTargetLike | undefined,
    document: doc as (EventTargetLike & { visibilityState?: string }) | undefined,
    isOnline: () => g.navigator?.onLine,
  };
}

/** The real environment actor, provided to the machine once per module by the client. */
export const environmentActor = fromCallback<{ type: 'env.sync' }>(({ system, sendBack }) => {
  const env = servicesOf(system, 'environment').environment;
  if (env === undefined) return undefined;
  const send = sendBack as (event: ConnectionEvent) => void;
  const offs: Array<() => void> = [];
  const listen = (target: EventTargetLike, type: string, fn: () => void) => {
    target.addEventListener(type, fn);
    offs.push(() => target.removeEventListener(type, fn));
  };
  if (env.online && env.window !== undefined) {
    listen(env.window, 'offline', () => send({ type: 'env.offline' }));
    listen(env.window, 'online', () => send({ type: 'env.online' }));
    // In sync with now: an `online` missed while stopped must not keep this run paused. Unknown (no
    // navigator) counts as online.
    send({ type: env.isOnline() === false ? 'env.offline' : 'env.online' });
  }
  if (env.visibility && env.document !== undefined) {
    const doc = env.document;
    listen(doc, 'visibilitychange', () => {
      if (doc.visibilityState === 'visible') send({ type: 'env.visible' });
    });
    // Page Lifecycle: a frozen tab ran no timers; on resume, find out at once whether the socket lived.
    listen(doc, 'resume', () => send({ type: 'env.visible' }));
  }
  return () => {
    for (const off of offs) off();
  };
});
