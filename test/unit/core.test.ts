/**
 * Unit tests of the pure core: backoff policy, close codes, Retry-After, errors, URL redaction and
 * option resolution. No I/O, no timers.
 */
import { describe, expect, it } from 'vitest';
import { type BackoffPolicy, backoffDelay } from '../../src/core/backoff.js';
import {
  CloseCodes,
  MAX_CLOSE_REASON_BYTES,
  assertValidClose,
  classifyClose,
  isSendableCloseCode,
} from '../../src/core/close-codes.js';
import {
  ClientStoppedError,
  ConnectError,
  ConnectionClosedError,
  DuplicateKeyError,
  ErrorCodes,
  HandshakeError,
  HeartbeatTimeoutError,
  HookError,
  InvalidCloseError,
  InvalidOptionsError,
  InvalidStateError,
  MessageTooBigError,
  NotOpenError,
  OpenTimeoutError,
  ProtocolError,
  QueueOverflowError,
  RequestAbortedError,
  RequestTimeoutError,
  SendBufferFullError,
  SessionEndedError,
  StartError,
  TlsError,
  UndeliveredError,
  WsmError,
  describeValue,
  isErrorCode,
  isWsmError,
} from '../../src/core/errors.js';
import { type AdapterFacts, DEFAULTS, resolveOptions } from '../../src/core/options.js';
import { parseRetryAfter } from '../../src/core/retry-after.js';
import { redactUrl } from '../../src/redact.js';

// ------------------------------------------------------------------------------------------------
describe('backoffDelay', () => {
  const policy = (p: Partial<BackoffPolicy> = {}): BackoffPolicy => ({
    baseDelayMs: 1_000,
    factor: 2,
    maxDelayMs: 30_000,
    jitter: 'none',
    ...p,
  });
  const noRandom = () => {
    throw new Error('random must not be drawn');
  };

  it("jitter 'none': baseDelayMs * factor^(attempt-1), capped at maxDelayMs", () => {
    const delays = [1, 2, 3, 4, 5, 6, 7, 8].map((a) => backoffDelay(policy(), a, noRandom));
    expect(delays).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]);
  });

  it('attempt 0 (or below) is treated as the first reconnect', () => {
    expect(backoffDelay(policy(), 0, noRandom)).toBe(1_000);
    expect(backoffDelay(policy(), -3, noRandom)).toBe(1_000);
  });

  it('a non-integer factor works and the result is whole milliseconds', () => {
    const p = policy({ baseDelayMs: 100, factor: 1.5 });
    expect([1, 2, 3, 4].map((a) => backoffDelay(p, a, noRandom))).toEqual([100, 150, 225, 338]);
  });

  it('a huge attempt number stays at the cap (no Infinity, no NaN)', () => {
    expect(backoffDelay(policy(), 5_000, noRandom)).toBe(30_000);
    expect(backoffDelay(policy({ jitter: 'full' }), 5_000, () => 0.5)).toBe(15_000);
  });

  it("jitter 'full': uniform in [0, cap] from the injected random source", () => {
    const p = policy({ jitter: 'full' });
    expect(backoffDelay(p, 1, () => 0)).toBe(0);
    expect(backoffDelay(p, 1, () => 0.25)).toBe(250);
    expect(backoffDelay(p, 3, () => 0.5)).toBe(2_000);
    expect(backoffDelay(p, 10, () => 0.1)).toBe(3_000);
    // A random source misbehaving (1, >1, negative, NaN) still yields a delay within [0, cap].
    expect(backoffDelay(p, 1, () => 1)).toBe(1_000);
    expect(backoffDelay(p, 1, () => 7)).toBe(1_000);
    expect(backoffDelay(p, 1, () => -1)).toBe(0);
    expect(backoffDelay(p, 1, () => Number.NaN)).toBe(0);
  });

  it('full jitter spreads a crowd: 200 draws are not all in one 100 ms window', () => {
    let seed = 42;
    const lcg = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const p = policy({ jitter: 'full', baseDelayMs: 5_000 });
    const delays = Array.from({ length: 200 }, () => backoffDelay(p, 1, lcg));
    const inFirstWindow = delays.filter((d) => d < 100).length;
    expect(inFirstWindow).toBeLessThan(20);
    expect(Math.max(...delays)).toBeLessThanOrEqual(5_000);
  });

  it('a floor (Retry-After) is a lower bound; full jitter is added on top, none adds nothing', () => {
    expect(backoffDelay(policy(), 1, noRandom, 3_000)).toBe(3_000);
    // The floor may exceed maxDelayMs: the server asked for it.
    expect(backoffDelay(policy({ maxDelayMs: 2_000 }), 1, noRandom, 3_000)).toBe(3_000);
    const p = policy({ jitter: 'full' });
    expect(backoffDelay(p, 1, () => 0, 3_000)).toBe(3_000);
    // spread = random * min(cap, floor / 2 + 1) = 0.5 * min(1000, 1501)
    expect(backoffDelay(p, 1, () => 0.5, 3_000)).toBe(3_500);
    expect(backoffDelay(p, 5, () => 0.5, 3_000)).toBe(3_751);
  });
});

