/**
 * reconnecting-websocket's options, validated and mapped onto `createClient` options (the table in
 * the README's migration section). Bad values throw {@link InvalidOptionsError} naming the option as
 * the user wrote it. Where their defaults are bugs (an unbounded send queue), wsmachine's bound is kept.
 */
import { type ClientOptions, InvalidOptionsError, type ReconnectOptions } from '../public.js';
import type { ReconnectingWebSocketOptions, WebSocketCloseEvent } from './types.js';

/** The largest delay a timer can wait (2^31 - 1 ms); longer ones fire at once in Node and browsers. */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * reconnecting-websocket's defaults, where wsmachine's differ (the others are the same).
 * @internal
 */
export const COMPAT_DEFAULTS = {
  maxReconnectionDelay: 10_000,
  /** reconnecting-websocket draws 1-5 s once per process, partysocket uses 3 s: see decisions.md. */
  minReconnectionDelay: 1_000,
  reconnectionDelayGrowFactor: 1.3,
  minUptime: 5_000,
  connectionTimeout: 4_000,
} as const;

const KNOWN = [
  'WebSocket',
  'maxReconnectionDelay',
  'minReconnectionDelay',
  'reconnectionDelayGrowFactor',
  'minUptime',
  'connectionTimeout',
  'maxRetries',
  'maxEnqueuedMessages',
  'startClosed',
  'shouldReconnectOnClose',
  'debug',
  'debugLogger',
  'clientOptions',
] as const;

/**
 * The facade's own settings plus the client options they map to (without `url`, `protocols`,
 * `adapter` and `hooks`, which the facade adds).
 * @internal
 */
export interface CompatSettings {
  startClosed: boolean;
  log: ((...args: unknown[]) => void) | undefined;
  WebSocket: unknown;
  maxRetries: number;
  client: Omit<ClientOptions, 'url' | 'protocols'>;
}

type Problems = Array<{ option: string; value: unknown; expected: string }>;

/** A duration in ms: finite, >= 0, within a timer's range; rounded (their defaults were fractional). */
function duration(problems: Problems, option: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > MAX_TIMER_MS) {
    problems.push({ option, value, expected: `a number of milliseconds from 0 to ${MAX_TIMER_MS}` });
    return undefined;
  }
  return Math.round(value);
}

/** A count: an integer >= 0, or Infinity. */
function count(problems: Problems, option: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (
    typeof value !== 'number' ||
    !(value === Number.POSITIVE_INFINITY || (Number.isInteger(value) && value >= 0))
  ) {
    problems.push({ option, value, expected: 'an integer >= 0, or Infinity' });
    return undefined;
  }
  return value;
}

function flag(problems: Problems, option: string, value: unknown): boolean | undefined {
  if (value === undefined || typeof value === 'boolean') return value;
  problems.push({ option, value, expected: 'true or false' });
  return undefined;
}

function fn<T>(problems: Problems, option: string, value: unknown): T | undefined {
  if (value === undefined || typeof value === 'function') return value as T | undefined;
  problems.push({ option, value, expected: 'a function' });
  return undefined;
}

/** reconnecting-websocket's test for "a WebSocket class". */
const looksLikeWebSocket = (value: unknown): boolean =>
  typeof value === 'function' && (value as { CLOSING?: unknown }).CLOSING === 2;

/**
 * Validates `options` and maps them. `closeEvent` builds the event `shouldReconnectOnClose` sees.
 *
 * @throws {InvalidOptionsError} naming every bad option.
 * @internal
 */
