/**
 * stop() while dialing and while waiting to reconnect leaves nothing running, and the client keeps a
 * Node process alive exactly as long as it is started (checked in child processes).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { StartError, createClient } from '../../src/node.js';
import {
  activeTimers,
  cleanup,
  countingClock,
  events,
  startSilentTcpServer,
  startWsServer,
  track,
  waitForEvent,
} from '../helpers/servers.js';

const children = new Set<ChildProcess>();
afterEach(async () => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  children.clear();
  await cleanup();
});

/** What the actor is running: its state value and its child actors (the socket, hooks, timers' owners). */
function actorFacts(client: ReturnType<typeof createClient>) {
  const snapshot = client.actor.getSnapshot();
  return { value: snapshot.value, status: snapshot.status, children: Object.keys(snapshot.children) };
}

describe('stop() during connecting', () => {
  it('aborts the dial, rejects start(), emits stopped once, and leaves no socket and no timer', async () => {
    const silent = await startSilentTcpServer();
    const timersBefore = activeTimers();
    const clock = countingClock();
    const client = track(
      createClient({
        url: silent.url,
        heartbeat: false,
        openTimeoutMs: 10_000,
        reconnect: { baseDelayMs: 0 },
        clock,
      }),
    );
    const rec = events(client);

    const started = client.start().then(
      () => undefined,
      (error: unknown) => error,
    );
    await silent.waitForAccepted(1);
    expect(client.state).toBe('connecting');
    // The open timeout is pending while dialing: the count can see the client's timers.
    expect(clock.pending()).toBeGreaterThan(0);

    await client.stop();
    const startError = await started;
    expect(startError).toBeInstanceOf(StartError);
    expect((startError as StartError).cause).toMatchObject({ code: 'WSM_ERR_CLIENT_STOPPED' });
    expect(client.state).toBe('stopped');
    expect(rec.of('stopped')).toHaveLength(1);
    expect(rec.of('reconnecting')).toHaveLength(0);
    expect(rec.transitions.at(-1)).toBe('connecting->stopped');
    expect(actorFacts(client)).toEqual({ value: 'stopped', status: 'active', children: [] });
    expect(clock.pending()).toBe(0);
    // Process-wide (other tests' leftovers may come and go, so only "no more than before").
    expect(activeTimers()).toBeLessThanOrEqual(timersBefore);
    // The half-dialed TCP connection was torn down, and nothing dialed again.
    await silent.waitForAllClosed();
    expect(silent.accepted).toBe(1);
  });
});

describe('stop() during reconnecting', () => {
  it('cancels the backoff wait: stopped, no timer, no further dial', async () => {
    const server = await startWsServer();
    const timersBefore = activeTimers();
    const clock = countingClock();
    const client = track(
      createClient({
        url: server.url,
        heartbeat: false,
        reconnect: { baseDelayMs: 60_000, maxDelayMs: 60_000, jitter: 'none' },
        clock,
      }),
    );
    const rec = events(client);
    await client.start();

    const waiting = waitForEvent(client, 'reconnecting');
    server.terminateAll();
    expect(await waiting).toMatchObject({ attempt: 1, delayMs: 60_000 });
    expect(client.state).toBe('reconnecting');
    expect(client.actor.getSnapshot().matches('reconnecting')).toBe(true);
    // The 60 s backoff timer is pending.
    expect(clock.pending()).toBeGreaterThan(0);

    const t0 = performance.now();
    await client.stop();
    expect(performance.now() - t0).toBeLessThan(500);
    expect(client.state).toBe('stopped');
    expect(rec.of('stopped')).toHaveLength(1);
    expect(rec.transitions.slice(-1)).toEqual(['reconnecting->stopped']);
    expect(actorFacts(client)).toEqual({ value: 'stopped', status: 'active', children: [] });
    expect(clock.pending()).toBe(0);
    expect(activeTimers()).toBeLessThanOrEqual(timersBefore);
    expect(server.connections).toHaveLength(1);
    expect(server.openConnections).toHaveLength(0);
    expect(rec.of('connecting')).toHaveLength(1);
  });

  it('stop() while open clears the heartbeat and stability timers too', async () => {
    const server = await startWsServer();
    const timersBefore = activeTimers();
    const clock = countingClock();
    const client = track(
      createClient({ url: server.url, heartbeat: { intervalMs: 30_000, timeoutMs: 10_000 }, clock }),
    );
    events(client);
    await client.start();
    // Heartbeat interval and the resetAfterMs stability timer.
    expect(clock.pending()).toBeGreaterThanOrEqual(2);
    await client.stop();
    expect(actorFacts(client)).toEqual({ value: 'stopped', status: 'active', children: [] });
    expect(clock.pending()).toBe(0);
    expect(activeTimers()).toBeLessThanOrEqual(timersBefore);
    await server.waitForClosed(0);
  });
});

