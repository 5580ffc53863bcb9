/**
 * The demo protocol spoken by {@link startDemoServer}: the Go seed's demo server protocol (echo,
 * subscribe/unsubscribe, heartbeat publications), fixed where the seed was buggy (the `reqId` is on
 * every reply, errors included; subscribing twice is rejected atomically; unsubscribing really clears
 * the subscription), plus `fault_request` commands for demos and tests.
 *
 * Every frame is a JSON object with a `type`. Requests may carry a `reqId` (string or number), which
 * the reply repeats unchanged, so a client can correlate replies with
 * `requests.key.response: (m) => m.json().reqId`.
 */

/**
 * Message types of the demo protocol.
 *
 * @example
 * ```ts
 * import { createClient } from 'wsmachine';
 * import { DemoMessageTypes, startDemoServer } from 'wsmachine/server';
 * const server = await startDemoServer();
 * const client = createClient({
 *   url: server.url,
 *   hooks: { onMessage: (m) => console.log(m.json<{ type: string }>().type) }, // 'echo_response'
 * });
 * await client.start();
 * client.send(JSON.stringify({ type: DemoMessageTypes.ECHO_REQUEST, data: 'hi' }));
 * ```
 */
export const DemoMessageTypes = {
  ECHO_REQUEST: 'echo_request',
  ECHO_RESPONSE: 'echo_response',
  SUBSCRIBE_REQUEST: 'subscribe_request',
  SUBSCRIBE_RESPONSE: 'subscribe_response',
  UNSUBSCRIBE_REQUEST: 'unsubscribe_request',
  UNSUBSCRIBE_RESPONSE: 'unsubscribe_response',
  FAULT_REQUEST: 'fault_request',
  FAULT_RESPONSE: 'fault_response',
  HEARTBEAT: 'heartbeat',
  ERROR: 'error',
} as const;
/**
 * One of {@link DemoMessageTypes}.
 *
 * @example
 * ```ts
 * import type { DemoMessageType } from 'wsmachine/server';
 * const isReply = (type: DemoMessageType) => type.endsWith('_response') || type === 'error';
 * isReply('heartbeat'); // false: a publication
 * ```
 */
export type DemoMessageType = (typeof DemoMessageTypes)[keyof typeof DemoMessageTypes];

/**
 * Error codes of the demo protocol (the seed's, unchanged).
 *
 * @example
 * ```ts
 * import { createClient } from 'wsmachine';
 * import { DemoErrorCodes, type DemoResponse, startDemoServer } from 'wsmachine/server';
 * const server = await startDemoServer();
 * const client = createClient({
 *   url: server.url,
 *   hooks: {
 *     onMessage: (m) => {
 *       const reply = m.json<DemoResponse>();
 *       if (reply.error?.code === DemoErrorCodes.NOT_SUBSCRIBED) console.log('nothing to unsubscribe from');
 *     },
 *   },
 * });
 * await client.start();
 * client.send(JSON.stringify({ type: 'unsubscribe_request', topic: 'heartbeat' }));
 * ```
 */
export const DemoErrorCodes = {
  /** `subscribe_request` for a topic this connection already subscribed to. */
  ALREADY_SUBSCRIBED: 'ALREADY_SUBSCRIBED',
  /** `unsubscribe_request` for a topic this connection has not subscribed to. */
  NOT_SUBSCRIBED: 'NOT_SUBSCRIBED',
  /** A topic other than `heartbeat`. */
  TOPIC_NOT_FOUND: 'TOPIC_NOT_FOUND',
  /** A JSON object without a `type`, or with a type the server does not know. */
  UNKNOWN_MESSAGE_TYPE: 'UNKNOWN_MESSAGE_TYPE',
  /** Not JSON, not an object, a binary frame, or a field of the wrong type. */
  BAD_REQUEST: 'BAD_REQUEST',
  /** `echo_request` with `err: true`: the client asked for an error. */
  ASKED_BY_CLIENT: 'ASKED_BY_CLIENT',
} as const;
/**
 * One of {@link DemoErrorCodes}.
 *
 * @example
 * ```ts
 * import type { DemoErrorCode } from 'wsmachine/server';
 * // Errors a client can fix by changing its request (the rest are state errors).
 * const isBadInput = (code: DemoErrorCode) => code === 'BAD_REQUEST' || code === 'UNKNOWN_MESSAGE_TYPE';
 * ```
 */