// ------------------------------------------------------------------------------------------------
describe('close codes', () => {
  it('isSendableCloseCode: 1000-1003, 1007-1014 and 3000-4999 only', () => {
    const sendable = [
      1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999,
    ];
    const notSendable = [
      0,
      999,
      1004,
      1005,
      1006,
      1015,
      1016,
      2000,
      2999,
      5000,
      65535,
      -1000,
      1000.5,
      Number.NaN,
    ];
    for (const code of sendable) expect(isSendableCloseCode(code), String(code)).toBe(true);
    for (const code of notSendable) expect(isSendableCloseCode(code), String(code)).toBe(false);
  });

  it('CloseCodes names the RFC codes', () => {
    expect(CloseCodes.NORMAL).toBe(1000);
    expect(CloseCodes.GOING_AWAY).toBe(1001);
    expect(CloseCodes.ABNORMAL).toBe(1006);
    expect(CloseCodes.TRY_AGAIN_LATER).toBe(1013);
    expect(CloseCodes.TLS_HANDSHAKE).toBe(1015);
  });

  it.each([1005, 1006, 1015, 999, 5000, 1004, 2500])('assertValidClose rejects code %i', (code) => {
    let error: unknown;
    try {
      assertValidClose(code, undefined);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidCloseError);
    expect(isErrorCode(error, 'WSM_ERR_INVALID_CLOSE')).toBe(true);
    // The message says what to do instead.
    expect((error as Error).message).toContain(String(code));
    expect((error as Error).message).toContain('3000-4999');
  });

  it('assertValidClose accepts a missing code/reason and every sendable code', () => {
    expect(() => assertValidClose(undefined, undefined)).not.toThrow();
    expect(() => assertValidClose(1000, '')).not.toThrow();
    expect(() => assertValidClose(4999, 'bye')).not.toThrow();
    expect(() => assertValidClose(undefined, 'reason without a code')).not.toThrow();
  });

  it('the reason limit is 123 UTF-8 bytes, counted in bytes, not characters', () => {
    expect(MAX_CLOSE_REASON_BYTES).toBe(123);
    const cases: Array<[string, boolean]> = [
      ['a'.repeat(123), true],
      ['a'.repeat(124), false],
      // 2-byte characters: 61 x 2 + 1 = 123 bytes in 62 characters
      [`${'é'.repeat(61)}a`, true],
      ['é'.repeat(62), false], // 124 bytes, only 62 characters
      // 3-byte characters
      ['€'.repeat(41), true], // 123 bytes
      [`${'€'.repeat(41)}a`, false],
      // 4-byte characters (surrogate pairs: 2 UTF-16 units each)
      [`${'😀'.repeat(30)}abc`, true], // 123 bytes, 63 UTF-16 units
      [`${'😀'.repeat(30)}abcd`, false],
      [`${'😀'.repeat(31)}`, false], // 124 bytes but only 62 UTF-16 units
    ];
    for (const [reason, ok] of cases) {
      const run = () => assertValidClose(1000, reason);
      if (ok) expect(run, `${new TextEncoder().encode(reason).length} bytes`).not.toThrow();
      else expect(run, `${new TextEncoder().encode(reason).length} bytes`).toThrow(InvalidCloseError);
    }
    expect(() => assertValidClose(1000, 'é'.repeat(62))).toThrow(/124/);
  });

  it('a non-string reason is rejected', () => {
    expect(() => assertValidClose(1000, 42 as unknown as string)).toThrow(InvalidCloseError);
  });

  describe('classifyClose', () => {
    it.each([
      // [input, class]
      [{ code: 1000 }, 'transient'],
      [{ code: 1001 }, 'transient'],
      [{ code: 1006 }, 'transient'],
      [{ code: 1011 }, 'transient'],
      [{ code: 1012 }, 'transient'],
      [{ code: 1013 }, 'transient'],
      [{ code: 1014 }, 'transient'],
      [{ code: 4000 }, 'transient'],
      [{ code: 1002 }, 'fatal'],
      [{ code: 1003 }, 'fatal'],
      [{ code: 1007 }, 'fatal'],
      [{ code: 1008 }, 'fatal'],
      [{ code: 1009 }, 'fatal'],
      [{ code: 1010 }, 'fatal'],
      [{ code: 1006, status: 401 }, 'auth'],
      [{ code: 1006, status: 403 }, 'auth'],
      [{ code: 1006, status: 400 }, 'fatal'],
      [{ code: 1006, status: 404 }, 'fatal'],
      [{ code: 1006, status: 405 }, 'fatal'],
      [{ code: 1006, status: 410 }, 'fatal'],
      [{ code: 1006, status: 426 }, 'fatal'],
      [{ code: 1006, status: 408 }, 'transient'],
      [{ code: 1006, status: 429 }, 'transient'],
      [{ code: 1006, status: 500 }, 'transient'],
      [{ code: 1006, status: 502 }, 'transient'],
      [{ code: 1006, status: 503 }, 'transient'],
      [{ code: 1006, tls: true }, 'fatal'],
      [{ code: 1015, tls: true }, 'fatal'],
      [{ code: 4401, authCodes: [4401, 4403] }, 'auth'],
      [{ code: 4403, authCodes: [4401, 4403] }, 'auth'],
      [{ code: 4401 }, 'transient'],
      [{ code: 4500, fatalCodes: [4500] }, 'fatal'],
      // What we asked for is normal, whatever the code says.
      [{ code: 1002, requested: true }, 'normal'],
      [{ code: 1006, status: 401, requested: true }, 'normal'],
      [{ code: 1000, requested: true }, 'normal'],
      // Precedence: TLS over status over app codes.
      [{ code: 4401, status: 503, authCodes: [4401] }, 'transient'],
      [{ code: 1006, status: 401, tls: true }, 'fatal'],
    ] as const)('%o -> %s', (input, expected) => {
      expect(classifyClose(input)).toBe(expected);
    });
  });
});

