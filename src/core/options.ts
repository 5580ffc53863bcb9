/**
 * Option defaults, validation and merging. Pure: it looks at values only. `src/core` may not import
 * the public types (they reference adapters), so user functions are typed loosely here and the
 * client narrows them again.
 */
import { InvalidOptionsError, type OptionProblem } from './errors.js';
import { redactUrl } from './redact.js';

type Fn = (...args: any[]) => any;

/**
 * The largest delay a timer can take: Node and browsers fire a longer `setTimeout` after 1 ms, so every
 * `*Ms` option is bounded by it (about 24.8 days).
 */
export const MAX_TIMER_MS = 2_147_483_647;

/**
 * The defaults, as documented in API.md and the TSDoc of each option.
 *
 * @example
 * ```ts
 * import { createClient, DEFAULTS } from 'wsmachine';
 * // twice the default patience for a slow network, whatever the default is
 * const client = createClient({ url: 'wss://example.test/feed', openTimeoutMs: DEFAULTS.openTimeoutMs * 2 });
 * ```
 */
export const DEFAULTS = {
  maxPayloadBytes: 64 * 1024 * 1024,
  openTimeoutMs: 10_000,
  closeTimeoutMs: 1_000,
  stopTimeoutMs: 5_000,
  concurrency: 1,
  reconnect: {
    baseDelayMs: 1_000,
    factor: 2,
    maxDelayMs: 30_000,
    jitter: 'full' as 'full' | 'none',
    maxAttempts: Number.POSITIVE_INFINITY,
    resetAfterMs: 5_000,
    retryOnStart: false,
    authCloseCodes: [4401, 4403] as readonly number[],
    fatalCloseCodes: [] as readonly number[],
  },
  sendBuffer: { maxMessages: 1_000, maxBytes: 1024 * 1024 },
  requests: { timeoutMs: 30_000, onDisconnect: 'reject' as 'reject' | 'resend' },
  heartbeat: { intervalMs: 30_000, timeoutMs: 10_000, maxMissed: 1 },
  inbound: {
    highWaterMark: 1_000,
    highWaterBytes: 16 * 1024 * 1024,
    lowWaterMark: 100,
    maxQueued: 100_000,
    maxQueuedBytes: 256 * 1024 * 1024,
    // Above one 64 KiB socket read of the smallest frames (~21,800): ws hands over a whole read at
    // once, before any reader can run, so a smaller bound would end iterators that are being read.
    iteratorBufferSize: 100_000,
    iteratorBufferBytes: 16 * 1024 * 1024,
  },
} as const;

/** Inbound queue bounds after defaults. */
export interface ResolvedInbound {
  highWaterMark: number;
  highWaterBytes: number;
  lowWaterMark: number;
  maxQueued: number;
  maxQueuedBytes: number;
  iteratorBufferSize: number;
  iteratorBufferBytes: number;
}

/** Reconnect policy after defaults. */
export interface ResolvedReconnect {
  enabled: boolean;
  baseDelayMs: number;
  factor: number;
  maxDelayMs: number;
  jitter: 'full' | 'none';
  maxAttempts: number;
  resetAfterMs: number;
  retryOnStart: boolean;
  shouldReconnect: Fn | undefined;
  random: () => number;
  authCloseCodes: readonly number[];
  fatalCloseCodes: readonly number[];
}

/** Send buffer after defaults. */
export interface ResolvedSendBuffer {
  enabled: boolean;
  maxMessages: number;
  maxBytes: number;
  maxAgeMs: number | undefined;
}

/** Request settings after defaults. */
export interface ResolvedRequests {
  timeoutMs: number;
  onDisconnect: 'reject' | 'resend';
  key: { request: Fn; response: Fn } | undefined;
  match: Fn | undefined;
}

/** Heartbeat settings after defaults. */
export interface ResolvedHeartbeat {
  enabled: boolean;
  intervalMs: number;
  timeoutMs: number;
  maxMissed: number;
  message: unknown;
  isPong: Fn | undefined;
}

/** Every option after validation and defaults. */
export interface ResolvedOptions {
  url: unknown;
  protocols: string[];
  headers: unknown;
  maxPayloadBytes: number;
  openTimeoutMs: number;
  closeTimeoutMs: number;
  stopTimeoutMs: number;
  concurrency: number;
  reconnect: ResolvedReconnect;
  sendBuffer: ResolvedSendBuffer;
  requests: ResolvedRequests;
  heartbeat: ResolvedHeartbeat;
  inbound: ResolvedInbound;
  prepare: Fn | undefined;
  hooks: Record<string, Fn | undefined>;
}

