/**
 * The client configurations the model tests replay paths on. Each path set of `lifecyclePaths` is
 * for one configuration; between them every guard of the machine goes both ways: a static URL or a
 * url function (resolved per attempt), heartbeat on (with a second missed pong that does not end the
 * session) or off, `retryOnStart` on or off, attempts that run out (`maxAttempts: 2`), a stable
 * session that resets them, an environment to watch or none, and the defaults (jittered backoff).
 *
 * Every client is built the same way a user builds one for `replayPath`: the in-memory adapter with
 * every answer left to the path, a test clock, the control's hooks and environment.
 */
import { type ClientOptions, type WsClient, createClient } from '../../src/node.js';
import {
  type LifecycleControl,
  type MemoryAdapter,
  type TestClock,
  createLifecycleControl,
  createMemoryAdapter,
  createTestClock,
} from '../../src/testing.js';

/** Timer values all different, so that no two deadlines of a path fall on the same instant. */
const TIMEOUTS = { openTimeoutMs: 700, closeTimeoutMs: 300, stopTimeoutMs: 500 } as const;

const BACKOFF = { baseDelayMs: 50, maxDelayMs: 50, jitter: 'none', maxAttempts: 2 } as const;

/** The options of each configuration (the control gives the url function where there is one). */
export const CONFIGS = {
  /** `createClient({ url })` defaults: 30 s heartbeat, one missed pong ends it, full jitter. */
  defaults: () => ({}),
  heartbeat: () => ({
    ...TIMEOUTS,
    heartbeat: { intervalMs: 1_100, timeoutMs: 130, maxMissed: 2 },
    // Attempts reset as soon as a session opens: that timer is due at once and never races a ping.
    reconnect: { ...BACKOFF, resetAfterMs: 0, retryOnStart: false },
  }),
  quiet: () => ({
    ...TIMEOUTS,
    heartbeat: false,
    reconnect: { ...BACKOFF, resetAfterMs: 900, retryOnStart: true },
  }),
  /** A url function: each dial resolves it first, and an auth failure may be fixed by new credentials. */
  refreshable: (control: LifecycleControl) => ({
    ...TIMEOUTS,
    url: control.url('ws://model.test/'),
    environment: false,
    heartbeat: false,
    reconnect: { ...BACKOFF, resetAfterMs: 900, retryOnStart: false },
  }),
} satisfies Record<string, (control: LifecycleControl) => Partial<ClientOptions>>;

export type ConfigName = keyof typeof CONFIGS;

/** One client to replay a path on, with what drives it. */
export interface Rig {
  client: WsClient;
  server: MemoryAdapter;
  clock: TestClock;
  control: LifecycleControl;
}

/** A new client of a configuration, set up for `replayPath`. */
export function rig(name: ConfigName): Rig {
  const control = createLifecycleControl();
  const server = createMemoryAdapter({ autoOpen: false, autoPong: false, autoCloseReply: false });
  const clock = createTestClock();
  const client = createClient({
    url: 'ws://model.test/',
    adapter: server,
    clock,
    hooks: control.hooks(),
    environment: control.environment,
    ...CONFIGS[name](control),
  });
  return { client, server, clock, control };
}