// ------------------------------------------------------------------------------------------------
describe('parseRetryAfter', () => {
  const now = Date.UTC(2025, 0, 1, 0, 0, 0);

  it('reads delta-seconds', () => {
    expect(parseRetryAfter('2', now)).toBe(2_000);
    expect(parseRetryAfter('0', now)).toBe(0);
    expect(parseRetryAfter(' 120 ', now)).toBe(120_000);
  });

  it('reads an HTTP date relative to now, never negative', () => {
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:10 GMT', now)).toBe(10_000);
    expect(parseRetryAfter(new Date(now + 90_000).toUTCString(), now)).toBe(90_000);
    expect(parseRetryAfter('Tue, 31 Dec 2024 23:59:00 GMT', now)).toBe(0);
  });

  it('returns undefined when absent or unparseable', () => {
    for (const value of [
      undefined,
      '',
      '   ',
      'soon',
      'abc123',
      '12abc',
      '2 seconds',
      '1e3',
      '-1',
      '1.5',
      '+5',
    ]) {
      expect(parseRetryAfter(value, now), JSON.stringify(value)).toBeUndefined();
    }
  });
});

// ------------------------------------------------------------------------------------------------
describe('errors', () => {
  it('codes are stable WSM_ERR_* strings, unique, and include every code API.md fixes', () => {
    const codes = Object.values(ErrorCodes);
    expect(new Set(codes).size).toBe(codes.length);
    for (const code of codes) expect(code).toMatch(/^WSM_ERR_[A-Z_]+$/);
    const documented = [
      'WSM_ERR_INVALID_OPTIONS',
      'WSM_ERR_INVALID_STATE',
      'WSM_ERR_START',
      'WSM_ERR_OPEN_TIMEOUT',
      'WSM_ERR_CONNECT',
      'WSM_ERR_HANDSHAKE',
      'WSM_ERR_TLS',
      'WSM_ERR_NOT_OPEN',
      'WSM_ERR_SEND_BUFFER_FULL',
      'WSM_ERR_UNDELIVERED',
      'WSM_ERR_REQUEST_TIMEOUT',
      'WSM_ERR_REQUEST_ABORTED',
      'WSM_ERR_DUPLICATE_KEY',
      'WSM_ERR_CONNECTION_CLOSED',
      'WSM_ERR_CLIENT_STOPPED',
      'WSM_ERR_SESSION_ENDED',
      'WSM_ERR_HEARTBEAT_TIMEOUT',
      'WSM_ERR_MESSAGE_TOO_BIG',
      'WSM_ERR_INVALID_CLOSE',
      'WSM_ERR_HOOK',
      'WSM_ERR_QUEUE_OVERFLOW',
    ];
    for (const code of documented) expect(codes).toContain(code);
  });

  const cause = new Error('root cause');
  const instances: Array<[WsmError, string, string]> = [
    [
      new InvalidOptionsError([{ option: 'x', value: 1, expected: 'y' }]),
      'WSM_ERR_INVALID_OPTIONS',
      'InvalidOptionsError',
    ],
    [new InvalidStateError('m', 'open'), 'WSM_ERR_INVALID_STATE', 'InvalidStateError'],
    [new StartError(cause), 'WSM_ERR_START', 'StartError'],
    [new OpenTimeoutError(10, 'connecting'), 'WSM_ERR_OPEN_TIMEOUT', 'OpenTimeoutError'],
    [new ConnectError('m', cause), 'WSM_ERR_CONNECT', 'ConnectError'],
    [new HandshakeError(503, 2_000), 'WSM_ERR_HANDSHAKE', 'HandshakeError'],
    [new TlsError('m', cause), 'WSM_ERR_TLS', 'TlsError'],
    [new NotOpenError('idle'), 'WSM_ERR_NOT_OPEN', 'NotOpenError'],
    [new SendBufferFullError(1, 2, 1, 2), 'WSM_ERR_SEND_BUFFER_FULL', 'SendBufferFullError'],
    [new UndeliveredError('m', cause), 'WSM_ERR_UNDELIVERED', 'UndeliveredError'],
    [new RequestTimeoutError(5), 'WSM_ERR_REQUEST_TIMEOUT', 'RequestTimeoutError'],
    [new RequestAbortedError('why'), 'WSM_ERR_REQUEST_ABORTED', 'RequestAbortedError'],
    [new DuplicateKeyError(7), 'WSM_ERR_DUPLICATE_KEY', 'DuplicateKeyError'],
    [new ConnectionClosedError(), 'WSM_ERR_CONNECTION_CLOSED', 'ConnectionClosedError'],
    [new ClientStoppedError(), 'WSM_ERR_CLIENT_STOPPED', 'ClientStoppedError'],
    [new SessionEndedError(3), 'WSM_ERR_SESSION_ENDED', 'SessionEndedError'],
    [new HeartbeatTimeoutError(2), 'WSM_ERR_HEARTBEAT_TIMEOUT', 'HeartbeatTimeoutError'],
    [new MessageTooBigError(10, 11), 'WSM_ERR_MESSAGE_TOO_BIG', 'MessageTooBigError'],
    [new InvalidCloseError('m'), 'WSM_ERR_INVALID_CLOSE', 'InvalidCloseError'],
    [new HookError('onMessage', cause, 4), 'WSM_ERR_HOOK', 'HookError'],
    [new QueueOverflowError('m'), 'WSM_ERR_QUEUE_OVERFLOW', 'QueueOverflowError'],
    [new ProtocolError('m', 1002), 'WSM_ERR_PROTOCOL', 'ProtocolError'],
  ];

  it.each(instances)('%s has its code, name and the brand', (error, code, name) => {
    expect(error).toBeInstanceOf(Error);
    expect(error).toBeInstanceOf(WsmError);
    expect(error.code).toBe(code);
    expect(error.name).toBe(name);
    expect(isWsmError(error)).toBe(true);
    expect(isErrorCode(error, code as never)).toBe(true);
    expect(isErrorCode(error, code === 'WSM_ERR_HOOK' ? 'WSM_ERR_START' : 'WSM_ERR_HOOK')).toBe(false);
    expect(String(error)).toContain(name);
  });

  it('carries cause, closeCode and the extra facts', () => {
    const start = new StartError(cause);
    expect(start.cause).toBe(cause);
    expect(start.message).toContain('root cause');
    expect(new ConnectError('m', cause).cause).toBe(cause);
    expect(new ConnectError('m').closeCode).toBe(1006);
    expect(new TlsError('m').closeCode).toBe(1015);
    expect(new HeartbeatTimeoutError(1).closeCode).toBe(1006);
    expect(new MessageTooBigError(10).closeCode).toBe(1009);
    expect(new ProtocolError('m', 1007, cause)).toMatchObject({ closeCode: 1007, cause });
    expect(new ConnectionClosedError('m', 1001).closeCode).toBe(1001);
    expect(new ConnectionClosedError().closeCode).toBeUndefined();
    const hs = new HandshakeError(429, 2_000, 'Too Many Requests');
    expect(hs).toMatchObject({ status: 429, retryAfterMs: 2_000, closeCode: 1006 });
    expect(hs.message).toContain('429 Too Many Requests');
    expect(hs.message).toContain('2000');
    const hook = new HookError('onClose', cause, 9);
    expect(hook).toMatchObject({ hook: 'onClose', sessionId: 9, cause });
    expect(hook.message).toContain('onClose');
    expect(new RequestAbortedError('user').cause).toBe('user');
    expect(new RequestTimeoutError(250).timeoutMs).toBe(250);
    expect(new OpenTimeoutError(3_000, 'opening').message).toMatch(/3000 ms.*opening/);
    // No cause given: no `cause` property at all (not `cause: undefined`).
    expect('cause' in new ClientStoppedError()).toBe(false);
  });

  it('isWsmError works across copies of the package (the Symbol.for brand), not by instanceof', () => {
    // What another copy of wsmachine in the same bundle would create: a different class, same brand.
    class OtherCopyError extends Error {
      readonly code = 'WSM_ERR_START';
      constructor() {
        super('from the other copy');
        Object.defineProperty(this, Symbol.for('wsmachine.error'), { value: true });
      }
    }
    const other = new OtherCopyError();
    expect(other).not.toBeInstanceOf(WsmError);
    expect(isWsmError(other)).toBe(true);
    expect(isErrorCode(other, 'WSM_ERR_START')).toBe(true);
    expect(isErrorCode(other, 'WSM_ERR_CONNECT')).toBe(false);
    // A plain object with the brand (e.g. structured data from another realm) counts too.
    const branded = { code: 'WSM_ERR_HOOK', [Symbol.for('wsmachine.error')]: true };
    expect(isWsmError(branded)).toBe(true);
  });

  it('isWsmError rejects look-alikes without the brand', () => {
    expect(isWsmError(new Error('x'))).toBe(false);
    expect(isWsmError({ code: 'WSM_ERR_START', message: 'x' })).toBe(false);
    expect(isWsmError({ [Symbol.for('wsmachine.error')]: 'yes' })).toBe(false);
    expect(isWsmError({ [Symbol('wsmachine.error')]: true })).toBe(false);
    for (const v of [null, undefined, 0, 'WSM_ERR_START', true]) expect(isWsmError(v)).toBe(false);
  });

  it('InvalidOptionsError names each option, the value and what is allowed', () => {
    const e = new InvalidOptionsError([
      { option: 'openTimeoutMs', value: -1, expected: 'an integer from 0 to 2147483647' },
      { option: 'url', value: 'http://x', expected: 'a ws:// or wss:// URL' },
    ]);
    expect(e.problems).toHaveLength(2);
    expect(e.message).toContain('openTimeoutMs: got -1, expected an integer from 0 to 2147483647');
    expect(e.message).toContain('url: got "http://x/", expected a ws:// or wss:// URL');
  });

  it('InvalidOptionsError never prints credentials or query values of a URL', () => {
    const e = new InvalidOptionsError([
      {
        option: 'url',
        value: 'https://user:pw@host.test/feed?token=SECRET123',
        expected: 'a ws:// or wss:// URL',
      },
      { option: 'url', value: new URL('http://host.test/?key=SECRET456'), expected: 'a ws:// or wss:// URL' },
    ]);
    expect(e.message).not.toMatch(/SECRET|user:pw/);
    expect(e.message).toContain('"https://***@host.test/feed?token=***"');
  });

  it('describeValue is short and never prints whole objects', () => {
    expect(describeValue('x'.repeat(100))).toBe(JSON.stringify(`${'x'.repeat(57)}...`));
    expect(describeValue({ secret: 'token' })).toBe('an object');
    expect(describeValue([1, 2, 3])).toBe('an array of 3');
    expect(describeValue(() => 1)).toBe('a function');
    expect(describeValue(Number.NaN)).toBe('NaN');
    expect(describeValue(null)).toBe('null');
  });
});