/** What the runtime tells the resolver about the chosen adapter. */
export interface AdapterFacts {
  protocolPing: boolean;
  headers: boolean;
}

const KNOWN_TOP = new Set([
  'url',
  'protocols',
  'headers',
  'adapter',
  'maxPayloadBytes',
  'openTimeoutMs',
  'closeTimeoutMs',
  'stopTimeoutMs',
  'reconnect',
  'heartbeat',
  'requests',
  'prepare',
  'sendBuffer',
  'concurrency',
  'inbound',
  'hooks',
  'inspect',
  'clock',
  'unref',
  'environment',
]);
const RECONNECT_NAMES = [
  'baseDelayMs',
  'factor',
  'maxDelayMs',
  'jitter',
  'maxAttempts',
  'resetAfterMs',
  'retryOnStart',
  'shouldReconnect',
  'random',
  'authCloseCodes',
  'fatalCloseCodes',
];
/** A subprotocol is an HTTP token (RFC 6455 §4.1, RFC 7230 §3.2.6). */
const SUBPROTOCOL = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const HOOK_NAMES = ['onOpen', 'onMessage', 'onClose', 'onError', 'onRestartError'];

class Checker {
  readonly problems: OptionProblem[] = [];

  add(option: string, value: unknown, expected: string): void {
    this.problems.push({ option, value, expected });
  }

  /** An integer (or Infinity when allowed) within [min, max]. */
  int(
    option: string,
    value: unknown,
    fallback: number,
    min: number,
    max = Number.MAX_SAFE_INTEGER,
    infinity = false,
  ): number {
    if (value === undefined) return fallback;
    const ok =
      typeof value === 'number' &&
      ((infinity && value === Number.POSITIVE_INFINITY) ||
        (Number.isInteger(value) && value >= min && value <= max));
    if (!ok) {
      const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
      this.add(option, value, `an integer ${range}${infinity ? ' (or Infinity)' : ''}`);
      return fallback;
    }
    return value;
  }

  num(option: string, value: unknown, fallback: number, min: number): number {
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
      this.add(option, value, `a finite number >= ${min}`);
      return fallback;
    }
    return value;
  }

  bool(option: string, value: unknown, fallback: boolean): boolean {
    if (value === undefined) return fallback;
    if (typeof value !== 'boolean') {
      this.add(option, value, 'true or false');
      return fallback;
    }
    return value;
  }

  fn(option: string, value: unknown): Fn | undefined {
    if (value === undefined) return undefined;
    if (typeof value !== 'function') {
      this.add(option, value, 'a function');
      return undefined;
    }
    return value as Fn;
  }

  /** `false`, `undefined` or a plain object; returns the object or undefined. */
  section(option: string, value: unknown, allowFalse: boolean): Record<string, unknown> | false | undefined {
    if (value === undefined) return undefined;
    if (value === false && allowFalse) return false;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      this.add(option, value, allowFalse ? 'false or an object' : 'an object');
      return undefined;
    }
    return value as Record<string, unknown>;
  }

  /** Unknown names inside an option object (a typo such as `reconnect.maxAttempt` must not be ignored). */
  known(section: string, value: Record<string, unknown>, names: readonly string[]): void {
    for (const key of Object.keys(value)) {
      if (!names.includes(key))
        this.add(`${section}.${key}`, value[key], `a known option (${names.join(', ')}); check the spelling`);
    }
  }

  codes(option: string, value: unknown, fallback: readonly number[]): readonly number[] {
    if (value === undefined) return fallback;
    if (!Array.isArray(value) || value.some((c) => !Number.isInteger(c) || c < 3000 || c > 4999)) {
      this.add(option, value, 'an array of application close codes from 3000 to 4999');
      return fallback;
    }
    return value as number[];
  }
}

function isUrlLike(value: unknown): boolean {
  return (
    typeof value === 'object' && value !== null && typeof (value as { href?: unknown }).href === 'string'
  );
}

/** Checks that a static URL is a ws:/wss: URL. Returns the expected-text on failure. */
export function checkUrl(value: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    return 'an absolute ws:// or wss:// URL';
  }
  if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:')
    return 'a ws:// or wss:// URL (http(s) is not a WebSocket URL)';
  return undefined;
}