// -------------------------------------------------------------------------------------------------
// Process lifetime, in child processes

const fixture = fileURLToPath(new URL('../fixtures/child-client.mts', import.meta.url));
const cwd = fileURLToPath(new URL('../..', import.meta.url));

interface ChildRun {
  /** Each stdout line with the time it arrived (performance.now()). */
  lines: Array<{ text: string; at: number }>;
  stderr: string;
  /** Resolves when a line starting with `prefix` has been printed. */
  line(prefix: string): Promise<{ text: string; at: number }>;
  /** Resolves with the exit code and time of exit. */
  exited: Promise<{ code: number | null; signal: string | null; at: number }>;
}

function runChild(mode: 'open' | 'reconnecting', url: string): ChildRun {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture, mode, url], {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  const lines: Array<{ text: string; at: number }> = [];
  const waiters: Array<{ prefix: string; resolve: (l: { text: string; at: number }) => void }> = [];
  let buffered = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8');
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => {
    stderr += d;
  });
  child.stdout!.on('data', (chunk: string) => {
    const at = performance.now();
    buffered += chunk;
    let nl = buffered.indexOf('\n');
    while (nl >= 0) {
      const line = { text: buffered.slice(0, nl), at };
      buffered = buffered.slice(nl + 1);
      lines.push(line);
      for (const w of waiters.slice()) {
        if (line.text.startsWith(w.prefix)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
      nl = buffered.indexOf('\n');
    }
  });
  const exited = new Promise<{ code: number | null; signal: string | null; at: number }>((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal, at: performance.now() }));
  });
  return {
    lines,
    get stderr() {
      return stderr;
    },
    line(prefix) {
      const found = lines.find((l) => l.text.startsWith(prefix));
      if (found) return Promise.resolve(found);
      return Promise.race([
        new Promise<{ text: string; at: number }>((resolve) => waiters.push({ prefix, resolve })),
        exited.then(({ code }) => {
          throw new Error(
            `the child exited (${code}) before printing '${prefix}'. stdout:\n${lines.map((l) => l.text).join('\n')}\nstderr:\n${stderr}`,
          );
        }),
      ]);
    },
    exited,
  };
}

function describeRun(run: ChildRun): string {
  return `stdout:\n${run.lines.map((l) => l.text).join('\n')}\nstderr:\n${run.stderr}`;
}

describe('process lifetime', () => {
  it('after stop(), a Node process that used the client exits by itself within 1 s', async () => {
    const server = await startWsServer({ echo: true });
    const run = runChild('open', server.url);
    await run.line('echoed');
    const stopped = await run.line('stopped');
    expect(stopped.text).toBe('stopped stopped');
    const exit = await run.exited;
    // If it lingered, the child printed what kept it alive on an 'alive [...]' line.
    expect(exit.at - stopped.at, describeRun(run)).toBeLessThan(1_000);
    expect(exit.code, describeRun(run)).toBe(0);
    expect(
      run.lines.some((l) => l.text.startsWith('alive')),
      describeRun(run),
    ).toBe(false);
    expect(server.connections).toHaveLength(1);
    expect(await server.waitForClosed(0)).toMatchObject({ code: 1000 });
  });

  it('while reconnecting to a dead server the process stays alive; after stop() it exits', async () => {
    const server = await startWsServer();
    const run = runChild('reconnecting', server.url);
    await run.line('open');
    // The server goes away for good: every reconnect dial is refused, 300 ms apart. Only the client's
    // backoff timer can keep the child alive through those waits.
    await server.close();
    const reached = await run.line('reconnected-3');
    expect(reached.text).toBe('reconnected-3');
    const stopped = await run.line('stopped');
    expect(stopped.text).toBe('stopped stopped');
    const exit = await run.exited;
    expect(exit.at - stopped.at, describeRun(run)).toBeLessThan(1_000);
    expect(exit.code, describeRun(run)).toBe(0);
    expect(
      run.lines.some((l) => l.text.startsWith('alive')),
      describeRun(run),
    ).toBe(false);
  });
});
