/**
 * The live session's binding (owned by the socket actor, registered while it lives) and the callers
 * waiting for a session to be open (exclusive sections). The registry holds references; whether a
 * session is open is the machine's fact, told here by the lifecycle bridge.
 */
import { ClientStoppedError } from '../core/errors.js';
import type { DispatchSession } from './dispatch-types.js';
import type { SocketBinding } from './socket.actor.js';

interface OpenWaiter {
  resolve: (session: DispatchSession) => void;
  reject: (error: unknown) => void;
}

/** The current session of one client. */
export class SessionRegistry {
  /** The binding of the session the machine is in, if any. */
  current: SocketBinding | undefined;
  /** The binding of the session the machine reported open, until it began closing. */
  private open: SocketBinding | undefined;
  private waiters: OpenWaiter[] = [];

  /** Resolves with the session once open (now, or at the next open); rejects when the client stops. */
  whenOpen(stopped: boolean): Promise<DispatchSession> {
    const open = this.open;
    if (open !== undefined && open === this.current && !open.handle.ending)
      return Promise.resolve(open.handle);
    if (stopped) return Promise.reject(new ClientStoppedError('The client is stopped; call start() first'));
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** The machine reported `session.open` for this binding. */
  opened(binding: SocketBinding): void {
    this.open = binding;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.resolve(binding.handle);
  }

  /** The client stopped: every waiter rejects. */
  stopped(error: ClientStoppedError): void {
    this.open = undefined;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.reject(error);
  }
}
