/**
 * `wsmachine connect` in a real terminal (issue 16, item 11): tmux runs the CLI from the source
 * against `ws` servers on 127.0.0.1 in this process; the test types lines and reads the screen as a
 * person would: the live status line, the typed and received lines, the reconnect countdown after the
 * server goes away, and the slash commands with their effect as the server sees it.
 *
 * No sleeps: every wait polls the screen (or waits on a server event) until a deadline.
 */
import http from 'node:http';
import type net from 'node:net';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { root } from '../helpers/cli.js';
import { cleanup, startWsServer } from '../helpers/servers.js';
import { type Terminal, closeTerminals, requireTmux, startTerminal } from '../helpers/tmux.js';

beforeAll(requireTmux);

afterEach(async () => {
  await closeTerminals();
  await cleanup();
});

/** `wsmachine connect <args>` from the source, in a 100 x 30 terminal. */
function connect(...args: string[]): Promise<Terminal> {
  return startTerminal([process.execPath, '--import', 'tsx', 'src/cli/main.ts', 'connect', ...args], {
    cwd: root,
  });
}

/** The last non-empty line of the screen: where the status line and its prompt live. */
function lastLine(screen: string): string {
  return screen.split('\n').at(-1) ?? '';
}

/** A server on `port` that answers every upgrade with 503 and `Retry-After: <seconds>`. */
async function busyServer(port: number, retryAfterSeconds: number) {
  let upgrades = 0;
  const sockets = new Set<net.Socket>();
  const server = http.createServer();
  server.on('upgrade', (_req, socket: net.Socket) => {
    upgrades++;
    sockets.add(socket);
    socket.on('error', () => {});
    socket.end(
      `HTTP/1.1 503 Service Unavailable\r\nRetry-After: ${retryAfterSeconds}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`,
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return {
    get upgrades() {
      return upgrades;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

describe('wsmachine connect in a terminal (tmux)', () => {
  it('shows a live status line; typed lines are sent (">") and what arrives is printed ("<")', async () => {
    const server = await startWsServer({ echo: true });
    const term = await connect(server.url, '--heartbeat', '200');
    const opened = await term.waitFor(/connected: session 1/);
    expect(lastLine(opened)).toMatch(/^● open · session 1 · attempt 0( · rtt [\d.]+ ms)? >$/);
    // The heartbeat's round trip joins the status line once a pong came back.
    await term.waitFor(/● open · session 1 · attempt 0 · rtt [\d.]+ m?s >$/);

    await term.typeLine('hello there');
    const screen = await term.waitFor(/^< hello there$/m);
    expect(await server.waitForMessages(0, 1)).toEqual(['hello there']);
    const lines = screen.split('\n');
    // The entered line is rewritten as a sent line: the scrollback reads like wscat's, and the status
    // line stays the last line, with its prompt.
    expect(lines.indexOf('> hello there')).toBeGreaterThan(-1);
    expect(lines.indexOf('> hello there')).toBeLessThan(lines.indexOf('< hello there'));
    expect(screen).not.toMatch(/open · .* > hello there/);
    expect(lastLine(screen)).toMatch(/^● open · session 1 · attempt 0 · rtt [\d.]+ m?s >$/);

    await term.press('C-d');
    expect(await term.exited()).toBe(0);
    expect(await server.waitForClosed(0)).toEqual({ code: 1000, reason: '' });
    expect(await term.screen()).toMatch(/\* stopped$/m);
  });

  it('the server goes away: the status line counts down to the next dial, then the client reconnects', async () => {
    const server = await startWsServer({ echo: true });
    const port = server.port;
    const term = await connect(server.url, '--no-heartbeat', '--reconnect-delay', '100');
    await term.waitFor(/● open · session 1 · attempt 0 >$/);

    // The server dies; then a server on its port answers "503, retry after 2 s": the next dial waits
    // at least 2 s, long enough to watch the countdown.
    await server.close();
    const busy = await busyServer(port, 2);
    let screen = await term.waitFor(/closed 1006/);
    screen = await term.waitFor(/next dial in 1\.\d s >$/);
    expect(screen).toMatch(/reconnecting: attempt \d+ in [\d.]+ m?s/);
    expect(lastLine(screen)).toMatch(/^● reconnecting · session \d+ · attempt \d+ · next dial in 1\.\d s >$/);
    const first = Number(/next dial in (1\.\d) s/.exec(lastLine(screen))![1]);
    // It counts down on its own (the machine owns the timer; the line is redrawn every 100 ms).
    const later = await term.waitFor(
      new RegExp(
        `next dial in (\\d+ ms|${first > 1 ? `1\\.[0-${Math.round((first - 1) * 10) - 1}]` : '0\\.\\d'} s) >$`,
      ),
    );
    expect(lastLine(later)).toMatch(/^● reconnecting · /);
    expect(busy.upgrades).toBeGreaterThanOrEqual(1);

    // The server is back: the client reconnects by itself and the status line says so.
    await busy.close();
    await server.restart();
    screen = await term.waitFor(/connected: session \d+ \(reconnected\)/, 20_000);
    expect(lastLine(screen)).toMatch(/^● open · session \d+ · attempt \d+ >$/);
    await term.typeLine('after the outage');
    await term.waitFor(/^< after the outage$/m);
    await term.press('C-c');
    expect(await term.exited()).toBe(0);
  });

  it('slash commands: /ping, /pong, /stats, /restart and /close, as the server sees them', async () => {
    const frames: string[] = [];
    const server = await startWsServer({
      echo: true,
      onConnection: (c) => {
        c.socket.on('ping', (d) => frames.push(`#${c.index} ping ${d}`));
        c.socket.on('pong', (d) => frames.push(`#${c.index} pong ${d}`));
      },
    });
    const term = await connect(server.url, '--no-heartbeat', '-P');
    await term.waitFor(/● open · session 1 · attempt 0 >$/);

    await term.typeLine('/ping are you there');
    await term.waitFor(/^< received pong \(data: "are you there"\)$/m);
    expect(frames).toEqual(['#0 ping are you there']);
    await term.typeLine('/pong unasked');
    await term.waitFor(/^> pong \(data: "unasked"\)$/m);
    await server.waitForConnections(1);
    // The pong needs one more trip through the server's event loop: wait on it through /stats, which
    // is answered after the server has read everything before it on this connection.
    await term.typeLine('counted');
    await term.waitFor(/^< counted$/m);
    expect(frames).toEqual(['#0 ping are you there', '#0 pong unasked']);

    await term.typeLine('/stats');
    const stats = await term.waitFor(/"messagesOut":1/);
    expect(stats).toMatch(/"messagesIn":1/);

    await term.typeLine('/nope');
    await term.waitFor(/error unknown command \/nope; commands: \/ping \[data\], \/pong \[data\], \/close/);

    await term.typeLine('/restart');
    expect((await server.waitForClosed(0)).code).toBe(1001);
    let screen = await term.waitFor(/connected: session \d+ \(reconnected\)/);
    await server.waitForConnections(2);
    expect(lastLine(screen)).toMatch(/^● open · session \d+ · attempt \d+ >$/);

    await term.typeLine('/close 4002 all done');
    expect(await term.exited()).toBe(0);
    expect(await server.waitForClosed(1)).toEqual({ code: 4002, reason: 'all done' });
    screen = await term.screen();
    expect(screen).toMatch(/closed 4002 "all done" \(normal\)/);
    expect(screen).toMatch(/\* stopped$/m);
  });
});
