/**
 * Loss accounting: what was sent and not delivered (`undelivered`), and what was received and not
 * handled (`unhandled`). Each is counted in stats() and reported in its event, or on the error
 * channel when nothing listens, so nothing is lost silently.
 *
 * Unhandled messages are reported once per step: a burst that arrives on a session the user is
 * closing gives one event with every message, not one event per message.
 */
import { UndeliveredError, UnhandledMessagesError, type WsmError } from '../core/errors.js';
import type { Message } from '../core/message.js';
import type { Data } from '../core/types.js';
import type { Counters } from '../session/counters.js';
import type { ClientEvents } from '../types.js';
import type { ErrorSink } from './error-reporter.js';

/** What loss reports go through. */
export interface LossParts {
  counters: Counters;
  errors: ErrorSink;
  has(event: 'undelivered' | 'unhandled'): boolean;
  emit<K extends 'undelivered' | 'unhandled'>(event: K, payload: ClientEvents[K]): void;
}

/** The loss reports of one client. */
export class LossReport {
  private readonly p: LossParts;
  private batch: Array<{ messages: Message[]; reason: WsmError }> | undefined;

  constructor(parts: LossParts) {
    this.p = parts;
  }

  undelivered(messages: Data[], reason: WsmError): void {
    if (messages.length === 0) return;
    this.p.counters.undelivered += messages.length;
    if (this.p.has('undelivered')) this.p.emit('undelivered', { messages, reason });
    else {
      this.p.errors.report(
        new UndeliveredError(`${messages.length} message(s) were not delivered: ${reason.message}`, reason),
      );
    }
  }

  unhandled(messages: Message[], reason: WsmError): void {
    if (messages.length === 0) return;
    this.p.counters.unhandled += messages.length;
    if (this.batch === undefined) {
      this.batch = [];
      queueMicrotask(this.flush);
    }
    const last = this.batch[this.batch.length - 1];
    // Same cause, same report: a burst of one reason is one event.
    if (last !== undefined && last.reason.code === reason.code && last.reason.message === reason.message) {
      for (const m of messages) last.messages.push(m);
    } else this.batch.push({ messages: [...messages], reason });
  }

  private readonly flush = (): void => {
    const batch = this.batch ?? [];
    this.batch = undefined;
    for (const { messages, reason } of batch) {
      if (this.p.has('unhandled')) this.p.emit('unhandled', { messages, reason });
      else {
        this.p.errors.report(
          new UnhandledMessagesError(
            `${messages.length} received message(s) were not handled: ${reason.message}`,
            reason,
          ),
        );
      }
    }
  };
}
