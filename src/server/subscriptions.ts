/**
 * The `heartbeat` topic of the demo protocol: subscribe, unsubscribe, and one publisher per
 * connection whose `seq` counts 1, 2, 3... so a gap on the client's side is a lost message.
 */
import {
  DemoErrorCodes,
  type DemoMessageType,
  HEARTBEAT_TOPIC,
  type HeartbeatMessage,
  type ReqId,
} from './protocol.js';
import { reply, replyError, send } from './outbound.js';
import { type Connection, type ServerState, type Subscription, stopPublishing } from './server-state.js';

/** Handles `subscribe_request` (`subscribe` true) and `unsubscribe_request`. */
export function handleSubscription(
  state: ServerState,
  conn: Connection,
  type: DemoMessageType,
  reqId: ReqId | undefined,
  topic: unknown,
  subscribe: boolean,
): void {
  if (typeof topic !== 'string') {
    replyError(state, conn, type, reqId, DemoErrorCodes.BAD_REQUEST, 'topic must be a string');
    return;
  }
  if (topic !== HEARTBEAT_TOPIC) {
    replyError(
      state,
      conn,
      type,
      reqId,
      DemoErrorCodes.TOPIC_NOT_FOUND,
      `unknown topic ${JSON.stringify(topic)}: the only topic is "heartbeat"`,
    );
    return;
  }
  if (subscribe) {
    // Checked and set in one synchronous step: a second subscribe can never start a second publisher.
    if (conn.subscription !== undefined) {
      replyError(
        state,
        conn,
        type,
        reqId,
        DemoErrorCodes.ALREADY_SUBSCRIBED,
        `already subscribed to "${topic}"`,
      );
      return;
    }
    const subscription: Subscription = {
      seq: 0,
      timer: setInterval(() => publishHeartbeat(state, conn, subscription), state.heartbeatIntervalMs),
    };
    conn.subscription = subscription;
    reply(state, conn, {
      type,
      ...(reqId === undefined ? {} : { reqId }),
      status: 'OK',
      data: { topic, intervalMs: state.heartbeatIntervalMs },
    });
    return;
  }
  if (conn.subscription === undefined) {
    replyError(state, conn, type, reqId, DemoErrorCodes.NOT_SUBSCRIBED, `not subscribed to "${topic}"`);
    return;
  }
  stopPublishing(conn);
  reply(state, conn, { type, ...(reqId === undefined ? {} : { reqId }), status: 'OK', data: { topic } });
}

function publishHeartbeat(state: ServerState, conn: Connection, subscription: Subscription): void {
  // Only the live subscription publishes (a cleared one never does, even if its timer fired late).
  if (conn.subscription !== subscription || conn.ended) return;
  subscription.seq++;
  const heartbeat: HeartbeatMessage = {
    type: 'heartbeat',
    topic: 'heartbeat',
    seq: subscription.seq,
    // A wall date is meant here; the uptime is a duration, so it comes from the monotonic clock.
    timestamp: new Date().toISOString(),
    uptimeMs: Math.round(performance.now() - conn.openedAt),
  };
  send(state, conn, JSON.stringify(heartbeat), false, false);
}