// ------------------------------------------------------------------------------------------------
describe('redactUrl', () => {
  it('replaces user info and query values, keeps the rest', () => {
    expect(redactUrl('wss://user:pw@host/feed?token=abc')).toBe('wss://***@host/feed?token=***');
    expect(redactUrl('ws://user@host:8080/a/b?x=1&y=2&x=3')).toBe('ws://***@host:8080/a/b?x=***&y=***&x=***');
    expect(redactUrl('ws://:pw@host/')).toBe('ws://***@host/');
  });

  it('leaves URLs without secrets as they are', () => {
    expect(redactUrl('ws://127.0.0.1:8080/path')).toBe('ws://127.0.0.1:8080/path');
    expect(redactUrl('wss://example.test')).toBe('wss://example.test/');
  });

  it('never leaks a secret from user info, query or fragment', () => {
    const secret = 's3cr3t-TOKEN';
    for (const url of [
      `wss://${secret}@host/`,
      `wss://u:${secret}@host/`,
      `wss://host/?token=${secret}`,
      `wss://host/?a=1&token=${secret}&b`,
      `wss://host/#access_token=${secret}`,
      `wss://host/?${secret}`,
      `wss://host/?a=1&${secret}`,
      `wss://host/?${secret}&a=1`,
    ]) {
      expect(redactUrl(url)).not.toContain(secret);
    }
  });

  it('encodes odd query keys and survives invalid input', () => {
    expect(redactUrl('ws://h/?a b=1')).toBe('ws://h/?a%20b=***');
    expect(redactUrl('not a url')).toBe('<invalid url>');
    expect(redactUrl('')).toBe('<invalid url>');
  });
});

