/**
 * `wsmachine connect <url>`: an interactive client like wscat, with wsmachine underneath. A live
 * status line (state, session, attempt, countdown to the next dial, last RTT), typed lines are sent,
 * messages are printed with direction markers; `--json` prints every event as JSON Lines, `--exec`
 * sends once, prints the replies and exits.
 */
import { parseArgs } from 'node:util';
import { createInterface } from 'node:readline';
import {
  type ClientOptions,
  type ClientState,
  type Data,
  type SendResult,
  type WsClient,
  createClient,
} from '../node.js';
import { UsageError, headerFlags, intFlag, usage } from './args.js';
import { formatClose, formatData, formatError, formatMs, paintState, toJsonValue } from './format.js';
import { type Io, type Printer, PromptScreen, Screen, colorsFor } from './terminal.js';

export const CONNECT_HELP = `Usage: wsmachine connect <url> [options]

Connects, prints what arrives ("<") and sends what you type (">"). Reconnects with jittered backoff;
the status line shows the state, the session id, the attempt, the countdown to the next dial and the
last ping round trip.

Options:
  -H, --header "Name: value"  upgrade request header (repeatable)
  -s, --subprotocol <name>    subprotocol to offer (repeatable)
  --heartbeat <ms>            protocol ping interval (default 30000)
  --no-heartbeat              do not ping
  --no-reconnect              do not reconnect when the connection drops
  --reconnect-delay <ms>      cap of the first reconnect delay (default 1000)
  -x, --exec <message>        send this once connected (repeatable), print the replies, exit
  --replies <n>               with --exec: replies to wait for (default: one per message)
  --wait <ms>                 with --exec: give up after this long (default 5000, exit code 1)
  --json                      every event as one JSON object per line, on stdout (for scripts)
  -h, --help                  this help

While connected: /restart, /stats, /quit (or Ctrl-D / Ctrl-C). Start a line with // to send a "/".
Colour follows NO_COLOR / FORCE_COLOR and is off when the output is not a terminal.
`;

