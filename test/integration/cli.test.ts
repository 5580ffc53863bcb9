/**
 * The `wsmachine` CLI (issue 8), run as a child process from the source (`node --import tsx
 * src/cli/main.ts`), against the demo server on 127.0.0.1 port 0: `connect --exec`, `--json`
 * (JSON Lines of every event, through a reconnect), headers and subprotocols, colour rules, `serve`
 * (SIGTERM closes clients with 1001), and `demo` running to completion with `lost: 0`.
 *
 * No sleeps: every wait is on an output line, a server event or the child's exit, with a guard
 * timeout that turns a hang into a readable failure.
 */
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { cleanupCli, cli, demoServer } from '../helpers/cli.js';

afterEach(cleanupCli);

const ESC = '\u001b[';

describe('wsmachine connect --exec', () => {
  it('sends once, prints the reply with direction markers, and exits 0', async () => {
    const s = await demoServer();
    const msg = '{"type":"echo_request","reqId":"1","data":"hi"}';
    const run = cli(['connect', s.url, '--exec', msg]);
    expect(await run.exit).toBe(0);
    expect(run.stdout).toEqual([
      `> ${msg}`,
      '< {"type":"echo_response","reqId":"1","status":"OK","data":"hi"}',
    ]);
    expect(run.stderr.join('\n')).toMatch(/connected: session 1/);
    expect(run.stderr.join('\n')).toMatch(/stopped/);
  });

  it('sends headers and offers subprotocols; --replies waits for that many messages', async () => {
    const s = await demoServer();
    const seen = new Promise<{ headers: Record<string, unknown>; protocol: string }>((res) =>
      s.on('connection', (e) => res({ headers: e.headers, protocol: e.protocol })),
    );
    const run = cli([
      'connect',
      s.url,
      '-H',
      'Authorization: Bearer t0ken',
      '-s',
      'demo.v1',
      '-x',
      '{"type":"subscribe_request","reqId":"s","topic":"heartbeat"}',
      '--replies',
      '3',
    ]);
    expect(await run.exit).toBe(0);
    const conn = await seen;
    expect(conn.headers.authorization).toBe('Bearer t0ken');
    expect(conn.protocol).toBe('demo.v1');
    expect(run.stderr.join('\n')).toMatch(/subprotocol demo\.v1/);
    const replies = run.stdout.filter((l) => l.startsWith('< ')).map((l) => JSON.parse(l.slice(2)));
    expect(replies.map((r) => r.type)).toEqual(['subscribe_response', 'heartbeat', 'heartbeat']);
  });

  it('exits 1 when the replies do not come within --wait', async () => {
    const s = await demoServer();
    const run = cli(['connect', s.echoUrl, '-x', 'ping?', '--replies', '2', '--wait', '0.5']);
    expect(await run.exit).toBe(1);
    expect(run.stdout).toEqual(['> ping?', '< ping?']);
    expect(run.stderr.join('\n')).toMatch(/got 1 of 2 replies/);
  });

  it('exits 1 with the typed error when it cannot connect, and 2 on a usage error', async () => {
    const s = await demoServer();
    const url = s.url;
    await s.kill();
    const run = cli(['connect', url, '-x', 'x']);
    expect(await run.exit).toBe(1);
    expect(run.stderr.join('\n')).toMatch(/WSM_ERR_START.*ECONNREFUSED/);

    const usage = cli(['connect']);
    expect(await usage.exit).toBe(2);
    expect(usage.stderr).toEqual([
      'wsmachine connect: a URL is needed, e.g. wsmachine connect ws://127.0.0.1:8080; see wsmachine connect --help',
    ]);
  });

  it('colours only when asked: FORCE_COLOR colours piped output, NO_COLOR wins over it', async () => {
    const s = await demoServer();
    const coloured = cli(['connect', s.echoUrl, '-x', 'c'], { FORCE_COLOR: '1' });
    expect(await coloured.exit).toBe(0);
    expect(coloured.stdout.join('\n')).toContain(ESC);
    const plain = cli(['connect', s.echoUrl, '-x', 'c'], { FORCE_COLOR: '1', NO_COLOR: '1' });
    expect(await plain.exit).toBe(0);
    expect(plain.stdout.join('\n')).not.toContain(ESC);
    expect(plain.stderr.join('\n')).not.toContain(ESC);
  });
});

