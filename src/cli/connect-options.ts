/**
 * The command line of `wsmachine connect`: its help, and argv turned into client options, `ws` options
 * and what to do (interactive, or send once). Accepts wscat's spellings as aliases (`-c`, a bare
 * `host:port`, `-x/--execute`, `-w <seconds>`, `-P`, `-o`, `--auth`, `--ca/--cert/--key/--passphrase`,
 * `-n`, `-L`, `--slash`), so a wscat habit works as typed.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { type ClientOptions, InvalidOptionsError, type WsClientOptions, describeValue } from '../node.js';
import { COLOR_OPTION, UsageError, headerFlags, intFlag, secondsFlag, usage } from './args.js';
import { readPassphrase } from './passphrase.js';
import type { Io } from './terminal.js';

export const CONNECT_HELP = `Usage: wsmachine connect <url> [options]
       wsmachine connect -c <url> [options]      (also: wsmachine -c <url>, as with wscat)

Connects, prints what arrives ("<") and sends what you type (">"). Reconnects with jittered backoff;
the status line shows the state, the session id, the attempt, the countdown to the next dial and the
last ping round trip. A URL without a scheme (host:port) means ws://host:port.

Connection:
  -c, --connect <url>         the URL, instead of the argument
  -H, --header "Name: value"  upgrade request header (repeatable)
  --auth <user:password>      HTTP basic authentication (sets the Authorization header)
  -o, --origin <origin>       the Origin header
  -s, --subprotocol <name>    subprotocol to offer (repeatable)
  -L, --location              follow redirects of the upgrade; Authorization and Cookie are dropped
                              when one leads to another host or port, or from wss: to ws:
  --max-redirects <n>         with -L: at most this many redirects (default 10)
  --heartbeat <ms>            protocol ping interval (default 30000)
  --no-heartbeat              do not ping
  --no-reconnect              do not reconnect when the connection drops
  --reconnect-delay <ms>      cap of the first reconnect delay (default 1000)

TLS (wss://):
  --ca <file>                 trust only the CA certificates in this PEM file
  --cert <file>               client certificate (PEM)
  --key <file>                the client certificate's private key (PEM)
  --passphrase [passphrase]   the key's passphrase; without a value it is asked for on the terminal
  -n, --no-check              do not verify the server's certificate (insecure: for testing only)

Sending once:
  -x, --execute <message>     send this once connected (repeatable; also --exec), print what
                              arrives, exit
  --replies <n>               exit once this many messages arrived (default: one per message sent)
  -w, --wait <seconds>        without --replies: print what arrives for this long, then exit 0
                              (as wscat does); with --replies: give up after this long, exit 1
                              (default 5)

Output:
  --json                      every event as one JSON object per line, on stdout (for scripts)
  -P, --show-ping-pong        print the ping and pong frames that arrive
  --no-color                  no colour (the same as NO_COLOR=1)
  -h, --help                  this help

While connected:
  /ping [data], /pong [data]  send a protocol ping or pong frame (data: the rest of the line,
                              at most 125 bytes)
  /close [code] [reason]      close with this code (default 1000) and reason, and exit
  /restart                    close this session and reconnect
  /stats                      the client's counters
  /quit                       stop and exit (also Ctrl-D, Ctrl-C)
Slash commands are always on (wscat's --slash is accepted). Start a line with // to send a "/".
Colour follows NO_COLOR / FORCE_COLOR and is off when the output is not a terminal.
`;

/** What `connect` was asked to do. */
export interface ConnectConfig {
  /** Client options, without the adapter (the session adds one that sees control frames). */
  client: ClientOptions;
  /** Options for `createWsAdapter`. */
  ws: WsClientOptions;
  /** Messages to send once (`-x`); empty for an interactive session. */
  execute: string[];
  /** With `-x`: exit after this many messages; `undefined` with `-w` alone: print for `waitMs`. */
  replies: number | undefined;
  /** With `-x`: how long to wait for the replies, or to print what arrives. */
  waitMs: number;
  json: boolean;
  showPingPong: boolean;
  /** `-n`: certificate checks are off (said once, on stderr). */
  insecure: boolean;
  noColor: boolean;
}

/** `host:port` and other scheme-less URLs get `ws://`, as in wscat. */
export function withScheme(url: string): string {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(url) ? url : `ws://${url}`;
}

/**
 * wscat's `--passphrase` may come without a value (then it is asked for): `parseArgs` cannot say
 * "optional value", so a bare `--passphrase` (last, or followed by another option) is rewritten first.
 */
function markPassphrasePrompt(argv: string[]): { args: string[]; prompt: boolean } {
  const end = argv.indexOf('--');
  const options = end === -1 ? argv : argv.slice(0, end);
  const i = options.findIndex(
    (arg, k) => arg === '--passphrase' && (k === options.length - 1 || options[k + 1]!.startsWith('-')),
  );
  if (i === -1) return { args: argv, prompt: false };
  return { args: [...argv.slice(0, i), ...argv.slice(i + 1)], prompt: true };
}

function readPem(flag: string, file: string | undefined): Buffer | undefined {
  if (file === undefined) return undefined;
  try {
    return readFileSync(file);
  } catch (error) {
    throw new UsageError(`--${flag}: cannot read ${JSON.stringify(file)} (${(error as Error).message})`);
  }
}

