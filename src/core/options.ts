/**
 * Option defaults, validation and merging: the module the rest of the code imports. Pure: it looks
 * at values only. `src/core` may not import the public types (they reference adapters), so user
 * functions are typed loosely here and the client narrows them again.
 *
 * One file per option group lives in `options/` (`url`, `top-level`, `reconnect`, `send-buffer`,
 * `requests`, `heartbeat`, `inbound`, `hooks`), each using the small checker in `options/checker.ts`;
 * `options/resolve.ts` runs them in order.
 */
export type { AdapterFacts } from './options/checker.js';
export { DEFAULTS, MAX_TIMER_MS } from './options/defaults.js';
export type { ResolvedHeartbeat } from './options/heartbeat.js';
export type { ResolvedInbound } from './options/inbound.js';
export type { ResolvedReconnect } from './options/reconnect.js';
export type { ResolvedRequests } from './options/requests.js';
export { type ResolvedOptions, resolveOptions } from './options/resolve.js';
export type { ResolvedSendBuffer } from './options/send-buffer.js';
export type { ResolvedLimits } from './options/top-level.js';
export { checkUrl } from './options/url.js';
