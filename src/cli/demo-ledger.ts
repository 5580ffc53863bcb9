/**
 * The demo's own accounting of what could be lost: every request it issues settles (ok or failed,
 * by error code), every heartbeat of a session follows the one before it (a gap is a lost message),
 * every received message is handled, a reply, or reported unhandled. The summary adds these up
 * against the client's `stats()` and says `lost: 0` only when nothing is missing.
 */
import type { ClientStats } from '../node.js';
import { errorCode } from './format.js';
import type { Colors } from './terminal.js';

export class DemoLedger {
  issued = 0;
  ok = 0;
  failed = 0;
  heartbeats = 0;
  gaps = 0;
  /** Messages the client handed to onMessage or to the heartbeat subscription. */
  handled = 0;
  readonly promises: Promise<unknown>[] = [];
  private readonly failures = new Map<string, number>();
  private readonly lastSeq = new Map<number, number>();

  /** Counts a request and, when it settles, its outcome. */
  track(promise: Promise<unknown>): void {
    this.issued++;
    this.promises.push(
      promise.then(
        () => {
          this.ok++;
        },
        (error: unknown) => {
          this.failed++;
          const code = errorCode(error) ?? 'other';
          this.failures.set(code, (this.failures.get(code) ?? 0) + 1);
        },
      ),
    );
  }

  /** Counts a heartbeat of session `sessionId` (a dial id); a jump in `seq` counts as lost messages. */
  heartbeat(sessionId: number, seq: number): void {
    this.heartbeats++;
    const last = this.lastSeq.get(sessionId) ?? 0;
    if (seq !== last + 1) this.gaps += Math.abs(seq - last - 1) || 1;
    this.lastSeq.set(sessionId, seq);
  }

  /** The summary's two lines and how many messages were lost. */
  summary(stats: ClientStats, c: Colors): { lines: [string, string]; lost: number } {
    const unsettled = this.issued - this.ok - this.failed;
    // Inbound: every message received was handed to onMessage, answered a request, or was reported
    // unhandled; whatever is none of these vanished.
    const unaccounted = stats.messagesIn - this.handled - this.ok - stats.unhandled;
    const lost = unsettled + stats.undelivered + this.gaps + stats.unhandled + unaccounted;
    const failures = [...this.failures.entries()].map(([code, n]) => `${code} ${n}`).join(', ');
    return {
      lost,
      lines: [
        `${c.bold('summary')}  sessions: ${stats.sessions} · dials: ${stats.dials} · reconnects: ${stats.reconnects} · ` +
          `requests: ${this.ok} ok, ${this.failed} failed${failures ? ` (${failures})` : ''} · ` +
          `messages: ${stats.messagesIn} in, ${stats.messagesOut} out · heartbeats: ${this.heartbeats} · ` +
          `inbound: ${this.handled} handled, ${this.ok} replies, ${stats.unhandled} unhandled · ` +
          `${lost === 0 ? c.green('lost: 0') : c.red(`lost: ${lost}`)}`,
        c.dim(
          `lost = requests never settled (${unsettled}) + sends reported undelivered (${stats.undelivered}) + ` +
            `heartbeat sequence gaps (${this.gaps}) + messages received and reported unhandled (${stats.unhandled}) + ` +
            `messages received and neither handled, a reply nor reported (${unaccounted}). ` +
            'Every failed request was rejected with a typed error its caller saw.',
        ),
      ],
    };
  }
}
