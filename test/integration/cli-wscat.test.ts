/**
 * `wsmachine connect` for a wscat user (issue 16, item 10): wscat's flags as aliases, the slash
 * commands and their effect as a real `ws` server sees them, one-line usage errors, and `--no-color`
 * on every command. The CLI runs from the source as a child process with piped stdio
 * (test/helpers/cli.ts); the terminal side (status line, countdown, typing) is in
 * test/system/cli-terminal.test.ts, under tmux. TLS flags are in test/system/cli-tls.test.ts.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { cleanupCli, cli, demoServer } from '../helpers/cli.js';
import { cleanup, startWsServer } from '../helpers/servers.js';

const ESC = '\u001b[';

afterEach(async () => {
  await cleanupCli();
  await cleanup();
});

/**
 * An HTTP server on 127.0.0.1 whose upgrades to `/hop-same` and `/hop-other` are answered with a 302
 * to `/final` on itself (same host and port) or on `other` (another port: another host for `ws`),
 * and whose `/final` upgrades; it records the headers of every upgrade request.
 */
async function redirectServer(other?: string) {
  const seen: Array<{ path: string; authorization: string | undefined; cookie: string | undefined }> = [];
  const wss = new WebSocketServer({ noServer: true });
  const server = http.createServer();
  server.on('upgrade', (req, socket, head) => {
    seen.push({ path: req.url ?? '', authorization: req.headers.authorization, cookie: req.headers.cookie });
    const self = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
    if (req.url === '/hop-same' || req.url === '/hop-other') {
      const location = req.url === '/hop-same' ? `${self}/final` : `${other}/final`;
      socket.end(`HTTP/1.1 302 Found\r\nLocation: ${location}\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => ws.on('message', (d) => ws.send(d.toString())));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe("wscat's flags", () => {
  it('-c, a bare host:port and --execute: wsmachine -c 127.0.0.1:PORT/echo --execute hi', async () => {
    const s = await demoServer();
    const hostPort = s.echoUrl.replace('ws://', '');
    const run = cli(['-c', hostPort, '--execute', 'hi']);
    expect(await run.exit).toBe(0);
    expect(run.stdout).toEqual(['> hi', '< hi']);
    const sub = cli(['connect', '-c', s.echoUrl, '-x', 'a', '--execute', 'b', '--replies', '2']);
    expect(await sub.exit).toBe(0);
    expect(sub.stdout).toEqual(['> a', '> b', '< a', '< b']);
  });

  it('-w <seconds> without --replies prints what arrives for that long, then exits 0 (as wscat)', async () => {
    const s = await demoServer(); // a heartbeat every 50 ms once subscribed
    const run = cli([
      'connect',
      s.url,
      '-x',
      '{"type":"subscribe_request","reqId":1,"topic":"heartbeat"}',
      '-w',
      '0.5',
    ]);
    expect(await run.exit).toBe(0);
    const replies = run.stdout.filter((l) => l.startsWith('< ')).map((l) => JSON.parse(l.slice(2)).type);
    expect(replies[0]).toBe('subscribe_response');
    expect(replies.filter((t) => t === 'heartbeat').length).toBeGreaterThanOrEqual(2);
  });

  it('--auth, -o and -H reach the server as headers', async () => {
    const s = await demoServer();
    const seen = new Promise<Record<string, unknown>>((res) => s.on('connection', (e) => res(e.headers)));
    const run = cli([
      'connect',
      s.echoUrl,
      '--auth',
      'user:pa:ss',
      '-o',
      'https://app.test',
      '-H',
      'X-Trace: 7',
      '-x',
      'hi',
    ]);
    expect(await run.exit).toBe(0);
    const headers = await seen;
    expect(headers.authorization).toBe(`Basic ${Buffer.from('user:pa:ss').toString('base64')}`);
    expect(headers.origin).toBe('https://app.test');
    expect(headers['x-trace']).toBe('7');

    const bad = cli(['connect', s.echoUrl, '--auth', 'justauser']);
    expect(await bad.exit).toBe(2);
    expect(bad.stderr).toEqual([
      'wsmachine connect: --auth must look like user:password; see wsmachine connect --help',
    ]);
  });

  it('-L follows redirects: credentials kept on the same host, dropped on another host:port', async () => {
    const other = await redirectServer();
    const first = await redirectServer(other.url);
    try {
      const args = ['--auth', 'u:p', '-H', 'Cookie: c=1', '-x', 'hi'];
      const same = cli(['connect', `${first.url}/hop-same`, '-L', ...args]);
      expect(await same.exit).toBe(0);
      expect(same.stdout).toEqual(['> hi', '< hi']);
      const cross = cli(['connect', `${first.url}/hop-other`, '-L', ...args]);
      expect(await cross.exit).toBe(0);
      expect(cross.stdout).toEqual(['> hi', '< hi']);
      const basic = `Basic ${Buffer.from('u:p').toString('base64')}`;
      expect(first.seen).toEqual([
        { path: '/hop-same', authorization: basic, cookie: 'c=1' },
        { path: '/final', authorization: basic, cookie: 'c=1' },
        { path: '/hop-other', authorization: basic, cookie: 'c=1' },
      ]);
      expect(other.seen).toEqual([{ path: '/final', authorization: undefined, cookie: undefined }]);

      // Without -L a redirect is an answer, not a connection: the 302 is reported, nothing is followed.
      const plain = cli(['connect', `${first.url}/hop-other`, '-x', 'hi']);
      expect(await plain.exit).toBe(1);
      expect(plain.stderr.join('\n')).toMatch(/WSM_ERR_HANDSHAKE.*302/);
      expect(other.seen).toHaveLength(1);
    } finally {
      await first.close();
      await other.close();
    }
  });
});

describe('slash commands (piped stdin)', () => {
  it('/ping and /pong send control frames with their data (-P shows the answer); /close sends its code and reason', async () => {
    const frames: string[] = [];
    let frameSeen: () => void = () => {};
    const server = await startWsServer({
      echo: true,
      onConnection: (c) => {
        c.socket.on('ping', (d) => {
          frames.push(`ping ${d}`);
          frameSeen();
        });
        c.socket.on('pong', (d) => {
          frames.push(`pong ${d}`);
          frameSeen();
        });
      },
    });
    const nextFrame = () =>
      new Promise<void>((resolve) => {
        frameSeen = resolve;
      });
    const run = cli(['connect', server.url, '-P', '--no-heartbeat']);
    await run.line(/connected: session 1/, 'stderr');
    let seen = nextFrame();
    run.child.stdin.write('/ping p-data\n');
    await seen;
    await run.line(/^< received pong \(data: "p-data"\)$/);
    seen = nextFrame();
    run.child.stdin.write('/pong unsolicited\n');
    await seen;
    expect(frames).toEqual(['ping p-data', 'pong unsolicited']);
    run.child.stdin.write('/close 4001 bye now\n');
    expect(await run.exit).toBe(0);
    expect(await server.waitForClosed(0)).toEqual({ code: 4001, reason: 'bye now' });
    expect(run.stdout).toContain('> ping (data: "p-data")');
    expect(run.stdout).toContain('> pong (data: "unsolicited")');
    expect(run.stderr.join('\n')).toMatch(/closed 4001 "bye now"/);
  });

  it('a close code a client may not send, or a bad command, changes nothing: the session goes on', async () => {
    const server = await startWsServer({ echo: true });
    const run = cli(['connect', server.url]);
    await run.line(/connected: session 1/, 'stderr');
    run.child.stdin.write('/close 1006\n/close soon\n/nope\n/stats\nstill here\n');
    await run.line(/^< still here$/);
    const stderr = run.stderr.join('\n');
    expect(stderr).toMatch(/error \/close: WSM_ERR_INVALID_CLOSE/);
    expect(stderr).toMatch(/error \/close: the code must be a number/);
    expect(stderr).toMatch(/error unknown command \/nope; commands: \/ping/);
    expect(stderr).toMatch(/"messagesOut":0/);
    run.child.stdin.write('/quit\n');
    expect(await run.exit).toBe(0);
    expect(await server.waitForClosed(0)).toEqual({ code: 1000, reason: '' });
  });

  it('--json: /ping and -P frames are events', async () => {
    const server = await startWsServer({ echo: true });
    const run = cli(['connect', server.url, '--json', '-P', '--no-heartbeat']);
    await run.line(/"event":"open"/);
    run.child.stdin.write('/ping j\n');
    await run.line(/"event":"control","frame":"pong","direction":"in","data":"j"/);
    run.child.stdin.end();
    expect(await run.exit).toBe(0);
    const events = run.stdout.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events.filter((e) => e.event === 'control')).toMatchObject([
      { frame: 'ping', direction: 'out', data: 'j' },
      { frame: 'pong', direction: 'in', data: 'j' },
    ]);
  });
});

describe('usage errors', () => {
  it('are one line that says what is wrong and where the help is, with balanced quotes; exit 2', {
    timeout: 60_000,
  }, async () => {
    const cases: Array<[string[], RegExp]> = [
      [
        ['connect', 'ws://127.0.0.1:1', '--foo'],
        /^wsmachine connect: unknown option --foo; see wsmachine connect --help$/,
      ],
      [
        ['connect', 'ws://127.0.0.1:1', '-x'],
        /^wsmachine connect: --exec needs a value; see wsmachine connect --help$/,
      ],
      [['connect', 'ws://127.0.0.1:1', '--json=yes'], /^wsmachine connect: --json takes no value; see/],
      [
        ['connect', 'ftp://x'],
        /^wsmachine connect: url: got "ftp:\/\/x\/", expected a ws:\/\/ or wss:\/\/ URL/,
      ],
      [['connect', 'ws://127.0.0.1:1', '-w', '2'], /^wsmachine connect: --wait goes with -x\/--execute; see/],
      [['serve', '--bogus'], /^wsmachine serve: unknown option --bogus; see wsmachine serve --help$/],
      [['demo', 'extra'], /^wsmachine demo: unexpected argument "extra"; see wsmachine demo --help$/],
      [['fly'], /^wsmachine: unknown command "fly"; see wsmachine --help$/],
    ];
    const runs = cases.map(([args]) => cli(args));
    for (const [i, run] of runs.entries()) {
      expect(await run.exit).toBe(2);
      expect(run.stdout).toEqual([]);
      expect(run.stderr).toHaveLength(1);
      const line = run.stderr[0]!;
      expect(line).toMatch(cases[i]![1]);
      expect(line.split('"').length % 2, line).toBe(1);
      expect(line.split("'").length % 2, line).toBe(1);
    }
  });
});

describe('--no-color', () => {
  it('every command accepts it', { timeout: 60_000 }, async () => {
    const commands = ['connect', 'serve', 'demo', 'inspect'];
    const runs = commands.map((command) => cli([command, '--no-color', '--help']));
    for (const [i, run] of runs.entries()) {
      expect(await run.exit, commands[i]).toBe(0);
      expect(run.stdout.join('\n')).toMatch(/--no-color/);
    }
  });

  it('wins over FORCE_COLOR, after the command or before it', async () => {
    const s = await demoServer();
    const forced = { FORCE_COLOR: '1' };
    const coloured = cli(['connect', s.echoUrl, '-x', 'c'], forced);
    expect(await coloured.exit).toBe(0);
    expect(coloured.stdout.join('\n')).toContain(ESC);
    for (const args of [
      ['connect', s.echoUrl, '-x', 'c', '--no-color'],
      ['--no-color', 'connect', s.echoUrl, '-x', 'c'],
    ]) {
      const plain = cli(args, forced);
      expect(await plain.exit).toBe(0);
      expect(plain.stdout).toEqual(['> c', '< c']);
      expect(plain.stderr.join('\n')).not.toContain(ESC);
    }
    const serve = cli(['serve', '--port', '0', '--no-color'], forced);
    const listening = await serve.line(/listening on/);
    expect(listening).not.toContain(ESC);
    serve.child.kill('SIGTERM');
    expect(await serve.exit).toBe(0);
  });
});