/**
 * Validates `createClient` options and merges them with {@link DEFAULTS}.
 *
 * @throws {InvalidOptionsError} naming every bad option, its value and what is allowed.
 */
export function resolveOptions(input: unknown, adapter: AdapterFacts): ResolvedOptions {
  const c = new Checker();
  if (typeof input !== 'object' || input === null) {
    throw new InvalidOptionsError([
      { option: 'options', value: input, expected: 'an object with at least `url`' },
    ]);
  }
  const o = input as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!KNOWN_TOP.has(key))
      c.add(key, o[key], `a known option (${[...KNOWN_TOP].join(', ')}); check the spelling`);
  }

  const url = o.url;
  if (typeof url === 'string' || isUrlLike(url)) {
    const text = typeof url === 'string' ? url : (url as URL).href;
    const bad = checkUrl(text);
    // The error keeps the value in `problems`: redact user info, query and fragment, or logging the
    // error object would print the secret.
    if (bad) c.add('url', /[@?#]/.test(text) ? redactUrl(text) : url, bad);
  } else if (typeof url !== 'function') {
    c.add(
      'url',
      url,
      'a ws:// or wss:// URL string, a URL, or a function returning one (called per attempt)',
    );
  }

  let protocols: string[] = [];
  const list = typeof o.protocols === 'string' ? [o.protocols] : o.protocols;
  if (
    Array.isArray(list) &&
    list.every((p) => typeof p === 'string' && SUBPROTOCOL.test(p)) &&
    new Set(list).size === list.length
  ) {
    protocols = list as string[];
  } else if (o.protocols !== undefined)
    c.add(
      'protocols',
      o.protocols,
      'a string or an array of non-empty strings (distinct tokens: no spaces, commas or separators)',
    );

  if (o.headers !== undefined) {
    const h = o.headers;
    const ok =
      typeof h === 'function' ||
      (typeof h === 'object' && h !== null && Object.values(h).every((v) => typeof v === 'string'));
    if (!ok) c.add('headers', h, 'an object of string values, or a function returning one');
    else if (!adapter.headers) {
      c.add(
        'headers',
        h,
        'nothing: this adapter cannot send upgrade headers (browsers); use a subprotocol or a ticket in the URL',
      );
    }
  }

  const maxPayloadBytes = c.int('maxPayloadBytes', o.maxPayloadBytes, DEFAULTS.maxPayloadBytes, 1);
  const openTimeoutMs = c.int('openTimeoutMs', o.openTimeoutMs, DEFAULTS.openTimeoutMs, 0, MAX_TIMER_MS);
  const closeTimeoutMs = c.int('closeTimeoutMs', o.closeTimeoutMs, DEFAULTS.closeTimeoutMs, 0, MAX_TIMER_MS);
  const stopTimeoutMs = c.int('stopTimeoutMs', o.stopTimeoutMs, DEFAULTS.stopTimeoutMs, 0, MAX_TIMER_MS);
  const concurrency = c.int('concurrency', o.concurrency, DEFAULTS.concurrency, 1, 10_000);

  const r = c.section('reconnect', o.reconnect, true);
  const rd = DEFAULTS.reconnect;
  const rs = r || {};
  c.known('reconnect', rs, RECONNECT_NAMES);
  const jitter = rs.jitter === undefined ? rd.jitter : rs.jitter;
  if (jitter !== 'full' && jitter !== 'none') c.add('reconnect.jitter', rs.jitter, "'full' or 'none'");
  const reconnect: ResolvedReconnect = {
    enabled: r !== false,
    baseDelayMs: c.int('reconnect.baseDelayMs', rs.baseDelayMs, rd.baseDelayMs, 0, MAX_TIMER_MS),
    factor: c.num('reconnect.factor', rs.factor, rd.factor, 1),
    maxDelayMs: c.int('reconnect.maxDelayMs', rs.maxDelayMs, rd.maxDelayMs, 0, MAX_TIMER_MS),
    jitter: jitter === 'none' ? 'none' : 'full',
    maxAttempts: c.int(
      'reconnect.maxAttempts',
      rs.maxAttempts,
      rd.maxAttempts,
      0,
      Number.MAX_SAFE_INTEGER,
      true,
    ),
    resetAfterMs: c.int('reconnect.resetAfterMs', rs.resetAfterMs, rd.resetAfterMs, 0, MAX_TIMER_MS),
    retryOnStart: c.bool('reconnect.retryOnStart', rs.retryOnStart, rd.retryOnStart),
    shouldReconnect: c.fn('reconnect.shouldReconnect', rs.shouldReconnect),
    random: c.fn('reconnect.random', rs.random) ?? Math.random,
    authCloseCodes: c.codes('reconnect.authCloseCodes', rs.authCloseCodes, rd.authCloseCodes),
    fatalCloseCodes: c.codes('reconnect.fatalCloseCodes', rs.fatalCloseCodes, rd.fatalCloseCodes),
  };
  if (reconnect.maxDelayMs < reconnect.baseDelayMs) {
    c.add(
      'reconnect.maxDelayMs',
      reconnect.maxDelayMs,
      `an integer >= reconnect.baseDelayMs (${reconnect.baseDelayMs})`,
    );
  }

  const sb = c.section('sendBuffer', o.sendBuffer, true);
  const sbs = sb || {};
  c.known('sendBuffer', sbs, ['maxMessages', 'maxBytes', 'maxAgeMs']);
  const sendBuffer: ResolvedSendBuffer = {
    enabled: sb !== false,
    maxMessages: c.int('sendBuffer.maxMessages', sbs.maxMessages, DEFAULTS.sendBuffer.maxMessages, 1),
    maxBytes: c.int('sendBuffer.maxBytes', sbs.maxBytes, DEFAULTS.sendBuffer.maxBytes, 1),
    maxAgeMs:
      sbs.maxAgeMs === undefined ? undefined : c.int('sendBuffer.maxAgeMs', sbs.maxAgeMs, 0, 0, MAX_TIMER_MS),
  };

  const rq = c.section('requests', o.requests, false) || {};
  c.known('requests', rq, ['timeoutMs', 'key', 'match', 'onDisconnect']);
  const onDisconnect = rq.onDisconnect ?? DEFAULTS.requests.onDisconnect;
  if (onDisconnect !== 'reject' && onDisconnect !== 'resend') {
    c.add('requests.onDisconnect', rq.onDisconnect, "'reject' or 'resend'");
  }
  let key: ResolvedRequests['key'];
  if (rq.key !== undefined) {
    const k = rq.key as Record<string, unknown> | null;
    if (
      typeof k !== 'object' ||
      k === null ||
      typeof k.request !== 'function' ||
      typeof k.response !== 'function'
    ) {
      c.add('requests.key', rq.key, 'an object with request(data, params) and response(message) functions');
    } else key = { request: k.request as Fn, response: k.response as Fn };
  }
  const requests: ResolvedRequests = {
    timeoutMs: c.int('requests.timeoutMs', rq.timeoutMs, DEFAULTS.requests.timeoutMs, 0, MAX_TIMER_MS),
    onDisconnect: onDisconnect === 'resend' ? 'resend' : 'reject',
    key,
    match: c.fn('requests.match', rq.match),
  };

  const hb = c.section('heartbeat', o.heartbeat, true);
  const hbs = hb || {};
  c.known('heartbeat', hbs, ['intervalMs', 'timeoutMs', 'maxMissed', 'message', 'isPong']);
  const hd = DEFAULTS.heartbeat;
  const hasMessage = hbs.message !== undefined;
  if (hasMessage) {
    const m = hbs.message;
    if (
      !(
        typeof m === 'string' ||
        typeof m === 'function' ||
        m instanceof Uint8Array ||
        m instanceof ArrayBuffer
      )
    ) {
      c.add('heartbeat.message', m, 'a string, Uint8Array, ArrayBuffer, or a function returning one');
    }
  }
  // Browsers cannot send protocol pings: an explicit heartbeat there needs an app message.
  if (hb && !hasMessage && !adapter.protocolPing) {
    c.add(
      'heartbeat',
      hb,
      'an object with `message` (and usually `isPong`): this adapter cannot send protocol pings, so the heartbeat needs an application-level ping',
    );
  }
  const heartbeat: ResolvedHeartbeat = {
    enabled: hb !== false && (hasMessage || adapter.protocolPing),
    intervalMs: c.int('heartbeat.intervalMs', hbs.intervalMs, hd.intervalMs, 1, MAX_TIMER_MS),
    timeoutMs: c.int('heartbeat.timeoutMs', hbs.timeoutMs, hd.timeoutMs, 1, MAX_TIMER_MS),
    maxMissed: c.int('heartbeat.maxMissed', hbs.maxMissed, hd.maxMissed, 1, 1000),
    message: hbs.message,
    isPong: c.fn('heartbeat.isPong', hbs.isPong),
  };

  const ib = c.section('inbound', o.inbound, false) || {};
  c.known('inbound', ib, [
    'highWaterMark',
    'highWaterBytes',
    'lowWaterMark',
    'maxQueued',
    'maxQueuedBytes',
    'iteratorBufferSize',
    'iteratorBufferBytes',
  ]);
  const id = DEFAULTS.inbound;
  const inbound: ResolvedInbound = {
    highWaterMark: c.int('inbound.highWaterMark', ib.highWaterMark, id.highWaterMark, 1),
    highWaterBytes: c.int('inbound.highWaterBytes', ib.highWaterBytes, id.highWaterBytes, 1),
    lowWaterMark: c.int('inbound.lowWaterMark', ib.lowWaterMark, id.lowWaterMark, 0),
    maxQueued: c.int('inbound.maxQueued', ib.maxQueued, id.maxQueued, 1),
    maxQueuedBytes: c.int('inbound.maxQueuedBytes', ib.maxQueuedBytes, id.maxQueuedBytes, 1),
    iteratorBufferSize: c.int('inbound.iteratorBufferSize', ib.iteratorBufferSize, id.iteratorBufferSize, 1),
    iteratorBufferBytes: c.int(
      'inbound.iteratorBufferBytes',
      ib.iteratorBufferBytes,
      id.iteratorBufferBytes,
      1,
    ),
  };
  if (inbound.lowWaterMark >= inbound.highWaterMark) {
    c.add(
      'inbound.lowWaterMark',
      inbound.lowWaterMark,
      `an integer below inbound.highWaterMark (${inbound.highWaterMark})`,
    );
  }
  if (inbound.maxQueuedBytes < inbound.highWaterBytes) {
    c.add(
      'inbound.maxQueuedBytes',
      inbound.maxQueuedBytes,
      `an integer >= inbound.highWaterBytes (${inbound.highWaterBytes})`,
    );
  }
  if (inbound.maxQueued < inbound.highWaterMark) {
    c.add(
      'inbound.maxQueued',
      inbound.maxQueued,
      `an integer >= inbound.highWaterMark (${inbound.highWaterMark})`,
    );
  }

  const hooksIn = c.section('hooks', o.hooks, false) || {};
  const hooks: Record<string, Fn | undefined> = {};
  for (const name of Object.keys(hooksIn)) {
    if (!HOOK_NAMES.includes(name))
      c.add(`hooks.${name}`, hooksIn[name], `a known hook (${HOOK_NAMES.join(', ')})`);
  }
  for (const name of HOOK_NAMES) hooks[name] = c.fn(`hooks.${name}`, hooksIn[name]);

  const prepare = c.fn('prepare', o.prepare);
  c.bool('unref', o.unref, false);
  if (
    o.environment !== undefined &&
    o.environment !== false &&
    (typeof o.environment !== 'object' || o.environment === null)
  ) {
    c.add('environment', o.environment, 'false or an object { online?, visibility?, window?, document? }');
  }
  c.fn('inspect', o.inspect);
  if (o.adapter !== undefined) {
    const a = o.adapter as Record<string, unknown> | null;
    if (
      typeof a !== 'object' ||
      a === null ||
      typeof a.connect !== 'function' ||
      typeof a.capabilities !== 'object'
    ) {
      c.add('adapter', o.adapter, 'a SocketAdapter (an object with connect() and capabilities)');
    }
  }
  if (o.clock !== undefined) {
    const k = o.clock as Record<string, unknown> | null;
    if (
      typeof k !== 'object' ||
      k === null ||
      typeof k.now !== 'function' ||
      typeof k.setTimeout !== 'function' ||
      typeof k.clearTimeout !== 'function'
    ) {
      c.add('clock', o.clock, 'an object with now(), setTimeout(fn, ms) and clearTimeout(id)');
    }
  }

  if (c.problems.length > 0) throw new InvalidOptionsError(c.problems);
  return {
    url,
    protocols,
    headers: o.headers,
    maxPayloadBytes,
    openTimeoutMs,
    closeTimeoutMs,
    stopTimeoutMs,
    concurrency,
    reconnect,
    sendBuffer,
    requests,
    heartbeat,
    inbound,
    prepare,
    hooks,
  };
}
