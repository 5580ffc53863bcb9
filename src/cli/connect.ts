/**
 * `wsmachine connect <url>`: an interactive client like wscat, with wsmachine underneath. A live
 * status line (state, session, attempt, countdown to the next dial, last RTT), typed lines are sent,
 * messages are printed with direction markers, slash commands steer the client; `--json` prints
 * every event as JSON Lines, `-x` sends once, prints the replies and exits. The command line is read
 * in connect-options.ts, the slash commands live in slash.ts.
 */
import { createInterface } from 'node:readline';
import {
  type ClientState,
  type CloseRequest,
  type Data,
  type SendResult,
  type WsClient,
  createClient,
  createWsAdapter,
} from '../node.js';
import { withColorFlag } from './args.js';
import { type ConnectConfig, optionsUsageError, parseConnect } from './connect-options.js';
import { formatClose, formatData, formatError, formatMs, paintState, toJsonValue } from './format.js';
import { type ControlFrame, type FrameTap, tapFrames } from './frames.js';
import { runSlash } from './slash.js';
import { type Io, type Printer, PromptScreen, Screen, colorsFor } from './terminal.js';

export { CONNECT_HELP } from './connect-options.js';

/** Runs `connect`; resolves with the exit code. */
export async function connect(argv: string[], baseIo: Io): Promise<number> {
  const config = await parseConnect(argv, baseIo);
  if (config === undefined) return 0;
  const io = withColorFlag(baseIo, config.noColor);
  let session: ConnectSession | undefined;
  const frames = tapFrames(createWsAdapter(config.ws), (kind, data) => session?.frameReceived(kind, data));
  let client: WsClient;
  try {
    client = createClient({ ...config.client, adapter: frames.adapter });
  } catch (error) {
    throw optionsUsageError(error) ?? error;
  }
  session = new ConnectSession(client, io, frames, config);
  if (config.insecure && !config.json)
    io.stderr.write(
      `${colorsFor(io.stderr, io.env).yellow('*')} certificate checks are off (-n): anyone on the path can read and change this connection\n`,
    );
  return config.execute.length > 0
    ? session.exec(config.execute, config.replies, config.waitMs)
    : session.interactive();
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

  private readonly json: boolean;
  /** `-x` got the replies it waited for: later messages are not printed. */
  private enough = false;

  constructor(
    private readonly client: WsClient,
    private readonly io: Io,
    private readonly frames: FrameTap,
    private readonly config: ConnectConfig,
  ) {
    const plain = { isTTY: false };
    this.json = config.json;
    this.c = colorsFor(config.json ? plain : io.stdout, io.env);
    this.cErr = colorsFor(config.json ? plain : io.stderr, io.env);
    const interactive = config.execute.length === 0;
    this.tty = !config.json && interactive && io.stdin.isTTY === true && io.stdout.isTTY === true;
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
    if (this.json) return;
    if (this.tty) this.printer.print(text);
    else this.io.stderr.write(`${text}\n`);
  }

  private get n() {
    return this.tty ? this.c : this.cErr;
  }

  private listen(): void {
    const client = this.client;
    const json = this.json;
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
          // Session numbers count sessions that opened (the id of a dial also counts failed dials).
          `${this.n.green('*')} connected: session ${this.client.stats().sessions}${e.restarting ? ' (reconnected)' : ''}${e.protocol ? `, subprotocol ${e.protocol}` : ''}`,
        );
      // The session is counted when it opens, after the state line was drawn for `open`.
      this.refresh();
    });
    client.on('message', (m) => {
      if (this.enough) return;
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
      this.nextDialAt = performance.now() + e.delayMs;
      if (!json)
        this.note(`${this.n.yellow('*')} reconnecting: attempt ${e.attempt} in ${formatMs(e.delayMs)}`);
      this.refresh(); // the countdown shows at once, not at the first tick
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

  /** A ping or pong frame arrived: shown with `-P` (wscat's "Received ping (data: ...)"). */
  frameReceived(kind: ControlFrame, data: Uint8Array): void {
    if (!this.config.showPingPong) return;
    const text = new TextDecoder().decode(data);
    if (this.json) this.emit('control', { frame: kind, direction: 'in', data: text });
    else this.printer.print(`${this.c.cyan('<')} received ${kind} (data: ${JSON.stringify(text)})`);
  }

  /** Redraws the status line (TTY only). */
  private refresh(): void {
    if (!this.tty) return;
    const c = this.c;
    const client = this.client;
    const state = client.state as ClientState;
    const parts = [`${state === 'open' ? c.green('●') : c.yellow('●')} ${paintState(c, state)}`];
    const sessions = client.stats().sessions;
    if (sessions > 0) parts.push(`session ${sessions}`);
    parts.push(`attempt ${client.attempt}`);
    if (state === 'reconnecting' && this.nextDialAt !== undefined)
      parts.push(`next dial in ${formatMs(Math.max(0, this.nextDialAt - performance.now()))}`);
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
    if (this.json) this.emit('send', { direction: 'out', data, result });
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
      if (this.json) this.emit('start-failed', { error });
      else this.note(`${this.n.red('error')} ${formatError(error)}`);
      return false;
    }
  }

  /**
   * `-x`: send each message, then wait for `replies` messages (at most `waitMs`; exit 1 without
   * them), or with `replies` undefined (`-w` alone, as wscat) print what arrives for `waitMs`.
   */
  async exec(messages: string[], replies: number | undefined, waitMs: number): Promise<number> {
    if (!(await this.start())) return 1;
    let received = 0;
    let timer: NodeJS.Timeout | undefined;
    const done = new Promise<boolean>((resolve) => {
      this.stopped.then(() => resolve(replies === undefined && this.stoppedError === undefined));
      timer = setTimeout(() => resolve(replies === undefined), waitMs);
      if (replies === undefined) return;
      if (replies === 0) return resolve(true);
      const off = this.client.on('message', () => {
        if (++received >= replies) {
          off();
          // `--replies n` prints n messages: one that arrives while the client stops is not a reply.
          this.enough = true;
          resolve(true);
        }
      });
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

  /** Interactive: typed lines are sent until /quit, /close, Ctrl-D, Ctrl-C, or the client stops by itself. */
  async interactive(): Promise<number> {
    const io = this.io;
    const rl = createInterface({
      input: io.stdin,
      ...(this.tty ? { output: io.stdout, terminal: true } : { terminal: false }),
    });
    const prompt = this.tty ? new PromptScreen(io.stdout, rl) : undefined;
    if (prompt !== undefined) {
      this.printer = prompt;
      this.refresh();
    }
    let quitting = false;
    const stop = async (request?: CloseRequest) => {
      if (quitting) return;
      quitting = true;
      try {
        await this.client.stop(request);
      } catch (error) {
        quitting = false; // an invalid close code changed nothing: the session goes on
        throw error;
      }
    };
    const quit = () => void stop().catch(() => {});
    const onSignal = () => quit();
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    rl.on('SIGINT', quit);
    // Lines that arrive before the first open (piped in, or typed while dialing) wait for it, so a
    // `/ping` or `/close` among them acts on the connection, in order with the messages around it.
    let early: string[] | undefined = [];
    // End of input (Ctrl-D, or the end of a pipe): let the dial finish and the early lines run, then
    // stop. Ctrl-C stops at once.
    let ready: Promise<boolean> | undefined;
    rl.on('close', () => {
      if (ready === undefined) quit();
      else void ready.then(quit);
    });
    const slash = {
      client: this.client,
      frames: this.frames,
      say: (text: string, event?: { event: string; [key: string]: unknown }) => {
        if (!this.json) this.note(text);
        else if (event !== undefined) {
          const { event: name, ...payload } = event;
          this.emit(name, payload);
        }
      },
      wire: (text: string, event: { event: string; [key: string]: unknown }) => {
        const { event: name, ...payload } = event;
        if (this.json) this.emit(name, payload);
        else this.printer.print(`${this.c.magenta('>')} ${text}`);
      },
      fail: (text: string) => {
        if (this.json) this.emit('command-error', { message: text });
        else this.note(`${this.n.red('error')} ${text}`);
      },
      stop,
    };
    const handle = (line: string) => {
      if (line.startsWith('/') && !line.startsWith('//')) {
        runSlash(line, slash);
        return;
      }
      const data = line.startsWith('//') ? line.slice(1) : line;
      if (data === '') return;
      try {
        this.sent(data, this.client.send(data));
      } catch (error) {
        this.note(`${this.n.red('error')} ${formatError(error)}`);
      }
    };
    rl.on('line', (line) => {
      if (prompt !== undefined) {
        const command = line.startsWith('/') && !line.startsWith('//');
        const data = line.startsWith('//') ? line.slice(1) : line;
        prompt.replaceEntered(
          line,
          command
            ? this.c.dim(line)
            : data === ''
              ? undefined
              : `${this.c.magenta('>')} ${formatData(data, false)}`,
        );
      }
      if (early === undefined) handle(line);
      else early.push(line);
    });
    ready = this.start().then((started) => {
      const lines = early ?? [];
      early = undefined;
      if (started) for (const line of lines) handle(line);
      return started;
    });
    const started = await ready;
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
}

/** A failed dial or a dropped connection (refused, reset): shown once, on the close line, not again as an error. */
function isDialError(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'WSM_ERR_CONNECT';
}