export type DemoErrorCode = (typeof DemoErrorCodes)[keyof typeof DemoErrorCodes];

/**
 * The only topic: `heartbeat`.
 *
 * @example
 * ```ts
 * import { createClient } from 'wsmachine';
 * import { HEARTBEAT_TOPIC, startDemoServer } from 'wsmachine/server';
 * const server = await startDemoServer({ heartbeatIntervalMs: 500 });
 * const client = createClient({ url: server.url, hooks: { onMessage: (m) => console.log(m.data) } });
 * await client.start();
 * // subscribe_response, then a publication every 500 ms
 * client.send(JSON.stringify({ type: 'subscribe_request', reqId: 1, topic: HEARTBEAT_TOPIC }));
 * ```
 */
export const HEARTBEAT_TOPIC = 'heartbeat';

/**
 * A request id, repeated unchanged in the reply.
 *
 * @example
 * ```ts
 * import { createClient } from 'wsmachine';
 * import { type ReqId, startDemoServer } from 'wsmachine/server';
 * const server = await startDemoServer();
 * const client = createClient({
 *   url: server.url,
 *   // correlate replies by reqId: O(1), and error replies carry it too
 *   requests: {
 *     key: { request: (_data, reqId: ReqId) => reqId, response: (m) => m.json<{ reqId?: ReqId }>().reqId },
 *   },
 * });
 * await client.start();
 * const echo = JSON.stringify({ type: 'echo_request', reqId: 'r1', data: 1 });
 * const reply = await client.request(echo, { params: 'r1' });
 * ```
 */
export type ReqId = string | number;

/**
 * `echo_request`: the server answers `echo_response` with the same `data`, or an error when `err` is true.
 *
 * @example
 * ```ts
 * import { createClient } from 'wsmachine';
 * import { type DemoResponse, type EchoRequest, startDemoServer } from 'wsmachine/server';
 * const server = await startDemoServer();
 * const client = createClient({
 *   url: server.url,
 *   requests: { key: { request: (_data, id) => id, response: (m) => m.json<DemoResponse>().reqId } },
 * });
 * await client.start();
 * const echo: EchoRequest = { type: 'echo_request', reqId: 7, data: { hello: 'world' } };
 * const reply = await client.request(JSON.stringify(echo), { params: 7 });
 * console.log(reply.json<DemoResponse>().data); // { hello: 'world' }
 * ```
 */
export interface EchoRequest {
  type: 'echo_request';
  reqId?: ReqId;
  /** Any JSON value; echoed unchanged (`null` when absent). */
  data?: unknown;
  /** Ask for an `ASKED_BY_CLIENT` error reply instead of the echo. @default false */
  err?: boolean;
}

/**
 * `subscribe_request` / `unsubscribe_request`.
 *
 * @example
 * ```ts
 * import { createClient } from 'wsmachine';
 * import { type SubscriptionRequest, startDemoServer } from 'wsmachine/server';
 * const server = await startDemoServer();
 * const client = createClient({ url: server.url, hooks: { onMessage: (m) => console.log(m.data) } });
 * await client.start();
 * const subscribe: SubscriptionRequest = { type: 'subscribe_request', reqId: 'sub-1', topic: 'heartbeat' };
 * client.send(JSON.stringify(subscribe)); // subscribe_response, then a heartbeat publication every second
 * ```
 */
export interface SubscriptionRequest {
  type: 'subscribe_request' | 'unsubscribe_request';
  reqId?: ReqId;
  /** Only `'heartbeat'` exists. */
  topic: string;
}

/**
 * The error part of an `ERROR` reply.
 *
 * @example
 * ```ts
 * import type { DemoError, DemoResponse } from 'wsmachine/server';
 * const errorOf = (reply: DemoResponse): DemoError | undefined =>
 *   reply.status === 'ERROR' ? reply.error : undefined;
 * const error = { code: 'BAD_REQUEST', message: 'not JSON' } as const;
 * const reply: DemoResponse = { type: 'error', status: 'ERROR', error };
 * errorOf(reply)?.code; // 'BAD_REQUEST'
 * ```
 */
