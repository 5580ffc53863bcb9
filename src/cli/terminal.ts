/**
 * Terminal output for the CLI: colour that honours `NO_COLOR`, `FORCE_COLOR` and non-TTY output, and
 * a live status line that is redrawn in place on a TTY (and never written when piped).
 */
import type { Interface as ReadlineInterface } from 'node:readline';
import picocolors from 'picocolors';

/** The colour functions (identity functions when colour is off). */
export type Colors = ReturnType<typeof picocolors.createColors>;

/** The streams a command writes to (injectable for tests). */
export interface Io {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  stdin: NodeJS.ReadStream;
  env: NodeJS.ProcessEnv;
}

/** The process's own streams. */
export function processIo(): Io {
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env };
}

/**
 * Whether to colour `stream`: never with `NO_COLOR` set (non-empty), always with `FORCE_COLOR` (not
 * `0`), otherwise only on a TTY whose `TERM` is not `dumb`.
 */
export function colorEnabled(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '' && env.FORCE_COLOR !== '0') return true;
  return stream.isTTY === true && env.TERM !== 'dumb';
}

/** Colours for a stream. */
export function colorsFor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): Colors {
  return picocolors.createColors(colorEnabled(stream, env));
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: stripping ANSI escapes is the point
const ANSI = /\x1b\[[0-9;]*m/g;

/** Visible length of a string with ANSI colour codes. */
function visibleLength(text: string): number {
  return text.replace(ANSI, '').length;
}

/**
 * Prints lines to a stream, keeping one live status line under them on a TTY. When the stream is not
 * a TTY, `status()` does nothing: piped output only ever gets whole lines.
 */
export class Screen {
  readonly live: boolean;
  private statusText: string | undefined;

  constructor(
    private readonly out: NodeJS.WriteStream,
    live = out.isTTY === true,
  ) {
    this.live = live;
  }

  /** Prints a line above the status line. */
  print(text: string): void {
    if (this.live && this.statusText !== undefined) this.out.write('\r\x1b[2K');
    this.out.write(`${text}\n`);
    if (this.live && this.statusText !== undefined) this.out.write(this.statusText);
  }

  /** Replaces the status line (TTY only); `undefined` removes it. */
  status(text: string | undefined): void {
    if (!this.live) return;
    const columns = this.out.columns || 100; // a pty may report 0 columns (no size set)
    const fitted =
      text !== undefined && visibleLength(text) > columns - 1
        ? text.replace(ANSI, '').slice(0, columns - 2)
        : text;
    this.out.write('\r\x1b[2K');
    this.statusText = fitted;
    if (fitted !== undefined) this.out.write(fitted);
  }

  /** Removes the status line. */
  close(): void {
    this.status(undefined);
  }
}

/**
 * A screen whose status line is a readline prompt, for interactive input: printed lines go above the
 * prompt, and the user's half-typed line is redrawn after them.
 */
export class PromptScreen {
  readonly live = true;
  /**
   * Set once readline closed (Ctrl-D, end of input): from then on lines are printed without a prompt,
   * because `prompt()` on a closed interface resumes stdin, and a resumed TTY keeps the process alive.
   */
  private ended = false;

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly rl: ReadlineInterface,
  ) {
    rl.once('close', () => {
      this.ended = true;
    });
  }

  private prompt(): void {
    if (!this.ended) this.rl.prompt(true);
  }

  print(text: string): void {
    this.out.write('\r\x1b[2K');
    this.out.write(`${text}\n`);
    this.prompt();
  }

  /**
   * Replaces the line the user just entered (still showing the status line as its prompt) with
   * `text`, so the scrollback reads as sent and received lines, as in wscat.
   */
  replaceEntered(entered: string, text: string | undefined): void {
    const columns = this.out.columns || 80;
    const rows = Math.floor((visibleLength(this.rl.getPrompt()) + entered.length) / columns) + 1;
    this.out.write(`\x1b[${rows}A\r\x1b[0J`);
    if (text === undefined) this.prompt();
    else this.print(text);
  }

  status(text: string | undefined): void {
    if (this.ended) return;
    this.rl.setPrompt(text === undefined ? '' : `${text} > `);
    this.out.write('\r\x1b[2K');
    this.prompt();
  }

  close(): void {
    this.out.write('\r\x1b[2K');
  }
}

/** What `connect`, `serve` and `demo` print through. */
export interface Printer {
  readonly live: boolean;
  print(text: string): void;
  status(text: string | undefined): void;
  close(): void;
}

/**
 * Resolves on Ctrl-C (SIGINT), SIGTERM or when `signal` aborts, whichever comes first, and removes
 * its listeners: the foreground commands (`serve`, `inspect`) wait on it before shutting down.
 *
 * @example
 * ```ts
 * await untilStopped();
 * await server.close();
 * ```
 */
export function untilStopped(signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
    signal?.addEventListener('abort', done);
  });
}
