/**
 * `unref: true` (Node): a started client does not keep the process alive. Each test runs a child
 * process (test/fixtures/unref-child.mts) connected to a real `ws` server on 127.0.0.1 and watches
 * whether it exits by itself. The child prints `beforeExit <state>` when Node's event loop runs out of
 * work that keeps it alive, which says exactly when the process became free to exit. No sleeps.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, startWsServer } from '../helpers/servers.js';

const fixture = fileURLToPath(new URL('../fixtures/unref-child.mts', import.meta.url));
const cwd = fileURLToPath(new URL('../..', import.meta.url));
const GUARD_MS = 15_000;
const children = new Set<ChildProcess>();

afterEach(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  children.clear();
  await cleanup();
});

function runChild(url: string, mode: 'unref' | 'ref' | 'unref-reconnecting') {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture, url, mode], {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  const lines: string[] = [];
  const waiters: Array<() => void> = [];
  let stderr = '';
  let buffered = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    const parts = buffered.split('\n');
    buffered = parts.pop()!;
    lines.push(...parts);
    for (const w of waiters.splice(0)) w();
  });
  const describeRun = () => `stdout:\n${lines.join('\n')}\nstderr:\n${stderr}`;
  const exited = new Promise<number | null>((resolve, reject) => {
    const guard = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`The child did not exit by itself within ${GUARD_MS} ms. ${describeRun()}`));
    }, GUARD_MS);
    child.on('exit', (code) => {
      clearTimeout(guard);
      for (const w of waiters.splice(0)) w();
      resolve(code);
    });
  });
  /** Resolves once a line equal to `text` was printed; rejects if the child exits first. */
  const line = (text: string) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (lines.includes(text)) resolve();
        else if (child.exitCode !== null || child.signalCode !== null)
          reject(new Error(`The child exited before printing '${text}'. ${describeRun()}`));
        else waiters.push(check);
      };
      check();
    });
  return { lines, line, exited, describeRun };
}

describe('unref (Node)', () => {
  it('unref: true — the process exits by itself while the client is still started (open)', async () => {
    const server = await startWsServer();
    const child = runChild(server.url, 'unref');
    const code = await child.exited;
    expect(code, child.describeRun()).toBe(0);
    expect(child.lines).toEqual(['open', 'beforeExit open']);
    // The server saw the connection, and no close frame was ever sent (the client never stopped).
    const conn = await server.waitForConnections(1);
    expect((await server.waitForClosed(conn.index)).code).toBe(1006);
  });

  it('unref: true — also while reconnecting (backoff timers and dials do not hold the process)', async () => {
    const server = await startWsServer();
    const child = runChild(server.url, 'unref-reconnecting');
    await child.line('open');
    await server.close(); // the server goes away for good: the client keeps reconnecting
    expect(await child.exited, child.describeRun()).toBe(0);
    expect(child.lines.slice(0, 2)).toEqual(['open', 'reconnecting']);
    expect(child.lines.at(-1), child.describeRun()).toMatch(/^beforeExit (reconnecting|connecting)$/);
  });

  it('without unref the process stays alive while started, and exits by itself after stop()', async () => {
    const server = await startWsServer();
    const child = runChild(server.url, 'ref');
    await child.line('open');
    const conn = await server.waitForConnections(1);
    // A round trip while started: the process is still there and serving.
    conn.socket.send('ping');
    await server.waitForMessages(conn.index, 1);
    expect(conn.received).toEqual(['pong']);
    conn.socket.send('stop');
    expect(await child.exited, child.describeRun()).toBe(0);
    // The loop first ran dry only after stop(): never while the client was started.
    expect(child.lines).toEqual(['open', 'stopped stopped', 'beforeExit stopped']);
    expect(await server.waitForClosed(conn.index)).toEqual({ code: 1000, reason: '' });
  });
});