export interface DemoError {
  code: DemoErrorCode;
  message: string;
}

/**
 * Every reply: `echo_response`, `subscribe_response`, `unsubscribe_response`, `fault_response`, and
 * `error` (for frames that are not a known request). `reqId` is present whenever the request had one,
 * on error replies too.
 *
 * @example
 * ```ts
 * import { createClient } from 'wsmachine';
 * import { type DemoResponse, startDemoServer } from 'wsmachine/server';
 * const server = await startDemoServer();
 * const client = createClient({
 *   url: server.url,
 *   hooks: {
 *     onMessage: (m) => {
 *       const reply = m.json<DemoResponse<{ topic: string; intervalMs: number }>>();
 *       if (reply.type === 'subscribe_response' && reply.status === 'OK') {
 *         console.log(reply.data?.intervalMs); // 1000
 *       }
 *     },
 *   },
 * });
 * await client.start();
 * client.send(JSON.stringify({ type: 'subscribe_request', topic: 'heartbeat' }));
 * ```
 */
export interface DemoResponse<T = unknown> {
  type: DemoMessageType;
  reqId?: ReqId;
  status: 'OK' | 'ERROR';
  data?: T;
  error?: DemoError;
}

/**
 * A heartbeat publication, sent every `heartbeatIntervalMs` to a connection that subscribed.
 *
 * @example
 * ```ts
 * { type: 'heartbeat', topic: 'heartbeat', seq: 3, timestamp: '2025-01-01T00:00:01.500Z', uptimeMs: 1502 }
 * ```
 */
export interface HeartbeatMessage {
  type: 'heartbeat';
  topic: 'heartbeat';
  /** 1, 2, 3 ... per subscription: a gap means a lost publication. */
  seq: number;
  /** ISO 8601 time of the publication. */
  timestamp: string;
  /** Milliseconds since this connection opened. */
  uptimeMs: number;
}

/**
 * A fault command, sent as `{ type: 'fault_request', reqId, fault: ..., ...params }` or passed to
 * `server.fault()`. In a `fault_request` it applies to the connection that sent it (except
 * `reject_handshakes`, which is server-wide); see `DemoServer.fault` for the programmatic scope.
 * Invalid parameters get a `BAD_REQUEST` reply (or a `RangeError` from `server.fault()`).
 *
 * @example
 * ```ts
 * client.send(JSON.stringify({ type: 'fault_request', reqId: 'f1', fault: 'close', code: 4001, reason: 'bye' }));
 * server.fault({ fault: 'no_pong' });                         // stop answering pings, server-wide
 * server.fault({ fault: 'close_after', messages: 3 });        // every open connection, after 3 more messages
 * ```
 */
export type FaultCommand =
  /** Close with this code and reason (really sent in the close frame). Defaults: 1001, 'fault: close'. */
  | { fault: 'close'; code?: number; reason?: string }
  /** Destroy the TCP connection without a close frame (the client sees 1006). */
  | { fault: 'drop' }
  /** Stop (or, with `enabled: false`, resume) answering protocol pings. Default `enabled`: true. */
  | { fault: 'no_pong'; enabled?: boolean }
  /** Delay every reply (not heartbeats) by `ms`; 0 turns it off. */
  | { fault: 'delay'; ms: number }
  /** Close after the server has sent `messages` more messages. Defaults: 1001, 'fault: close_after'. */
  | { fault: 'close_after'; messages: number; code?: number; reason?: string }
  /**
   * Answer the next `count` handshakes (any connection) with HTTP `status` and, when given, a
   * `Retry-After` of `retryAfterSeconds`. Defaults: count 1, status 503, no Retry-After.
   */
  | { fault: 'reject_handshakes'; count?: number; status?: number; retryAfterSeconds?: number };

/**
 * The name of a fault command.
 *
 * @example
 * ```ts
 * import { type FaultName, startDemoServer } from 'wsmachine/server';
 * const server = await startDemoServer();
 * server.on('fault', ({ id, command }) => {
 *   const name: FaultName = command.fault;
 *   console.log(`fault ${name} from ${id === undefined ? 'the test' : `connection ${id}`}`);
 * });
 * server.fault({ fault: 'no_pong' });
 * ```
 */
export type FaultName = FaultCommand['fault'];