/** Runs `connect`; resolves with the exit code. */
export async function connect(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = usage(() =>
    parseArgs({
      args: argv,
      options: {
        header: { type: 'string', short: 'H', multiple: true },
        subprotocol: { type: 'string', short: 's', multiple: true },
        heartbeat: { type: 'string' },
        'no-heartbeat': { type: 'boolean' },
        'no-reconnect': { type: 'boolean' },
        'reconnect-delay': { type: 'string' },
        exec: { type: 'string', short: 'x', multiple: true },
        replies: { type: 'string' },
        wait: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: true,
    }),
  );
  if (values.help) {
    io.stdout.write(CONNECT_HELP);
    return 0;
  }
  const url = positionals[0];
  if (url === undefined)
    throw new UsageError('connect needs a URL, e.g. wsmachine connect ws://127.0.0.1:8080');
  if (positionals.length > 1) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[1])}`);

  const heartbeatMs = intFlag('heartbeat', values.heartbeat, 1, 86_400_000);
  const reconnectDelay = intFlag('reconnect-delay', values['reconnect-delay'], 0, 3_600_000);
  const execs = values.exec ?? [];
  const replies = intFlag('replies', values.replies, 0, 1_000_000) ?? execs.length;
  const waitMs = intFlag('wait', values.wait, 1, 86_400_000) ?? 5_000;
  const headers = headerFlags(values.header);

  const options: ClientOptions = {
    url,
    ...(values.subprotocol === undefined ? {} : { protocols: values.subprotocol }),
    ...(headers === undefined ? {} : { headers }),
    heartbeat: values['no-heartbeat'] ? false : heartbeatMs === undefined ? {} : { intervalMs: heartbeatMs },
    reconnect: values['no-reconnect']
      ? false
      : reconnectDelay === undefined
        ? {}
        : { baseDelayMs: reconnectDelay },
  };
  let client: WsClient;
  try {
    client = createClient(options);
  } catch (error) {
    throw new UsageError(formatError(error));
  }
  const session = new ConnectSession(client, io, {
    json: values.json === true,
    interactive: execs.length === 0,
  });
  return execs.length > 0 ? session.exec(execs, replies, waitMs) : session.interactive();
}

interface SessionOptions {
  json: boolean;
  interactive: boolean;
}

/** One run of `connect`: output for every client event, plus the exec or interactive loop. */
class ConnectSession {
  private readonly c;
  private readonly cErr;
  private printer: Printer;
  private readonly tty: boolean;
  private nextDialAt: number | undefined;
  private lastRtt: number | undefined;
  private ticker: NodeJS.Timeout | undefined;
  private stoppedError: unknown;
  /** The last session that opened: a close of any other session is a failed dial. */
  private openedSession = 0;
  private stopped!: Promise<void>;

  constructor(
    private readonly client: WsClient,
    private readonly io: Io,
    private readonly options: SessionOptions,
  ) {
    const plain = { isTTY: false };
    this.c = colorsFor(options.json ? plain : io.stdout, io.env);
    this.cErr = colorsFor(options.json ? plain : io.stderr, io.env);
    this.tty = !options.json && options.interactive && io.stdin.isTTY === true && io.stdout.isTTY === true;
    this.printer = new Screen(io.stdout, false);
    this.listen();
  }

  /** JSON Lines: one object per event. */
  private emit(event: string, payload: object = {}): void {
    this.io.stdout.write(
      `${JSON.stringify({ ts: new Date().toISOString(), event, ...(toJsonValue(payload) as object) })}\n`,
    );
  }

  /** A lifecycle note: above the prompt on a TTY, else on stderr (stdout stays messages only). */
  private note(text: string): void {
    if (this.options.json) return;
    if (this.tty) this.printer.print(text);
    else this.io.stderr.write(`${text}\n`);
  }

  private get n() {
    return this.tty ? this.c : this.cErr;
  }

  private listen(): void {
    const client = this.client;
    const json = this.options.json;
    client.on('state', (e) => {
      if (json) this.emit('state', e);
      if (e.to !== 'reconnecting') this.nextDialAt = undefined;
      this.refresh();
    });
    client.on('connecting', (e) => {
      if (json) this.emit('connecting', e);
    });
    client.on('open', (e) => {
      this.openedSession = e.sessionId;
      if (json) this.emit('open', e);
      else
        this.note(
          `${this.n.green('*')} connected: session ${e.sessionId}${e.restarting ? ' (reconnected)' : ''}${e.protocol ? `, subprotocol ${e.protocol}` : ''}`,
        );
    });
    client.on('message', (m) => {
      if (json)
        this.emit('message', {
          direction: 'in',
          sessionId: m.sessionId,
          binary: m.binary,
          data: m.binary ? Buffer.from(m.data as Uint8Array).toString('base64') : m.data,
          ...(m.binary ? { encoding: 'base64' } : {}),
        });
      else this.printer.print(`${this.c.cyan('<')} ${formatData(m.data, m.binary)}`);
    });
    client.on('close', (e) => {
      if (json) this.emit('close', e);
      else if (e.sessionId !== this.openedSession)
        this.note(
          `${this.n.yellow('*')} dial failed: ${e.error === undefined ? formatClose(e.code, e.reason) : formatError(e.error)}`,
        );
      else
        this.note(
          `${this.n.yellow('*')} closed ${formatClose(e.code, e.reason)} (${e.class})${isDialError(e.error) ? `: ${formatError(e.error)}` : ''}`,
        );
    });
    client.on('reconnecting', (e) => {
      if (json) this.emit('reconnecting', e);
      this.nextDialAt = Date.now() + e.delayMs;
      if (!json)
        this.note(`${this.n.yellow('*')} reconnecting: attempt ${e.attempt} in ${formatMs(e.delayMs)}`);
      this.startTicker();
    });
    client.on('error', (error) => {
      if (json) this.emit('error', { error });
      else if (!isDialError(error)) this.note(`${this.n.red('error')} ${formatError(error)}`);
    });
    client.on('ping', (e) => {
      if (json) this.emit('ping', e);
    });
    client.on('pong', (e) => {
      if (json) this.emit('pong', e);
      this.lastRtt = e.rttMs;
      this.refresh();
    });
    client.on('heartbeat-missed', (e) => {
      if (json) this.emit('heartbeat-missed', e);
      else this.note(`${this.n.red('*')} heartbeat missed (${e.missed})`);
    });
    client.on('undelivered', (e) => {
      if (json) this.emit('undelivered', e);
      else
        this.note(
          `${this.n.red('*')} ${e.messages.length} message(s) not delivered: ${formatError(e.reason)}`,
        );
    });
    this.stopped = new Promise<void>((resolve) => {
      client.on('stopped', (e) => {
        this.stoppedError = e.error;
        if (json) this.emit('stopped', e);
        else if (e.error !== undefined) this.note(`${this.n.red('*')} stopped: ${formatError(e.error)}`);
        else this.note(`${this.n.dim('*')} stopped`);
        resolve();
      });
    });
  }

  /** Redraws the status line (TTY only). */
  private refresh(): void {
    if (!this.tty) return;
    const c = this.c;
    const client = this.client;
    const state = client.state as ClientState;
    const parts = [`${state === 'open' ? c.green('●') : c.yellow('●')} ${paintState(c, state)}`];
    if (client.sessionId > 0) parts.push(`session ${client.sessionId}`);
    parts.push(`attempt ${client.attempt}`);
    if (state === 'reconnecting' && this.nextDialAt !== undefined)
      parts.push(`next dial in ${formatMs(Math.max(0, this.nextDialAt - Date.now()))}`);
    if (this.lastRtt !== undefined) parts.push(`rtt ${formatMs(this.lastRtt)}`);
    this.printer.status(parts.join(c.dim(' · ')));
  }

  /** Ticks the countdown while reconnecting (display only; the machine owns the real timer). */
  private startTicker(): void {
    if (!this.tty || this.ticker !== undefined) return;
    this.ticker = setInterval(() => {
      if (this.client.state !== 'reconnecting') {
        clearInterval(this.ticker);
        this.ticker = undefined;
      }
      this.refresh();
    }, 100);
    this.ticker.unref();
  }

  private sent(data: Data, result: SendResult): void {
    if (this.options.json) this.emit('send', { direction: 'out', data, result });
    else if (!this.tty)
      this.printer.print(
        `${this.c.magenta('>')} ${formatData(data as string, false)}${result === 'queued' ? this.c.dim(' (queued)') : ''}`,
      );
    else if (result === 'queued') this.note(this.c.dim('(queued until the connection opens)'));
  }

  private async start(): Promise<boolean> {
    try {
      await this.client.start();
      return true;
    } catch (error) {
      if (this.options.json) this.emit('start-failed', { error });
      else this.note(`${this.n.red('error')} ${formatError(error)}`);
      return false;
    }
  }

  /** `--exec`: send each message, wait for `replies` messages (at most `waitMs`), stop. */
  async exec(messages: string[], replies: number, waitMs: number): Promise<number> {
    if (!(await this.start())) return 1;
    let received = 0;
    let timer: NodeJS.Timeout | undefined;
    const done = new Promise<boolean>((resolve) => {
      if (replies === 0) return resolve(true);
      const off = this.client.on('message', () => {
        if (++received >= replies) {
          off();
          resolve(true);
        }
      });
      this.stopped.then(() => resolve(false));
      timer = setTimeout(() => resolve(false), waitMs);
    });
    for (const message of messages) {
      try {
        this.sent(message, this.client.send(message));
      } catch (error) {
        this.note(`${this.n.red('error')} ${formatError(error)}`);
      }
    }
    const ok = await done;
    clearTimeout(timer);
    if (!ok && this.client.state !== 'stopped')
      this.note(`${this.n.red('error')} got ${received} of ${replies} replies within ${formatMs(waitMs)}`);
    await this.client.stop();
    return ok ? 0 : 1;
  }

  /** Interactive: typed lines are sent until /quit, Ctrl-D, Ctrl-C, or the client stops by itself. */
  async interactive(): Promise<number> {
    const io = this.io;
    const rl = createInterface({
      input: io.stdin,
      ...(this.tty ? { output: io.stdout, terminal: true } : { terminal: false }),
    });
    if (this.tty) {
      this.printer = new PromptScreen(io.stdout, rl);
      this.refresh();
    }
    let quitting = false;
    const quit = () => {
      if (quitting) return;
      quitting = true;
      void this.client.stop();
    };
    const onSignal = () => quit();
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    rl.on('SIGINT', quit);
    // End of input (Ctrl-D, or the end of a pipe): let the dial finish so lines piped in are sent
    // (they were queued), then stop. Ctrl-C stops at once.
    let starting: Promise<boolean> | undefined;
    rl.on('close', () => {
      if (starting === undefined) quit();
      else void starting.then(quit);
    });
    rl.on('line', (line) => {
      if (line.startsWith('/') && !line.startsWith('//')) {
        this.command(line.trim(), quit);
        return;
      }
      const data = line.startsWith('//') ? line.slice(1) : line;
      if (data === '') return;
      try {
        this.sent(data, this.client.send(data));
      } catch (error) {
        this.note(`${this.n.red('error')} ${formatError(error)}`);
      }
    });
    starting = this.start();
    const started = await starting;
    if (started) await this.stopped;
    else quitting = true;
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    clearInterval(this.ticker);
    this.printer.close();
    rl.close();
    if (!started) return 1;
    return this.stoppedError === undefined ? 0 : 1;
  }

  private command(line: string, quit: () => void): void {
    switch (line) {
      case '/quit':
      case '/exit':
        quit();
        return;
      case '/restart':
        try {
          this.client.restart('restart from the CLI');
        } catch (error) {
          this.note(`${this.n.red('error')} ${formatError(error)}`);
        }
        return;
      case '/stats':
        this.note(JSON.stringify(this.client.stats()));
        return;
      default:
        this.note(`unknown command ${line}: use /restart, /stats or /quit (start with // to send a "/")`);
    }
  }
}

/** A failed dial or a dropped connection (refused, reset): shown once, on the close line, not again as an error. */
function isDialError(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'WSM_ERR_CONNECT';
}