export function mapOptions(
  options: ReconnectingWebSocketOptions | undefined,
  closeEvent: (code: number, reason: string, wasClean: boolean) => WebSocketCloseEvent,
): CompatSettings {
  const problems: Problems = [];
  const o = (options ?? {}) as Record<string, unknown>;
  if (typeof o !== 'object' || o === null) {
    throw new InvalidOptionsError([{ option: 'options', value: options, expected: 'an object' }]);
  }
  for (const key of Object.keys(o)) {
    if (!(KNOWN as readonly string[]).includes(key)) {
      problems.push({
        option: key,
        value: o[key],
        expected: `a known option (${KNOWN.join(', ')}); other client options go in clientOptions`,
      });
    }
  }
  if (o.WebSocket !== undefined && !looksLikeWebSocket(o.WebSocket)) {
    problems.push({
      option: 'WebSocket',
      value: o.WebSocket,
      expected: 'a WebSocket class (a constructor with CLOSING === 2), e.g. the one from the ws package',
    });
  }
  const base = o.clientOptions ?? {};
  if (typeof base !== 'object' || base === null || Array.isArray(base)) {
    problems.push({ option: 'clientOptions', value: base, expected: 'an object of createClient options' });
  }
  const client = { ...(base as CompatSettings['client']) };
  if (o.WebSocket !== undefined && client.adapter !== undefined) {
    problems.push({
      option: 'WebSocket',
      value: o.WebSocket,
      expected: 'nothing when clientOptions.adapter is given (both choose the socket: keep one)',
    });
  }

  const maxDelay = duration(problems, 'maxReconnectionDelay', o.maxReconnectionDelay);
  const minDelay = duration(problems, 'minReconnectionDelay', o.minReconnectionDelay);
  const factor = o.reconnectionDelayGrowFactor;
  if (factor !== undefined && (typeof factor !== 'number' || !Number.isFinite(factor) || factor < 1)) {
    problems.push({ option: 'reconnectionDelayGrowFactor', value: factor, expected: 'a finite number >= 1' });
  }
  const minUptime = duration(problems, 'minUptime', o.minUptime);
  const timeout =
    o.connectionTimeout === Number.POSITIVE_INFINITY
      ? 0
      : duration(problems, 'connectionTimeout', o.connectionTimeout);
  const maxRetries = count(problems, 'maxRetries', o.maxRetries);
  const maxQueued = count(problems, 'maxEnqueuedMessages', o.maxEnqueuedMessages);
  const startClosed = flag(problems, 'startClosed', o.startClosed) ?? false;
  const debug = flag(problems, 'debug', o.debug) ?? false;
  const logger = fn<(...args: unknown[]) => void>(problems, 'debugLogger', o.debugLogger);
  const policy = fn<(e: WebSocketCloseEvent) => boolean>(
    problems,
    'shouldReconnectOnClose',
    o.shouldReconnectOnClose,
  );
  if (problems.length > 0) throw new InvalidOptionsError(problems);

  if (client.reconnect !== false) {
    const r: ReconnectOptions = { ...client.reconnect };
    const cap = maxDelay ?? r.maxDelayMs ?? COMPAT_DEFAULTS.maxReconnectionDelay;
    r.maxDelayMs = cap;
    // reconnecting-websocket caps every delay at the maximum, also the first: keep that meaning.
    r.baseDelayMs = Math.min(minDelay ?? r.baseDelayMs ?? COMPAT_DEFAULTS.minReconnectionDelay, cap);
    r.factor = (factor as number | undefined) ?? r.factor ?? COMPAT_DEFAULTS.reconnectionDelayGrowFactor;
    r.resetAfterMs = minUptime ?? r.resetAfterMs ?? COMPAT_DEFAULTS.minUptime;
    r.maxAttempts = maxRetries ?? r.maxAttempts ?? Number.POSITIVE_INFINITY;
    // They keep trying when the first connection fails, too.
    r.retryOnStart = r.retryOnStart ?? true;
    if (policy !== undefined) {
      r.shouldReconnect = (info) =>
        policy(closeEvent(info.code, info.reason, info.error === undefined && info.code !== 1006)) !== false;
    }
    client.reconnect = r;
  }
  client.openTimeoutMs = timeout ?? client.openTimeoutMs ?? COMPAT_DEFAULTS.connectionTimeout;
  if (maxQueued === 0) client.sendBuffer = false;
  else if (maxQueued !== undefined && client.sendBuffer !== false) {
    client.sendBuffer = {
      ...client.sendBuffer,
      maxMessages: maxQueued === Number.POSITIVE_INFINITY ? Number.MAX_SAFE_INTEGER : maxQueued,
    };
  }
  const print = logger ?? ((...args: unknown[]) => console.log(...args));
  return {
    startClosed,
    log: debug ? (...args: unknown[]) => print('RWS>', ...args) : undefined,
    WebSocket: o.WebSocket,
    maxRetries: client.reconnect === false ? 0 : (client.reconnect?.maxAttempts ?? Number.POSITIVE_INFINITY),
    client,
  };
}

/**
 * Normalizes the `protocols` argument: `undefined`/`null` mean none, a string means one.
 *
 * @throws {InvalidOptionsError} for a function (partysocket's per-attempt provider): the client sends
 *   the same subprotocols on every attempt.
 * @internal
 */
export function normalizeProtocols(protocols: unknown): string | string[] | undefined {
  if (protocols === undefined || protocols === null) return undefined;
  if (typeof protocols === 'function') {
    throw new InvalidOptionsError([
      {
        option: 'protocols',
        value: protocols,
        expected:
          'a string or an array of strings (a function per attempt is not supported: the same subprotocols are offered on every attempt)',
      },
    ]);
  }
  return Array.isArray(protocols) ? [...protocols] : (protocols as string);
}

/**
 * Checks the `url` argument's type (the client checks the URL itself).
 *
 * @throws {InvalidOptionsError} when it is not a string, a URL or a function.
 * @internal
 */
export function checkUrlArgument(url: unknown): void {
  const ok =
    typeof url === 'string' ||
    typeof url === 'function' ||
    (typeof url === 'object' && url !== null && typeof (url as { href?: unknown }).href === 'string');
  if (!ok) {
    throw new InvalidOptionsError([
      {
        option: 'url',
        value: url,
        expected: 'a ws:// or wss:// URL, or a function returning one (or a promise of one)',
      },
    ]);
  }
}
