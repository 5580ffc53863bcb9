/**
 * `wsmachine connect`'s TLS flags, wscat's spelling (issue 16, item 10): `--ca`, `--cert`, `--key`,
 * `--passphrase` (with a value, and bare: asked for on the terminal, in tmux) and `-n`, against a
 * Node `https` server with a `ws` server on 127.0.0.1 that requires a client certificate. The
 * certificates are made at test time with Debian's `openssl`: a self-signed server certificate for
 * DNS:localhost, and a self-signed client certificate whose key is encrypted with a passphrase.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import type net from 'node:net';
import type { TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { OPENSSL, requireOpenssl } from '../faults/peers.js';
import { cleanupCli, cli, root } from '../helpers/cli.js';
import { closeTerminals, requireTmux, startTerminal } from '../helpers/tmux.js';

const PASSPHRASE = 'open sesame';
let dir = '';
const file = (name: string) => join(dir, name);

/** A self-signed certificate for `subject`; its key encrypted with `passphrase` when one is given. */
function certificate(name: string, subject: string, san: string | undefined, passphrase?: string): void {
  execFileSync(
    OPENSSL,
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      ...(passphrase === undefined ? ['-nodes'] : ['-passout', `pass:${passphrase}`]),
      '-keyout',
      file(`${name}.key`),
      '-out',
      file(`${name}.pem`),
      '-days',
      '1',
      '-subj',
      subject,
      ...(san === undefined ? [] : ['-addext', `subjectAltName=${san}`]),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
}

beforeAll(() => {
  requireOpenssl();
  requireTmux();
  dir = mkdtempSync(join(tmpdir(), 'wsm-cli-tls-'));
  certificate('server', '/CN=localhost', 'DNS:localhost');
  certificate('client', '/CN=wsm-cli-client', undefined, PASSPHRASE);
});

const closers: Array<() => Promise<void>> = [];

afterEach(async () => {
  await cleanupCli();
  await closeTerminals();
  await Promise.allSettled(closers.splice(0).map((c) => c()));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/**
 * A `wss` echo server on 127.0.0.1 (reached as `localhost`, the certificate's name); with
 * `clientCertificate`, the TLS handshake requires the client certificate made above. Records the
 * common name of the client certificate of each WebSocket connection.
 */
async function tlsServer(options: { clientCertificate: boolean }) {
  const clients: string[] = [];
  const server = https.createServer({
    key: readFileSync(file('server.key')),
    cert: readFileSync(file('server.pem')),
    ...(options.clientCertificate
      ? { requestCert: true, rejectUnauthorized: true, ca: readFileSync(file('client.pem')) }
      : {}),
  });
  const wss = new WebSocketServer({ server });
  const sockets = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('tlsClientError', () => {});
  wss.on('connection', (ws, req) => {
    const peer = (req.socket as TLSSocket).getPeerCertificate();
    clients.push(String(peer?.subject?.CN ?? '(no certificate)'));
    ws.on('message', (d) => ws.send(d.toString()));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(async () => {
    for (const c of wss.clients) c.terminate();
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { url: `wss://localhost:${(server.address() as net.AddressInfo).port}`, clients };
}

describe('wsmachine connect over TLS', () => {
  it('--ca trusts the server; --cert, --key and --passphrase present the client certificate', async () => {
    const server = await tlsServer({ clientCertificate: true });
    const tlsFlags = ['--ca', file('server.pem'), '--cert', file('client.pem'), '--key', file('client.key')];
    const run = cli(['connect', server.url, ...tlsFlags, '--passphrase', PASSPHRASE, '-x', 'over tls']);
    expect(await run.exit, run.stderr.join('\n')).toBe(0);
    expect(run.stdout).toEqual(['> over tls', '< over tls']);
    expect(server.clients).toEqual(['wsm-cli-client']);

    const wrong = cli(['connect', server.url, ...tlsFlags, '--passphrase', 'not it', '-x', 'x']);
    expect(await wrong.exit).toBe(1);
    // OpenSSL names a wrong passphrase by what the garbage key fails at: its padding ("bad decrypt"),
    // or, when the padding passes by chance (about 1 in 256), its parsing ("unsupported").
    expect(wrong.stderr.join('\n')).toMatch(/WSM_ERR_START.*(bad decrypt|DECODER routines::unsupported)/);
    expect(server.clients).toHaveLength(1);
  });

  it('without --ca a self-signed server fails with WSM_ERR_TLS; -n connects anyway, and says it is insecure', async () => {
    const server = await tlsServer({ clientCertificate: false });
    const checked = cli(['connect', server.url, '-x', 'x']);
    expect(await checked.exit).toBe(1);
    expect(checked.stderr.join('\n')).toMatch(/WSM_ERR_TLS.*self[- ]signed/i);
    expect(server.clients).toEqual([]);

    const unchecked = cli(['connect', server.url, '-n', '-x', 'trusting']);
    expect(await unchecked.exit).toBe(0);
    expect(unchecked.stdout).toEqual(['> trusting', '< trusting']);
    expect(unchecked.stderr[0]).toMatch(/certificate checks are off \(-n\)/);
    expect(server.clients).toEqual(['(no certificate)']);
  });

  it('a bare --passphrase is asked for on the terminal, and not shown as it is typed (tmux)', async () => {
    const server = await tlsServer({ clientCertificate: true });
    const term = await startTerminal(
      [
        process.execPath,
        '--import',
        'tsx',
        'src/cli/main.ts',
        'connect',
        server.url,
        '--ca',
        file('server.pem'),
        '--cert',
        file('client.pem'),
        '--key',
        file('client.key'),
        '--passphrase',
        '--no-heartbeat',
      ],
      { cwd: root },
    );
    await term.waitFor(/^Passphrase:$/m);
    await term.type(PASSPHRASE);
    const typing = await term.screen();
    expect(typing).not.toContain('sesame');
    await term.press('Enter');
    const screen = await term.waitFor(/● open · session 1 · attempt 0 >$/);
    expect(screen).not.toContain('sesame');
    expect(server.clients).toEqual(['wsm-cli-client']);
    await term.typeLine('hello over tls');
    await term.waitFor(/^< hello over tls$/m);
    await term.press('C-d');
    expect(await term.exited()).toBe(0);
  });
});
