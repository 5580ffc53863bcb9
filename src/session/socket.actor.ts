/**
 * The socket actor: the thin callback actor that owns one session's socket. It dials when the machine
 * says so, turns adapter events into machine facts (`socket.opened`, `socket.closed`, `socket.heard`,
 * `socket.silent`) and machine commands into socket calls (dial, flush, seal, ping, judge, close). It
 * keeps the ping bookkeeping and the write gate. Incoming data does not pass through the machine: it
 * goes straight to the receive path (ARCHITECTURE.md §1).
 *
 * The actor's cleanup (the machine leaving `session` by any path) ends the session handle and
 * terminates the socket, so no socket outlives its session.
 */
import { fromCallback } from 'xstate';
import type { ConnectionEvent, SocketActorInput, SocketCommand } from '../../machines/connection.types.js';
import { ConnectError, HandshakeError, HookError, InvalidCloseError, messageOf } from '../core/errors.js';
import type { Data } from '../core/types.js';
import { byteLength } from '../core/utf8.js';
import type {
  AdapterCloseInfo,
  ConnectionListener,
  OpenInfo,
  SocketConnection,
} from '../transport/adapter.js';
import type { InboundSource } from './inbound.js';
import { type ClientServices, servicesOf } from './services.js';
import { SessionHandle } from './session-handle.js';

/** Runs `fn` after the input already waiting has been read (Node: the check phase; browsers: a task). */
const afterPendingInput: (fn: () => void) => void =
  typeof (globalThis as { setImmediate?: unknown }).setImmediate === 'function'
    ? (fn) => (globalThis as unknown as { setImmediate(f: () => void): unknown }).setImmediate(fn)
    : (fn) => setTimeout(fn, 0);

/** The resolved target of one dial (may carry secrets: never put in an event). */
export interface Target {
  url: string;
  headers: Record<string, string> | undefined;
}

/** One live link between the machine and a socket. */
export class SocketBinding implements ConnectionListener, InboundSource {
  readonly handle: SessionHandle;
  /** Writes from `client.send()` / `request()` go straight to the socket (opened by flush, shut by seal). */
  writable = false;
  /** Set by the target actor before the machine commands the dial. */
  target: Target | undefined;
  private conn: SocketConnection | undefined;
  private disposed = false;
  private readonly s: ClientServices;
  private readonly input: SocketActorInput;
  private readonly sendBack: (event: ConnectionEvent) => void;
  /** A ping is out and nothing was heard from the peer since. */
  private pingOut = false;
  /** A ping is out and its pong has not been timed yet (RTT). */
  private pongDue = false;
  private pingAt = 0;
  /** The socket's bytes read when the ping went out (-1: the adapter cannot tell). */
  private readAtPing = -1;
  /** Pongs cannot be told apart from data (an app ping without `isPong`): any message answers. */
  private readonly anyMessageIsPong: boolean;

  constructor(s: ClientServices, input: SocketActorInput, sendBack: (event: ConnectionEvent) => void) {
    this.s = s;
    this.input = input;
    this.sendBack = sendBack;
    const hb = s.options.heartbeat;
    this.anyMessageIsPong = hb.message !== undefined && hb.isPong === undefined;
    this.handle = new SessionHandle(input.sessionId, s.handleOwner);
    s.sessions.current = this;
    s.counters.dials++;
    if (input.restarting) s.counters.reconnects++;
  }

  // --- machine commands ---------------------------------------------------------------------------

  command(command: SocketCommand): void {
    switch (command.type) {
      case 'socket.dial':
        this.dial();
        return;
      case 'socket.flush':
        // Requests to resend were issued before anything queued now: they go first. The gate opens
        // only when everything went out, so nothing sent later overtakes the queue.
        this.writable = this.s.requests.resend(this.handle) && this.s.outbox.flush(this.handle);
        return;
      case 'socket.seal':
        this.writable = false;
        this.handle.seal(command.requested);
        this.s.dispatcher.sessionSealed(this.handle);
        return;
      case 'socket.ping':
        this.ping();
        return;
      case 'socket.judge':
        afterPendingInput(this.judge);
        return;
      case 'socket.close':
        this.close(command.code, command.reason);
        return;
    }
  }

  dispose(): void {
    this.disposed = true;
    this.writable = false;
    this.handle.end();
    if (this.s.sessions.current === this) this.s.sessions.current = undefined;
    const conn = this.conn;
    this.conn = undefined;
    try {
      conn?.terminate();
    } catch {
      // Terminating a socket that already failed is not an error worth reporting.
    }
  }

