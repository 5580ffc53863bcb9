/**
 * Error reporting: every error the client reports goes to `hooks.onError` and the `error` event. With
 * neither, it goes to `console.error`, quietly: at most one line per error code between two opens (the
 * line says so), and none for an error that settles a promise the caller holds (a failed `start()`
 * already tells its caller why).
 */
import type { WsmError } from '../core/errors.js';
import { observeIfThenable, printError } from '../core/safe.js';

/** Where the parts of a client report errors. */
export interface ErrorSink {
  report(error: WsmError): void;
}

/** What the reporter needs. */
export interface ReporterParts {
  onError: ((error: WsmError) => void) | undefined;
  hasListener(): boolean;
  emit(error: WsmError): void;
}

/** onError itself failed: there is no channel left but the console (printed safely, whatever it threw). */
function onErrorFailed(error: unknown): void {
  printError('wsmachine: the onError hook threw', error);
}

/** The error reporter of one client. */
export class ErrorReporter implements ErrorSink {
  private readonly p: ReporterParts;
  /** Codes printed since the last open. */
  private printed: Set<string> | undefined;
  /** Errors handed to the caller through a promise: never printed. */
  private held: WeakSet<object> | undefined;
  private pending: WsmError[] | undefined;

  constructor(parts: ReporterParts) {
    this.p = parts;
  }

  report(error: WsmError): void {
    const onError = this.p.onError;
    if (onError !== undefined) {
      try {
        // An async onError that rejects is printed like one that throws (never an unhandled rejection).
        observeIfThenable(onError(error), onErrorFailed);
      } catch (e) {
        onErrorFailed(e);
      }
    }
    if (this.p.hasListener()) this.p.emit(error);
    else if (onError === undefined) this.print(error);
  }

  /** `error` settles a promise the caller holds (e.g. it is a failed start()'s cause): do not print it. */
  heldByCaller(error: unknown): void {
    if (typeof error !== 'object' || error === null) return;
    this.held ??= new WeakSet();
    this.held.add(error);
  }

  /** A session opened: the next error of each code is printed again. */
  opened(): void {
    this.printed?.clear();
  }

  /**
   * Printed after the current step: by then a promise this error settles has been rejected and the
   * error marked as held.
   */
  private print(error: WsmError): void {
    if (this.pending === undefined) {
      this.pending = [];
      queueMicrotask(this.flush);
    }
    this.pending.push(error);
  }

  private readonly flush = (): void => {
    const errors = this.pending ?? [];
    this.pending = undefined;
    for (const error of errors) {
      if (this.held?.has(error) || this.held?.has(error.cause as object)) continue;
      this.printed ??= new Set();
      const printed = this.printed;
      if (printed.has(error.code)) continue;
      printed.add(error.code);
      console.error(
        `wsmachine: ${error.code}: ${error.message} (add client.on('error') to handle errors; further ${error.code} errors are not printed until a session opens)`,
      );
    }
  };
}
