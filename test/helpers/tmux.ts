/**
 * A real terminal for CLI tests: a program runs in a tmux pane (Debian's `tmux`, its own server on a
 * private socket), the test types into it with `send-keys` and reads the screen with `capture-pane`,
 * as a person would. Waiting is polling the screen until a pattern shows, bounded by a deadline; the
 * failure message carries the last screen. The pane stays after the program exits
 * (`remain-on-exit`), so its last screen and exit status can be read.
 *
 * Every tmux call is asynchronous: the servers the program talks to run in the test's own process.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { installLine } from '../faults/peers.js';

const run = promisify(execFile);

export const TMUX = '/usr/bin/tmux';
const POLL_MS = 50;
const DEADLINE_MS = 15_000;

/** Throws with the install line unless tmux is installed. */
export function requireTmux(): void {
  if (!existsSync(TMUX))
    throw new Error(
      `${TMUX} is missing. The terminal tests drive the CLI in tmux: run \`${installLine('tmux')}\` ` +
        '(as root; .ci/run does it from scripts/system-packages.txt), then `npm run test:system`.',
    );
}

/** A program running in a tmux pane. */
export interface Terminal {
  /** The visible screen, wrapped lines joined, trailing blank lines removed (no colour codes). */
  screen(): Promise<string>;
  /** Types `text` (literally) and presses Enter. */
  typeLine(text: string): Promise<void>;
  /** Types `text` literally, without Enter. */
  type(text: string): Promise<void>;
  /** Presses keys by tmux name: `Enter`, `C-c`, `C-d`, ... */
  press(...keys: string[]): Promise<void>;
  /** Resolves with the screen once `pattern` matches it; rejects with the last screen at the deadline. */
  waitFor(pattern: RegExp, deadlineMs?: number): Promise<string>;
  /** Resolves with the program's exit status once it has exited (bounded by the deadline). */
  exited(deadlineMs?: number): Promise<number>;
  /** Kills the tmux server (and the program) and removes the socket directory. */
  close(): Promise<void>;
}

export interface TerminalOptions {
  cwd: string;
  /** Extra environment for the program. */
  env?: Record<string, string>;
  columns?: number;
  rows?: number;
}

const open: Terminal[] = [];

/**
 * The exit status of `pid` when it is a zombie (exited, not yet reaped): field 52 of
 * /proc/<pid>/stat is the status as waitpid(2) reports it. `undefined` while it runs or once reaped.
 */
function zombieStatus(pid: string): number | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid.trim()}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // "pid (comm) state ...": comm may hold spaces and parentheses, so split after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  if (fields[0] !== 'Z') return undefined;
  const wait = Number(fields[52 - 3]);
  if ((wait & 0x7f) !== 0) throw new Error(`the program was killed by signal ${wait & 0x7f}`);
  return (wait >> 8) & 0xff;
}

/** Closes every terminal still open (call in `afterEach`). */
export async function closeTerminals(): Promise<void> {
  await Promise.allSettled(open.splice(0).map((t) => t.close()));
}

/** Starts `argv` in a new tmux server and pane of `columns` x `rows`. */
export async function startTerminal(argv: string[], options: TerminalOptions): Promise<Terminal> {
  requireTmux();
  const dir = mkdtempSync(join(tmpdir(), 'wsm-tmux-'));
  const socket = join(dir, 'socket');
  const config = join(dir, 'tmux.conf');
  writeFileSync(config, 'set -g remain-on-exit on\nset -g status off\nset -g history-limit 2000\n');
  const tmux = (...args: string[]) =>
    run(TMUX, ['-S', socket, ...args], { encoding: 'utf8' }).then((r) => r.stdout);
  const env = Object.entries(options.env ?? {}).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
  await run(
    TMUX,
    [
      '-S',
      socket,
      '-f',
      config,
      'new-session',
      '-d',
      '-s',
      'cli',
      '-x',
      String(options.columns ?? 100),
      '-y',
      String(options.rows ?? 30),
      '-c',
      options.cwd,
      ...env,
      '--',
      ...argv,
    ],
    { encoding: 'utf8', env: { ...process.env, TERM: 'xterm-256color' } },
  );

  const screen = async () =>
    (await tmux('capture-pane', '-p', '-J', '-t', 'cli')).replace(/\s+$/, '').replace(/[ \t]+$/gm, '');

  const poll = async <T>(probe: () => Promise<T | undefined>, what: string, deadlineMs: number) => {
    const deadline = performance.now() + deadlineMs;
    for (;;) {
      const found = await probe();
      if (found !== undefined) return found;
      if (performance.now() > deadline)
        throw new Error(`no ${what} within ${deadlineMs} ms; the screen:\n${await screen()}`);
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  };

  const terminal: Terminal = {
    screen,
    async typeLine(text) {
      await tmux('send-keys', '-t', 'cli', '-l', text);
      await tmux('send-keys', '-t', 'cli', 'Enter');
    },
    async type(text) {
      await tmux('send-keys', '-t', 'cli', '-l', text);
    },
    async press(...keys) {
      await tmux('send-keys', '-t', 'cli', ...keys);
    },
    waitFor(pattern, deadlineMs = DEADLINE_MS) {
      return poll(
        async () => {
          const s = await screen();
          return pattern.test(s) ? s : undefined;
        },
        `screen matching ${pattern}`,
        deadlineMs,
      );
    },
    exited(deadlineMs = DEADLINE_MS) {
      return poll(
        async () => {
          const [dead, status, signal] = (
            await tmux(
              'display-message',
              '-p',
              '-t',
              'cli',
              '#{pane_dead}|#{pane_dead_status}|#{pane_dead_signal}',
            )
          )
            .trim()
            .split('|');
          if (dead !== '1') return undefined;
          // tmux sees the pty close before it reaps the process: dead, but no status yet. tmux 3.3a
          // can miss the SIGCHLD altogether (seen here with a bare `sh -c 'exit 3'`): the program is
          // then a zombie whose status the kernel keeps, so read it there.
          if (status === '' && signal === '')
            return zombieStatus(await tmux('display-message', '-p', '-t', 'cli', '#{pane_pid}'));
          if (status === '')
            throw new Error(`the program was killed by signal ${signal}; the screen:\n${await screen()}`);
          return Number(status);
        },
        'exit',
        deadlineMs,
      );
    },
    async close() {
      await tmux('kill-server').catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
  open.push(terminal);
  return terminal;
}