// ------------------------------------------------------------------------------------------------
describe('resolveOptions', () => {
  const node: AdapterFacts = { protocolPing: true, headers: true };
  const browser: AdapterFacts = { protocolPing: false, headers: false };
  const url = 'ws://127.0.0.1:1/';

  /** Resolves and returns the InvalidOptionsError it must throw. */
  function problemsOf(options: unknown, facts: AdapterFacts = node): InvalidOptionsError {
    try {
      resolveOptions(options, facts);
    } catch (e) {
      expect(e).toBeInstanceOf(InvalidOptionsError);
      expect(isErrorCode(e, 'WSM_ERR_INVALID_OPTIONS')).toBe(true);
      return e as InvalidOptionsError;
    }
    throw new Error(`resolveOptions accepted ${JSON.stringify(options)}`);
  }

  it('a minimal object gets every documented default', () => {
    const r = resolveOptions({ url }, node);
    expect(r).toMatchObject({
      url,
      protocols: [],
      maxPayloadBytes: 64 * 1024 * 1024,
      openTimeoutMs: 10_000,
      closeTimeoutMs: 1_000,
      stopTimeoutMs: 5_000,
      concurrency: 1,
      reconnect: {
        enabled: true,
        baseDelayMs: 1_000,
        factor: 2,
        maxDelayMs: 30_000,
        jitter: 'full',
        maxAttempts: Number.POSITIVE_INFINITY,
        resetAfterMs: 5_000,
        retryOnStart: false,
        shouldReconnect: undefined,
        authCloseCodes: [4401, 4403],
        fatalCloseCodes: [],
      },
      sendBuffer: { enabled: true, maxMessages: 1_000, maxBytes: 1024 * 1024, maxAgeMs: undefined },
      requests: { timeoutMs: 30_000, onDisconnect: 'reject', key: undefined, match: undefined },
      heartbeat: { enabled: true, intervalMs: 30_000, timeoutMs: 10_000, maxMissed: 1 },
    });
    expect(r.reconnect.random).toBe(Math.random);
    expect(DEFAULTS.reconnect.baseDelayMs).toBe(1_000);
  });

  it('partial objects merge with the defaults', () => {
    const r = resolveOptions(
      {
        url,
        reconnect: { baseDelayMs: 10 },
        heartbeat: { intervalMs: 5_000 },
        sendBuffer: { maxMessages: 5 },
        requests: { timeoutMs: 50 },
      },
      node,
    );
    expect(r.reconnect).toMatchObject({ baseDelayMs: 10, factor: 2, maxDelayMs: 30_000, jitter: 'full' });
    expect(r.heartbeat).toMatchObject({ enabled: true, intervalMs: 5_000, timeoutMs: 10_000, maxMissed: 1 });
    expect(r.sendBuffer).toMatchObject({ enabled: true, maxMessages: 5, maxBytes: 1024 * 1024 });
    expect(r.requests).toMatchObject({ timeoutMs: 50, onDisconnect: 'reject' });
  });

  it('false turns reconnect, heartbeat and the send buffer off', () => {
    const r = resolveOptions({ url, reconnect: false, heartbeat: false, sendBuffer: false }, node);
    expect(r.reconnect.enabled).toBe(false);
    expect(r.heartbeat.enabled).toBe(false);
    expect(r.sendBuffer.enabled).toBe(false);
  });

  it('accepts a URL object, a url function, Infinity maxAttempts and a protocol string', () => {
    expect(resolveOptions({ url: new URL(url) }, node).url).toBeInstanceOf(URL);
    expect(typeof resolveOptions({ url: () => url }, node).url).toBe('function');
    expect(
      resolveOptions({ url, reconnect: { maxAttempts: Number.POSITIVE_INFINITY } }, node).reconnect
        .maxAttempts,
    ).toBe(Number.POSITIVE_INFINITY);
    expect(resolveOptions({ url, protocols: 'chat.v1' }, node).protocols).toEqual(['chat.v1']);
    expect(resolveOptions({ url, protocols: ['a', 'b'] }, node).protocols).toEqual(['a', 'b']);
  });

  it.each([
    // [options, option name, expected text fragment]
    [{}, 'url', 'ws:// or wss://'],
    [{ url: 42 }, 'url', 'ws:// or wss://'],
    [{ url: 'http://example.test' }, 'url', 'http(s) is not a WebSocket URL'],
    [{ url: '/relative' }, 'url', 'absolute'],
    [{ url, protocols: 5 }, 'protocols', 'a string or an array of non-empty strings'],
    [{ url, protocols: [''] }, 'protocols', 'non-empty strings'],
    [{ url, protocols: '' }, 'protocols', 'non-empty'],
    [{ url, protocols: ['a b'] }, 'protocols', ''],
    [{ url, protocols: ['chat', 'chat'] }, 'protocols', ''],
    [{ url, headers: { a: 1 } }, 'headers', 'string values'],
    [{ url, maxPayloadBytes: 0 }, 'maxPayloadBytes', 'an integer >= 1'],
    [{ url, openTimeoutMs: -1 }, 'openTimeoutMs', 'an integer from 0 to 2147483647'],
    [{ url, openTimeoutMs: 1.5 }, 'openTimeoutMs', 'an integer from 0 to 2147483647'],
    [{ url, openTimeoutMs: Number.NaN }, 'openTimeoutMs', 'an integer from 0 to 2147483647'],
    [{ url, openTimeoutMs: Number.POSITIVE_INFINITY }, 'openTimeoutMs', 'an integer from 0 to 2147483647'],
    [{ url, openTimeoutMs: '100' }, 'openTimeoutMs', 'an integer from 0 to 2147483647'],
    // Node and browsers fire a setTimeout longer than 2^31-1 ms after 1 ms: such values are refused.
    [{ url, openTimeoutMs: 2 ** 31 }, 'openTimeoutMs', 'an integer from 0 to 2147483647'],
    [{ url, closeTimeoutMs: -5 }, 'closeTimeoutMs', 'an integer from 0 to 2147483647'],
    [{ url, stopTimeoutMs: -5 }, 'stopTimeoutMs', 'an integer from 0 to 2147483647'],
    [{ url, concurrency: 0 }, 'concurrency', 'an integer from 1 to 10000'],
    [{ url, concurrency: 10_001 }, 'concurrency', 'an integer from 1 to 10000'],
    [{ url, reconnect: true }, 'reconnect', 'false or an object'],
    [{ url, reconnect: null }, 'reconnect', 'false or an object'],
    [{ url, reconnect: { baseDelayMs: -1 } }, 'reconnect.baseDelayMs', 'an integer from 0 to 2147483647'],
    [{ url, reconnect: { factor: 0.5 } }, 'reconnect.factor', 'a finite number >= 1'],
    [{ url, reconnect: { factor: Number.POSITIVE_INFINITY } }, 'reconnect.factor', 'a finite number >= 1'],
    [{ url, reconnect: { maxDelayMs: -1 } }, 'reconnect.maxDelayMs', 'an integer from 0 to 2147483647'],
    [
      { url, reconnect: { baseDelayMs: 5_000, maxDelayMs: 1_000 } },
      'reconnect.maxDelayMs',
      'reconnect.baseDelayMs (5000)',
    ],
    [{ url, reconnect: { jitter: 'FULL' } }, 'reconnect.jitter', "'full' or 'none'"],
    [{ url, reconnect: { maxAttempts: -1 } }, 'reconnect.maxAttempts', '(or Infinity)'],
    [{ url, reconnect: { resetAfterMs: 0.5 } }, 'reconnect.resetAfterMs', 'an integer from 0 to 2147483647'],
    [{ url, reconnect: { retryOnStart: 'yes' } }, 'reconnect.retryOnStart', 'true or false'],
    [{ url, reconnect: { shouldReconnect: true } }, 'reconnect.shouldReconnect', 'a function'],
    [{ url, reconnect: { random: 0.5 } }, 'reconnect.random', 'a function'],
    [{ url, reconnect: { authCloseCodes: [1000] } }, 'reconnect.authCloseCodes', 'from 3000 to 4999'],
    [{ url, reconnect: { fatalCloseCodes: 4000 } }, 'reconnect.fatalCloseCodes', 'from 3000 to 4999'],
    [{ url, sendBuffer: true }, 'sendBuffer', 'false or an object'],
    [{ url, sendBuffer: { maxMessages: 0 } }, 'sendBuffer.maxMessages', 'an integer >= 1'],
    [{ url, sendBuffer: { maxBytes: -1 } }, 'sendBuffer.maxBytes', 'an integer >= 1'],
    [{ url, sendBuffer: { maxAgeMs: -1 } }, 'sendBuffer.maxAgeMs', 'an integer from 0 to 2147483647'],
    [{ url, requests: false }, 'requests', 'an object'],
    [{ url, requests: { timeoutMs: -1 } }, 'requests.timeoutMs', 'an integer from 0 to 2147483647'],
    [{ url, requests: { onDisconnect: 'retry' } }, 'requests.onDisconnect', "'reject' or 'resend'"],
    [
      { url, requests: { key: { request: () => 1 } } },
      'requests.key',
      'request(data, params) and response(message)',
    ],
    [{ url, requests: { match: 'id' } }, 'requests.match', 'a function'],
    [{ url, heartbeat: true }, 'heartbeat', 'false or an object'],
    [{ url, heartbeat: { intervalMs: 0 } }, 'heartbeat.intervalMs', 'an integer from 1 to 2147483647'],
    [{ url, heartbeat: { timeoutMs: 0 } }, 'heartbeat.timeoutMs', 'an integer from 1 to 2147483647'],
    [{ url, heartbeat: { maxMissed: 0 } }, 'heartbeat.maxMissed', 'an integer from 1 to 1000'],
    [{ url, heartbeat: { message: 42 } }, 'heartbeat.message', 'a string, Uint8Array, ArrayBuffer'],
    [{ url, heartbeat: { isPong: 'pong' } }, 'heartbeat.isPong', 'a function'],
    [{ url, hooks: 5 }, 'hooks', 'an object'],
    [{ url, hooks: { onOpen: 'x' } }, 'hooks.onOpen', 'a function'],
    [{ url, hooks: { onMesage: () => {} } }, 'hooks.onMesage', 'a known hook'],
    [{ url, prepare: {} }, 'prepare', 'a function'],
    [{ url, inspect: 1 }, 'inspect', 'a function'],
    [{ url, adapter: {} }, 'adapter', 'a SocketAdapter'],
    [{ url, clock: { now: () => 0 } }, 'clock', 'now(), setTimeout(fn, ms) and clearTimeout(id)'],
    [{ url, reconect: { baseDelayMs: 1 } }, 'reconect', 'check the spelling'],
    [{ url, openTimeout: 1 }, 'openTimeout', 'check the spelling'],
  ] as Array<[Record<string, unknown>, string, string]>)(
    '%o is rejected naming %s',
    (options, option, expected) => {
      const error = problemsOf(options);
      const problem = error.problems.find((p) => p.option === option);
      expect(problem, `problems: ${JSON.stringify(error.problems.map((p) => p.option))}`).toBeDefined();
      expect(problem!.expected).toContain(expected);
      expect(
        Object.is(
          problem!.value,
          option.split('.').reduce<any>((o, k) => o?.[k], options),
        ),
      ).toBe(true);
      // The message names the option, the value and the allowed range.
      expect(error.message).toContain(
        `${option}: got ${describeValue(problem!.value)}, expected ${problem!.expected}`,
      );
    },
  );

  it.each([
    ['reconnect', { baseDelay: 10 }],
    ['heartbeat', { interval: 10 }],
    ['sendBuffer', { maxMessage: 10 }],
    ['requests', { timeout: 10 }],
  ])('an unknown name inside %s is rejected (a typo must not be ignored silently)', (section, value) => {
    const error = problemsOf({ url, [section]: value });
    const name = `${section}.${Object.keys(value)[0]}`;
    expect(error.problems.map((p) => p.option)).toContain(name);
    expect(error.message).toContain(name);
  });

  it('reports every problem at once', () => {
    const error = problemsOf({ url: 'http://x', openTimeoutMs: -1, reconnect: { factor: 0 } });
    expect(error.problems.map((p) => p.option)).toEqual(['url', 'openTimeoutMs', 'reconnect.factor']);
  });

  it('rejects a non-object', () => {
    for (const input of [undefined, null, 'ws://x', 42]) {
      expect(problemsOf(input).problems[0]!.option).toBe('options');
    }
  });

  it('a heartbeat without `message` is rejected on an adapter that cannot send protocol pings', () => {
    const error = problemsOf({ url, heartbeat: { intervalMs: 1_000 } }, browser);
    expect(error.problems[0]!.option).toBe('heartbeat');
    expect(error.problems[0]!.expected).toContain('`message`');
    // With an application ping it is fine, and on.
    const r = resolveOptions({ url, heartbeat: { message: 'ping', isPong: () => true } }, browser);
    expect(r.heartbeat).toMatchObject({ enabled: true, message: 'ping' });
    // Unset: off there (no error), on where protocol pings exist.
    expect(resolveOptions({ url }, browser).heartbeat.enabled).toBe(false);
    expect(resolveOptions({ url }, node).heartbeat.enabled).toBe(true);
  });

  it('headers are rejected on an adapter that cannot send them', () => {
    const error = problemsOf({ url, headers: { authorization: 'Bearer x' } }, browser);
    expect(error.problems[0]!.option).toBe('headers');
    expect(resolveOptions({ url, headers: { authorization: 'Bearer x' } }, node).headers).toEqual({
      authorization: 'Bearer x',
    });
  });
});
