/**
 * Small shared pieces of the bench harness: statistics over rounds, formatting, the real clock, and
 * the protocol between `bench/run.ts` and the bench files it forks.
 */
import { pathToFileURL } from 'node:url';

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
  met: boolean;
}

/** What each bench file hands back to `bench/run.ts`. */
export interface BenchSection {
  name: string;
  /** Markdown body (tables and notes) for `latest.md`. */
  markdown: string;
  /** Raw figures for `latest.json`. */
  data: unknown;
  targets: TargetCheck[];
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