describe('wsmachine connect --json', () => {
  it('--exec: one JSON object per line for every event, in lifecycle order', async () => {
    const s = await demoServer();
    const run = cli(['connect', s.url, '--json', '-x', '{"type":"echo_request","reqId":9,"data":[1,2]}']);
    expect(await run.exit).toBe(0);
    expect(run.stderr).toEqual([]);
    const events = run.stdout.map((l) => JSON.parse(l) as Record<string, any>);
    for (const e of events) expect(typeof e.ts).toBe('string');
    const names = events.map((e) => e.event);
    expect(names.filter((n) => n !== 'state' && n !== 'ping' && n !== 'pong')).toEqual([
      'connecting',
      'open',
      'send',
      'message',
      'close',
      'stopped',
    ]);
    const states = events.filter((e) => e.event === 'state').map((e) => `${e.from}>${e.to}`);
    expect(states).toEqual([
      'idle>connecting',
      'connecting>opening',
      'opening>open',
      'open>closing',
      'closing>stopped',
    ]);
    const message = events.find((e) => e.event === 'message')!;
    expect(message).toMatchObject({ direction: 'in', sessionId: 1, binary: false });
    expect(JSON.parse(message.data)).toEqual({ type: 'echo_response', reqId: 9, status: 'OK', data: [1, 2] });
    expect(events.find((e) => e.event === 'send')).toMatchObject({ direction: 'out', result: 'sent' });
    expect(events.find((e) => e.event === 'close')).toMatchObject({ code: 1000, class: 'normal' });
  });

  it('interactive with piped stdin: lines are sent, a server close shows as close + reconnecting + open', async () => {
    const s = await demoServer();
    const run = cli(['connect', s.url, '--json', '--reconnect-delay', '20']);
    await run.line(/"event":"open"/);
    run.child.stdin.write(
      '{"type":"fault_request","reqId":"f","fault":"close","code":4001,"reason":"bye"}\n',
    );
    await run.line(/"event":"close".*"code":4001/);
    await run.line(/"event":"reconnecting"/);
    await run.line(/"event":"open".*"restarting":true/);
    run.child.stdin.write('{"type":"echo_request","reqId":"again","data":"second session"}\n');
    await run.line(/second session/);
    run.child.stdin.end();
    expect(await run.exit).toBe(0);
    const events = run.stdout.map((l) => JSON.parse(l) as Record<string, any>);
    const reconnecting = events.find((e) => e.event === 'reconnecting')!;
    expect(reconnecting.attempt).toBe(1);
    expect(typeof reconnecting.delayMs).toBe('number');
    expect(events.at(-1)).toMatchObject({ event: 'stopped' });
    expect(events.filter((e) => e.event === 'send').map((e) => JSON.parse(e.data).reqId)).toEqual([
      'f',
      'again',
    ]);
  });
});