  private dial(): void {
    const target = this.target ?? this.s.staticTarget;
    if (target === undefined || this.disposed) return;
    const o = this.s.options;
    try {
      this.conn = this.s.adapter.connect(
        {
          url: target.url,
          protocols: o.protocols,
          headers: target.headers,
          maxPayloadBytes: o.maxPayloadBytes,
          closeTimeoutMs: o.closeTimeoutMs,
          handshakeTimeoutMs: o.openTimeoutMs,
          unref: this.s.unref,
        },
        this,
      );
    } catch (error) {
      // The contract says connect() never throws. A broken adapter fails this actor, and the machine
      // takes its failure path (closing, then the reconnect policy), instead of a hang.
      // XState does not run the cleanup of an actor that failed: release the session here.
      this.dispose();
      throw new ConnectError(`The adapter's connect() threw: ${messageOf(error)}`, error);
    }
  }

  private close(code: number, reason: string): void {
    const conn = this.conn;
    if (conn === undefined) return;
    try {
      conn.close(code, reason);
    } catch (error) {
      this.s.errors.report(new InvalidCloseError(`Could not send the close frame: ${messageOf(error)}`));
      conn.terminate();
    }
  }

  // --- heartbeat bookkeeping ----------------------------------------------------------------------

  private ping(): void {
    const conn = this.conn;
    if (conn === undefined || this.disposed) return;
    const hb = this.s.options.heartbeat;
    this.pingOut = true;
    this.pongDue = true;
    this.pingAt = this.s.clock.now();
    this.readAtPing = conn.bytesRead ?? -1;
    try {
      if (hb.message !== undefined) {
        const m = (typeof hb.message === 'function' ? (hb.message as () => Data)() : hb.message) as Data;
        conn.send(m);
        this.s.counters.messagesOut++;
        this.s.counters.bytesOut += byteLength(m);
      } else conn.ping?.();
      this.s.emitFact('ping', { sessionId: this.handle.id });
    } catch (error) {
      this.s.errors.report(new HookError('heartbeat.message', error, this.handle.id));
    }
  }

  /** After the input already waiting was read: was anything heard since the ping? */
  private readonly judge = (): void => {
    if (this.disposed || !this.pingOut) return;
    // Reading paused for backpressure: nothing can be read, so nothing is judged (the machine
    // suspends the heartbeat; this covers a pause it has not been told of yet).
    if (this.s.dispatcher.readingPaused) {
      this.heard();
      return;
    }
    const read = this.conn?.bytesRead;
    // Bytes of a frame still arriving are life too (a big message on a slow link has no pong yet).
    if (read !== undefined && this.readAtPing >= 0 && read > this.readAtPing) {
      this.heard();
      return;
    }
    this.sendBack({ type: 'socket.silent', sessionId: this.input.sessionId });
  };

  /** Something arrived from the peer: one `socket.heard` per ping at most. */
  private heard(): void {
    if (!this.pingOut) return;
    this.pingOut = false;
    this.sendBack({ type: 'socket.heard', sessionId: this.input.sessionId });
  }

  /** A pong (protocol, app-recognised, or `pongReceived()`): its round trip, then liveness. */
  pong(): void {
    if (this.pongDue) {
      this.pongDue = false;
      const rttMs = this.s.clock.now() - this.pingAt;
      this.s.counters.lastRttMs = rttMs;
      this.s.emitFact('pong', { rttMs });
    }
    this.heard();
  }

  // --- adapter events -----------------------------------------------------------------------------

  // Own properties, not prototype methods: adapters (and users wrapping them) may copy a listener with
  // `{ ...listener }`, which drops methods of a class.
  readonly onOpen = (info: OpenInfo): void => {
    if (this.disposed) return;
    this.handle.conn = this.conn;
    this.handle.protocol = info.protocol;
    this.handle.extensions = info.extensions;
    this.sendBack({
      type: 'socket.opened',
      sessionId: this.input.sessionId,
      protocol: info.protocol,
      response: info.response,
    });
  };

  readonly onMessage = (data: string | Uint8Array, binary: boolean, bytes?: number): void => {
    if (this.disposed) return;
    if (this.pingOut) {
      if (this.anyMessageIsPong) this.pong();
      else this.heard();
    }
    this.s.inbound.receive(this, data, binary, bytes);
  };

  readonly onClose = (info: AdapterCloseInfo): void => {
    if (this.disposed) return;
    this.writable = false;
    const error = info.error;
    this.sendBack({
      type: 'socket.closed',
      sessionId: this.input.sessionId,
      code: info.code,
      reason: info.reason,
      wasClean: info.wasClean,
      ...(error === undefined ? {} : { error }),
      ...(error instanceof HandshakeError ? { status: error.status, retryAfterMs: error.retryAfterMs } : {}),
    });
  };

  readonly onPong = (): void => {
    if (!this.disposed) this.pong();
  };

  readonly onPing = (): void => {
    if (!this.disposed) this.heard();
  };
}

/** The real socket actor, provided to the machine once per module by the client. */
export const socketActor = fromCallback<SocketCommand, SocketActorInput>(
  ({ input, system, sendBack, receive }) => {
    const binding = new SocketBinding(
      servicesOf(system, 'socket'),
      input,
      sendBack as (e: ConnectionEvent) => void,
    );
    receive((command) => binding.command(command));
    return () => binding.dispose();
  },
);
