/**
 * `debug: true`: the lifecycle as `RWS>` lines, with reconnecting-websocket's wording where it has a
 * line for the same step (`connect 0`, `next delay 734`, `open event`, `close event`, `error event
 * TIMEOUT`, `max retries reached 5 >= 5`), plus the statechart's transitions (`state open ->
 * closing`), which it did not have. URLs are the client's redacted ones (no credentials or query
 * values in logs). Built from the client's public events only, and attached only when asked for.
 */
import type { WsClient } from '../public.js';

/**
 * Logs `client`'s lifecycle through `log` (which adds the `RWS>` prefix).
 * @internal
 */
export function attachDebug(
  client: WsClient,
  log: (...args: unknown[]) => void,
  protocols: string | string[] | undefined,
  maxRetries: number,
): void {
  client.on('state', ({ from, to }) => log('state', from, '->', to));
  client.on('connecting', ({ attempt, url }) => {
    log('connect', attempt);
    log('connect', { url, protocols });
  });
  client.on('reconnecting', ({ attempt, delayMs }) => {
    log('retry', attempt);
    log('next delay', delayMs);
  });
  client.on('open', ({ sessionId, restarting }) => log('open event', { sessionId, restarting }));
  client.on('close', ({ code, reason, wasClean, class: kind }) =>
    log('close event', { code, reason, wasClean, class: kind }),
  );
  client.on('error', (error) =>
    log('error event', error.code === 'WSM_ERR_OPEN_TIMEOUT' ? 'TIMEOUT' : error.message),
  );
  client.on('stopped', ({ error }) => {
    if (error === undefined) return;
    if (client.attempt >= maxRetries) log('max retries reached', client.attempt, '>=', maxRetries);
    else log('stopped', error instanceof Error ? error.message : error);
  });
}