describe('wsmachine serve', () => {
  it('runs the demo server in the foreground; SIGTERM closes clients with 1001 and exits 0', async () => {
    const run = cli(['serve', '--port', '0', '--heartbeat-interval', '100']);
    const listening = await run.line(/listening on ws:\/\/127\.0\.0\.1:\d+/);
    const url = /ws:\/\/127\.0\.0\.1:\d+/.exec(listening)![0];
    const ws = new WebSocket(url);
    const reply = new Promise<string>((res) => ws.on('message', (d) => res(d.toString())));
    const closed = new Promise<number>((res) => ws.on('close', (code) => res(code)));
    ws.on('open', () => ws.send('{"type":"echo_request","reqId":"s1","data":"served"}'));
    expect(JSON.parse(await reply)).toMatchObject({ reqId: 's1', status: 'OK', data: 'served' });
    await run.line(/#1 connected/);
    run.child.kill('SIGTERM');
    expect(await closed).toBe(1001);
    expect(await run.exit).toBe(0);
    expect(run.stdout.join('\n')).toMatch(/closing 1 connection\(s\) with 1001/);
  });
});

describe('wsmachine demo', () => {
  it('runs to completion on its own, and its summary reports lost: 0', { timeout: 45_000 }, async () => {
    const started = performance.now();
    const run = cli(['demo', '--inspect']);
    // --inspect: the live inspector serves the page and streams this client while the demo runs.
    const inspectorLine = await run.line(/live inspector on http:\/\/127\.0\.0\.1:\d+\//);
    const inspectorUrl = inspectorLine.match(/http:\/\/127\.0\.0\.1:\d+\//)![0];
    expect(await fetch(inspectorUrl).then((r) => r.text())).toContain('wsmachine inspector');
    const code = await run.exit;
    const output = run.stdout.join('\n');
    expect(code, `${output}\n--- stderr:\n${run.stderr.join('\n')}`).toBe(0);
    expect(performance.now() - started).toBeLessThan(30_000);
    const summary = run.stdout.find((l) => l.startsWith('summary'));
    expect(summary).toMatch(
      /sessions: 2 · dials: [2-9]\d* · reconnects: [1-9]\d* · requests: \d+ ok, 2 failed .* messages: \d+ in, \d+ out .*lost: 0$/,
    );
    expect(output).toMatch(/close 1006/);
    expect(output).toMatch(/reconnecting: attempt 1, next dial in/);
    // Session numbers count sessions that opened (the summary's 2); failed dials are dials, not sessions.
    expect(output).toMatch(/open: session 1 \(dial 1\)/);
    expect(output).toMatch(/open: session 2 \(reconnected, dial [2-9]\d*\)/);
    expect(output).not.toMatch(/open: session [3-9]/);
    expect(output).toMatch(/heartbeat #\d+ on session 2 /);
    expect(output).toMatch(/WSM_ERR_CONNECTION_CLOSED/);
    expect(output).toMatch(/WSM_ERR_REQUEST_TIMEOUT/);
    expect(output.match(/delivered after the reopen/g)).toHaveLength(3);
    expect(output).toMatch(/re-subscribed at the reopen, before queued sends/);
    expect(output).toMatch(/subscription heartbeat resubscribing → subscribed/);
    expect(run.stderr).toEqual([]);
  });
});

describe('wsmachine inspect', () => {
  it('serves the inspector with an embedded demo server and client; SIGTERM stops it with exit 0', async () => {
    const run = cli(['inspect']);
    const line = await run.line(/^inspector on http:\/\/127\.0\.0\.1:\d+\//);
    const url = line.match(/http:\/\/127\.0\.0\.1:\d+\//)![0];
    expect(await fetch(url).then((r) => r.text())).toContain('wsmachine inspector');
    // The attached client reaches `open` on the stream the page reads.
    const events = await fetch(`${url}events`);
    const reader = events.body!.getReader();
    const decoder = new TextDecoder();
    let seen = '';
    while (!/"state":"open"/.test(seen)) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += decoder.decode(value);
    }
    expect(seen).toMatch(/"state":"open"/);
    await reader.cancel();
    run.child.kill('SIGTERM');
    expect(await run.exit).toBe(0);
  });
});

describe('wsmachine', () => {
  it('prints help and the version', async () => {
    const help = cli(['--help']);
    expect(await help.exit).toBe(0);
    expect(help.stdout.join('\n')).toMatch(
      /Commands:[\s\S]*demo[\s\S]*connect <url>[\s\S]*serve[\s\S]*inspect/,
    );
    const version = cli(['--version']);
    expect(await version.exit).toBe(0);
    expect(version.stdout[0]).toMatch(/^\d+\.\d+\.\d+/);
    const unknown = cli(['fly']);
    expect(await unknown.exit).toBe(2);
  });
});