/** Parses `connect`'s argv; `undefined` means help was printed. May ask for a passphrase. */
export async function parseConnect(argv: string[], io: Io): Promise<ConnectConfig | undefined> {
  const { args, prompt } = markPassphrasePrompt(argv);
  const { values, positionals } = usage(() =>
    parseArgs({
      args,
      options: {
        connect: { type: 'string', short: 'c' },
        header: { type: 'string', short: 'H', multiple: true },
        auth: { type: 'string' },
        origin: { type: 'string', short: 'o' },
        subprotocol: { type: 'string', short: 's', multiple: true },
        location: { type: 'boolean', short: 'L' },
        'max-redirects': { type: 'string' },
        heartbeat: { type: 'string' },
        'no-heartbeat': { type: 'boolean' },
        'no-reconnect': { type: 'boolean' },
        'reconnect-delay': { type: 'string' },
        ca: { type: 'string' },
        cert: { type: 'string' },
        key: { type: 'string' },
        passphrase: { type: 'string' },
        'no-check': { type: 'boolean', short: 'n' },
        exec: { type: 'string', short: 'x', multiple: true },
        execute: { type: 'string', multiple: true },
        replies: { type: 'string' },
        wait: { type: 'string', short: 'w' },
        json: { type: 'boolean' },
        'show-ping-pong': { type: 'boolean', short: 'P' },
        slash: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        ...COLOR_OPTION,
      },
      allowPositionals: true,
    }),
  );
  if (values.help) {
    io.stdout.write(CONNECT_HELP);
    return undefined;
  }
  if (values.connect !== undefined && positionals.length > 0)
    throw new UsageError(`give the URL once: -c ${values.connect} or ${positionals[0]}, not both`);
  const rawUrl = values.connect ?? positionals[0];
  if (rawUrl === undefined)
    throw new UsageError('a URL is needed, e.g. wsmachine connect ws://127.0.0.1:8080');
  if (positionals.length > 1) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[1])}`);

  const execute = [...(values.exec ?? []), ...(values.execute ?? [])];
  if (execute.length === 0 && (values.wait !== undefined || values.replies !== undefined))
    throw new UsageError(`--${values.wait !== undefined ? 'wait' : 'replies'} goes with -x/--execute`);
  const heartbeatMs = intFlag('heartbeat', values.heartbeat, 1, 86_400_000);
  const reconnectDelay = intFlag('reconnect-delay', values['reconnect-delay'], 0, 3_600_000);
  const maxRedirects = intFlag('max-redirects', values['max-redirects'], 0, 100);
  if (maxRedirects !== undefined && !values.location) throw new UsageError('--max-redirects goes with -L');

  const headers = headerFlags(values.header) ?? {};
  if (values.auth !== undefined) {
    if (!values.auth.includes(':')) throw new UsageError('--auth must look like user:password');
    if (Object.keys(headers).some((h) => h.toLowerCase() === 'authorization'))
      throw new UsageError('give either --auth or an Authorization header, not both');
    headers.Authorization = `Basic ${Buffer.from(values.auth).toString('base64')}`;
  }

  const ws: WsClientOptions = {};
  if (values.origin !== undefined) ws.origin = values.origin;
  if (values.location) {
    ws.followRedirects = true;
    ws.maxRedirects = maxRedirects ?? 10;
  }
  if (values['no-check']) ws.rejectUnauthorized = false;
  const ca = readPem('ca', values.ca);
  const cert = readPem('cert', values.cert);
  const key = readPem('key', values.key);
  if (ca !== undefined) ws.ca = ca;
  if (cert !== undefined) ws.cert = cert;
  if (key !== undefined) ws.key = key;
  const passphrase = prompt ? await readPassphrase(io, 'Passphrase: ') : values.passphrase;
  if (passphrase !== undefined) ws.passphrase = passphrase;

  const client: ClientOptions = {
    url: withScheme(rawUrl),
    ...(values.subprotocol === undefined ? {} : { protocols: values.subprotocol }),
    ...(Object.keys(headers).length === 0 ? {} : { headers }),
    heartbeat: values['no-heartbeat'] ? false : heartbeatMs === undefined ? {} : { intervalMs: heartbeatMs },
    reconnect: values['no-reconnect']
      ? false
      : reconnectDelay === undefined
        ? {}
        : { baseDelayMs: reconnectDelay },
  };
  const replies = intFlag('replies', values.replies, 0, 1_000_000);
  return {
    client,
    ws,
    execute,
    replies: replies ?? (values.wait === undefined ? execute.length : undefined),
    waitMs: secondsFlag('wait', values.wait, 86_400) ?? 5_000,
    json: values.json === true,
    showPingPong: values['show-ping-pong'] === true,
    insecure: values['no-check'] === true,
    noColor: values['no-color'] === true,
  };
}

/** An options error from `createClient`, as one usage line. */
export function optionsUsageError(error: unknown): UsageError | undefined {
  if (!(error instanceof InvalidOptionsError)) return undefined;
  return new UsageError(
    error.problems
      .map((p) => `${p.option}: got ${describeValue(p.value)}, expected ${p.expected}`)
      .join('; '),
  );
}
