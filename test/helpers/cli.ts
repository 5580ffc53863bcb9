/**
 * Runs the `wsmachine` CLI from the source (`node --import tsx src/cli/main.ts`) as a child process
 * with piped stdio, for the CLI tests. Every child is killed and every demo server killed by
 * {@link cleanupCli} (call it in `afterEach`).
 *
 * No sleeps: `line()` waits for an output line, `exit` for the child's exit, each with a guard
 * timeout that turns a hang into a readable failure.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type DemoServer, startDemoServer } from '../../src/server.js';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const GUARD_MS = 15_000;

const children: ChildProcessWithoutNullStreams[] = [];
const servers: DemoServer[] = [];

/** Kills every child still running and every demo server started by these helpers. */
export async function cleanupCli(): Promise<void> {
  for (const child of children.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await Promise.allSettled(servers.splice(0).map((s) => s.kill()));
}

/** A demo server on 127.0.0.1, port 0, heartbeats every 50 ms. */
export async function demoServer(): Promise<DemoServer> {
  const s = await startDemoServer({ port: 0, heartbeatIntervalMs: 50 });
  servers.push(s);
  return s;
}

export interface Cli {
  child: ChildProcessWithoutNullStreams;
  stdout: string[];
  stderr: string[];
  /** Resolves with the first stdout (or stderr) line matching `pattern`. */
  line(pattern: RegExp, stream?: 'stdout' | 'stderr'): Promise<string>;
  /** Resolves with the exit code once the process exited. */
  exit: Promise<number | null>;
}

/** Spawns the CLI from the source; colour off unless `env` says otherwise. */
export function cli(args: string[], env: Record<string, string | undefined> = { NO_COLOR: '1' }): Cli {
  const childEnv: NodeJS.ProcessEnv = { ...process.env };
  delete childEnv.FORCE_COLOR;
  delete childEnv.NO_COLOR;
  for (const [k, v] of Object.entries(env)) if (v !== undefined) childEnv[k] = v;
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: root,
    env: childEnv,
  });
  children.push(child);
  const out = { stdout: [] as string[], stderr: [] as string[] };
  const waiters: Array<() => void> = [];
  const changed = () => {
    for (const w of waiters.splice(0)) w();
  };
  for (const name of ['stdout', 'stderr'] as const) {
    let partial = '';
    child[name].setEncoding('utf8');
    child[name].on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop()!;
      out[name].push(...parts);
      changed();
    });
    child[name].on('end', () => {
      if (partial) out[name].push(partial);
      partial = '';
      changed();
    });
  }
  let exited = false;
  const exit = new Promise<number | null>((resolveExit) =>
    child.on('close', (code) => {
      exited = true;
      changed();
      resolveExit(code);
    }),
  );
  const line = (pattern: RegExp, stream: 'stdout' | 'stderr' = 'stdout') =>
    new Promise<string>((resolveLine, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `no ${stream} line matched ${pattern} in ${GUARD_MS} ms:\n${out[stream].join('\n')}\n--- stderr:\n${out.stderr.join('\n')}`,
            ),
          ),
        GUARD_MS,
      );
      const check = () => {
        const found = out[stream].find((l) => pattern.test(l));
        if (found !== undefined) {
          clearTimeout(timer);
          resolveLine(found);
        } else if (exited) {
          clearTimeout(timer);
          reject(
            new Error(
              `exited without a ${stream} line matching ${pattern}:\n${out[stream].join('\n')}\n--- stderr:\n${out.stderr.join('\n')}`,
            ),
          );
        } else waiters.push(check);
      };
      check();
    });
  return { child, stdout: out.stdout, stderr: out.stderr, line, exit };
}
