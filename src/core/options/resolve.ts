/**
 * `resolveOptions`: runs every option group's checker in a fixed order (so `problems` lists them in
 * the order of the options object's documentation) and throws once with all the problems found.
 */
import { InvalidOptionsError } from '../errors.js';
import { type AdapterFacts, Checker, type Fn } from './checker.js';
import { type ResolvedHeartbeat, resolveHeartbeat } from './heartbeat.js';
import { resolveHooks, resolvePrepare } from './hooks.js';
import { type ResolvedInbound, resolveInbound } from './inbound.js';
import { type ResolvedReconnect, resolveReconnect } from './reconnect.js';
import { type ResolvedRequests, resolveRequests } from './requests.js';
import { type ResolvedSendBuffer, resolveSendBuffer } from './send-buffer.js';
import { checkRuntime, checkTopLevelNames, resolveLimits } from './top-level.js';
import { checkHeaders, resolveProtocols, resolveUrl } from './url.js';

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

/**
 * Validates `createClient` options and merges them with the defaults.
 *
 * @throws {InvalidOptionsError} naming every bad option, its value and what is allowed.
 */
export function resolveOptions(input: unknown, adapter: AdapterFacts): ResolvedOptions {
  if (typeof input !== 'object' || input === null) {
    throw new InvalidOptionsError([
      { option: 'options', value: input, expected: 'an object with at least `url`' },
    ]);
  }
  const c = new Checker();
  const o = input as Record<string, unknown>;
  checkTopLevelNames(c, o);
  const url = resolveUrl(c, o.url);
  const protocols = resolveProtocols(c, o.protocols);
  checkHeaders(c, o.headers, adapter);
  const limits = resolveLimits(c, o);
  const reconnect = resolveReconnect(c, o.reconnect);
  const sendBuffer = resolveSendBuffer(c, o.sendBuffer);
  const requests = resolveRequests(c, o.requests);
  const heartbeat = resolveHeartbeat(c, o.heartbeat, adapter);
  const inbound = resolveInbound(c, o.inbound);
  const hooks = resolveHooks(c, o.hooks);
  const prepare = resolvePrepare(c, o.prepare);
  checkRuntime(c, o);

  if (c.problems.length > 0) throw new InvalidOptionsError(c.problems);
  return {
    url,
    protocols,
    headers: o.headers,
    ...limits,
    reconnect,
    sendBuffer,
    requests,
    heartbeat,
    inbound,
    prepare,
    hooks,
  };
}
