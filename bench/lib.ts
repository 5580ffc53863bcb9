/**
 * Small shared pieces of the bench harness: statistics over rounds, formatting, the real clock, child
 * processes (servers and isolated measurements, always bounded and always killed), and the protocol
 * between `bench/run.ts` and the bench files it forks.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The package root: `--import tsx` resolves from a child's working directory. */
export const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** A real clock, the same shape the client uses by default. */
export const realClock = {
  now: () => Date.now(),
  setTimeout: (fn: () => void, ms: number): unknown => setTimeout(fn, ms),
  clearTimeout: (id: unknown) => clearTimeout(id as ReturnType<typeof setTimeout>),
};

/** Median, min and max of one figure over the rounds. */
export interface Summary {
  median: number;
  min: number;
  max: number;
  rounds: number[];
}

export function summarize(values: number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  const median =
    n === 0 ? Number.NaN : n % 2 === 1 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
  return { median, min: sorted[0] ?? Number.NaN, max: sorted[n - 1] ?? Number.NaN, rounds: values };
}

/** Percentile (nearest rank) of an unsorted sample. */
export function percentile(values: Float64Array | number[], p: number): number {
  const sorted = Float64Array.from(values).sort();
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

/** Formats a number with 3 significant digits, keeping thousands readable. */
export function fmt(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  if (abs >= 1e6) return `${(value / 1e6).toPrecision(3)}M`;
  if (abs >= 1e4) return `${(value / 1e3).toPrecision(3)}k`;
  if (abs >= 100) return value.toFixed(0);
  return value.toPrecision(3);
}

/** `median (min-max)`. */
export function fmtSummary(s: Summary): string {
  return `${fmt(s.median)} (${fmt(s.min)}-${fmt(s.max)})`;
}

export function fmtRatio(r: number): string {
  return Number.isFinite(r) ? `${r.toFixed(2)}x` : String(r);
}

/** One target from the issues, checked against this run. */
export interface TargetCheck {
  target: string;
  measured: string;
  /** `undefined`: reported, no pass/fail threshold. */
  met: boolean | undefined;
  /** Where a target is missed: why, in plain words, with the measured facts behind it. */
  why?: string;
}

/** A row of the headline table in `latest.md` and the README. */
export interface Headline {
  figure: string;
  wsmachine: string;
  /** wsmachine as a ratio to raw ws, or the comparison that matters. */
  ratio: string;
  peers: string;
}

/** What each bench file hands back to `bench/run.ts`. */
export interface BenchSection {
  name: string;
  /** Markdown body (tables and notes) for `latest.md`. */
  markdown: string;
  /** Raw figures for `latest.json`. */
  data: unknown;
  targets: TargetCheck[];
  headlines?: Headline[];
  rounds: number;
}

export interface BenchOptions {
  quick: boolean;
}

/** Runs `run` when the file is executed directly (or forked by run.ts), and reports the result. */
export function mainIfDirect(moduleUrl: string, run: (options: BenchOptions) => Promise<BenchSection>): void {
  const entry = process.argv[1];
  if (entry === undefined || pathToFileURL(entry).href !== moduleUrl) return;
  const quick = process.argv.includes('--quick');
  // Forked by run.ts: when it goes away, go too (with every server this process started).
  process.on('disconnect', () => process.exit(1));
  run({ quick }).then(
    (section) => {
      if (process.send) {
        process.send({ ok: true, section }, () => process.exit(0));
      } else {
        console.log(`## ${section.name}\n\n${section.markdown}`);
        process.exit(0);
      }
    },
    (error: unknown) => {
      console.error(error);
      if (process.send) process.send({ ok: false, error: String((error as Error)?.stack ?? error) });
      process.exit(1);
    },
  );
}

/** Collects garbage between measurements when the process was started with --expose-gc. */
export function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** Rejects after `ms` with a message naming `what`; the timer never keeps the process alive. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`bench: ${what} took longer than ${ms} ms`)), ms);
    timer.unref();
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// -------------------------------------------------------------------------------------------------
// Child processes: every one is tracked and killed when this process exits, however it exits.

const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => process.exit(130));
}

/** A forked TypeScript child (run with tsx) and the first IPC message it sent. */
export interface Child<T> {
  child: ChildProcess;
  first: T;
  /** Waits for the next IPC message that satisfies `accept`. */
  next<M>(accept: (m: M) => boolean, timeoutMs: number, what: string): Promise<M>;
  /** Ends the child: disconnect, then SIGKILL if it is still there after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Forks `script` (a .ts file under bench/) with tsx and waits for its first IPC message (a server
 * sends `{ port }`). Rejects when the child exits first or does not answer within `timeoutMs`.
 */
export async function forkTs<T>(
  script: string,
  args: string[],
  options: { timeoutMs?: number; execArgv?: string[]; stdio?: 'inherit' | 'ignore' } = {},
): Promise<Child<T>> {
  const path = fileURLToPath(new URL(script, import.meta.url));
  const child = fork(path, args, {
    cwd: ROOT,
    execArgv: ['--import', 'tsx', ...(options.execArgv ?? [])],
    stdio: [
      'ignore',
      options.stdio === 'ignore' ? 'ignore' : 'inherit',
      options.stdio === 'ignore' ? 'ignore' : 'inherit',
      'ipc',
    ],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code, signal) =>
      reject(new Error(`bench: ${script} exited (${code ?? signal}) before answering`)),
    ),
  );
  exited.catch(() => {});
  const next = <M>(accept: (m: M) => boolean, timeoutMs: number, what: string): Promise<M> => {
    let listener: ((m: unknown) => void) | undefined;
    const got = new Promise<M>((resolve) => {
      listener = (m: unknown) => {
        if (accept(m as M)) resolve(m as M);
      };
      child.on('message', listener);
    });
    return withTimeout(Promise.race([got, exited]), timeoutMs, `${script}: ${what}`).finally(() => {
      if (listener) child.off('message', listener);
    });
  };
  let first: T;
  try {
    first = await next<T>(() => true, options.timeoutMs ?? 20_000, 'first message');
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  const stop = async (graceMs = 2_000): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    if (child.connected) child.disconnect();
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await gone;
    clearTimeout(timer);
  };
  return { child, first, next, stop };
}

/** Starts a bench server (`bench/servers/NAME.ts`) and returns its ws:// URL. */
export async function startServer(
  name: string,
  args: string[] = [],
): Promise<{ url: string; port: number; server: Child<{ port: number }> }> {
  const server = await forkTs<{ port: number }>(`./servers/${name}.ts`, args);
  return { url: `ws://127.0.0.1:${server.first.port}`, port: server.first.port, server };
}

/** Rotates `items` by `round` (interleaved rounds: A,B,C then B,C,A ...). */
export function rotate<T>(items: readonly T[], round: number): T[] {
  const n = items.length;
  return items.map((_, i) => items[(i + round) % n]!);
}

/** Process CPU time (user + system) in µs since `since`. */
export function cpuSince(since: NodeJS.CpuUsage): number {
  const c = process.cpuUsage(since);
  return c.user + c.system;
}

/** A Markdown table. */
export function table(header: string[], rows: string[][]): string {
  return [
    `| ${header.join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}
