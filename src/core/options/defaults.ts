/** The defaults of every option, and the bound on every `*Ms` option. */

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
    // A slow reader of 256 KiB messages would otherwise hold ~25 GiB at the count bound alone.
    iteratorBufferBytes: 16 * 1024 * 1024,
  },
} as const;
