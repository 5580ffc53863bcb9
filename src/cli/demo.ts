/**
 * `wsmachine demo`: the main job in about 15 seconds. An embedded demo server and a wsmachine client;
 * the narration shows connect, request/response with timing, a heartbeat subscription, the server
 * killed and restarted on the same port (the client reconnects with a countdown), requests issued
 * during the outage delivered after the reopen or rejected with a typed error, and stop. It ends with
 * a summary whose `lost` is computed from the client's own accounting: requests that never settled,
 * sends reported undelivered, gaps in the heartbeat sequence of a session, and messages received but
 * not handled: reported `unhandled`, or neither handled by onMessage, a reply, nor reported.
 *
 * Timers here only pace the narration; every synchronisation waits on an event or a promise.
 */
import { parseArgs } from 'node:util';
import {
  type ClientState,
  type Message,
  type Session,
  type Subscription,
  type WsClient,
  createClient,
} from '../node.js';
import { type Inspector, createInspector } from '../inspector.js';
import { type DemoServer, startDemoServer } from '../server.js';
import { COLOR_OPTION, usage, withColorFlag } from './args.js';
import { DemoLedger } from './demo-ledger.js';
import { errorCode, formatClose, formatError, formatMs, paintState } from './format.js';
import { type Colors, type Io, Screen, colorsFor } from './terminal.js';

export const DEMO_HELP = `Usage: wsmachine demo

The main job in about 15 seconds, then it exits on its own: an embedded demo server and a wsmachine
client. Connect, request/response with timing, subscribe to heartbeats, the server is killed and
restarted on the same port (the client shows reconnecting with a countdown and reopens), requests
issued during the outage are delivered after the reopen or rejected with a typed error, stop.

Options:
  --inspect    also serve the live inspector (the statechart with the current state highlighted)
               and print its address, so the reconnect can be watched in a browser
  --no-color   no colour (the same as NO_COLOR=1)
  -h, --help   this help

The summary's "lost" comes from the client's own accounting: requests that never settled, sends
reported undelivered, gaps in a session's heartbeat sequence, and messages received but not handled
(each received message is handled, a reply, or reported unhandled). Exit code 0 when nothing was lost.
`;

/** Heartbeat publication interval of the embedded server. */
const HEARTBEAT_MS = 500;
/** How long the server stays dead. */
const OUTAGE_MS = 3_500;
/** Guard on every wait: a demo that cannot go on says so instead of hanging. */
const GUARD_MS = 15_000;

interface Tracked {
  reqId: string;
  sentAt: number;
  promise: Promise<Message>;
}

interface DemoReply {
  type?: string;
  reqId?: string;
  status?: string;
  data?: unknown;
  error?: { code: string; message: string };
  seq?: number;
  uptimeMs?: number;
}

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Rejects with a readable error when `promise` takes longer than the guard. */
function guard<T>(promise: Promise<T>, label: string, ms = GUARD_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`the demo gave up waiting for ${label} after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function parseJson(message: Message): unknown {
  if (message.binary) return undefined;
  try {
    return JSON.parse(message.data as string);
  } catch {
    return undefined;
  }
}

/** Runs the demo; resolves with the exit code (0 when nothing was lost). */
export async function demo(argv: string[], baseIo: Io): Promise<number> {
  const { values } = usage(() =>
    parseArgs({
      args: argv,
      options: { help: { type: 'boolean', short: 'h' }, inspect: { type: 'boolean' }, ...COLOR_OPTION },
      allowPositionals: false,
    }),
  );
  const io = withColorFlag(baseIo, values['no-color']);
  if (values.help) {
    io.stdout.write(DEMO_HELP);
    return 0;
  }
  const run = new DemoRun(io, values.inspect === true);
  try {
    return await run.play();
  } catch (error) {
    run.fail(error);
    return 1;
  } finally {
    await run.cleanup();
  }
}

class DemoRun {
  private readonly c: Colors;
  private readonly screen: Screen;
  private readonly t0 = performance.now();
  private server: DemoServer | undefined;
  private client: WsClient | undefined;
  private ticker: NodeJS.Timeout | undefined;
  private nextDialAt: number | undefined;
  private nextReq = 1;
  private openedSession = 0;
  /** Session numbers (1, 2, ... as sessions open) by the dial id events carry as `sessionId`. */
  private readonly sessionNumbers = new Map<number, number>();
  /** The client's own accounting, from request outcomes and heartbeat sequence numbers. */
  private readonly ledger = new DemoLedger();
  private heartbeatWaiters: Array<{ target: number; resolve: () => void }> = [];

  private readonly withInspector: boolean;
  private inspector: Inspector | undefined;

  constructor(io: Io, withInspector = false) {
    this.c = colorsFor(io.stdout, io.env);
    this.screen = new Screen(io.stdout);
    this.withInspector = withInspector;
  }

  // -----------------------------------------------------------------------------------------------
  // Output

  private stamp(): string {
    return this.c.dim(`${((performance.now() - this.t0) / 1000).toFixed(2).padStart(6)}s`);
  }

  private say(who: 'server' | 'client', text: string): void {
    const tag = who === 'server' ? this.c.magenta('server') : this.c.cyan('client');
    this.screen.print(`${this.stamp()}  ${tag}  ${text}`);
  }

  private step(title: string): void {
    this.screen.print('');
    this.screen.print(this.c.bold(title));
  }

  /** The live status line (TTY only): state, session, attempt, countdown to the next dial, RTT. */
  private refresh(): void {
    const client = this.client;
    if (!this.screen.live || client === undefined) return;
    const c = this.c;
    const state = client.state as ClientState;
    const parts = [`${state === 'open' ? c.green('●') : c.yellow('●')} ${paintState(c, state)}`];
    // Sessions count the connections that opened; a dial that failed is an attempt, not a session.
    const opened = client.stats().sessions;
    if (opened > 0) parts.push(`session ${opened}`);
    parts.push(`attempt ${client.attempt}`);
    if (state === 'reconnecting' && this.nextDialAt !== undefined)
      parts.push(`next dial in ${formatMs(Math.max(0, this.nextDialAt - performance.now()))}`);
    const rtt = client.stats().lastRttMs;
    if (rtt !== undefined) parts.push(`rtt ${formatMs(rtt)}`);
    this.screen.status(parts.join(c.dim(' · ')));
  }

  fail(error: unknown): void {
    this.screen.close();
    this.screen.print(`${this.c.red('demo failed:')} ${formatError(error)}`);
  }

  async cleanup(): Promise<void> {
    clearInterval(this.ticker);
    this.screen.close();
    await this.client?.stop().catch(() => {});
    await this.server?.kill().catch(() => {});
    await this.inspector?.close().catch(() => {});
  }

  // -----------------------------------------------------------------------------------------------
  // Requests, with the accounting

  private request(target: WsClient | Session, body: object, options: { timeoutMs?: number } = {}): Tracked {
    const reqId = `r${this.nextReq++}`;
    const data = JSON.stringify({ ...body, reqId });
    const sentAt = performance.now();
    const promise = target.request(data, { params: { reqId }, ...options });
    this.ledger.track(promise);
    return { reqId, sentAt, promise };
  }

  private since(t: number): string {
    return formatMs(performance.now() - t);
  }

  private describeReply(reply: Message): string {
    const r = reply.prepared as DemoReply;
    const what = r.status === 'OK' ? this.c.green('OK') : this.c.red(`ERROR ${r.error?.code ?? ''}`);
    return `${r.type} ${r.reqId} ${what}${r.data !== undefined ? ` ${JSON.stringify(r.data)}` : ''}`;
  }

  // -----------------------------------------------------------------------------------------------
  // Heartbeats

  private onHeartbeat(message: Message): void {
    const beat = message.prepared as DemoReply;
    const ledger = this.ledger;
    const session = this.sessionNumbers.get(message.sessionId) ?? '?';
    const seq = beat.seq ?? 0;
    ledger.heartbeat(message.sessionId, seq);
    this.say(
      'client',
      `${this.c.dim('<')} heartbeat #${seq} on session ${session} (connection up ${formatMs(beat.uptimeMs ?? 0)})`,
    );
    const count = ledger.heartbeats;
    this.heartbeatWaiters = this.heartbeatWaiters.filter((w) => {
      if (count < w.target) return true;
      w.resolve();
      return false;
    });
  }

  /** Resolves once `n` more heartbeats have arrived. */
  private heartbeats(n: number): Promise<void> {
    const target = this.ledger.heartbeats + n;
    return guard(
      new Promise<void>((resolve) => this.heartbeatWaiters.push({ target, resolve })),
      `${n} heartbeat(s)`,
    );
  }

  // -----------------------------------------------------------------------------------------------
  // The client, and what it reports

  private makeClient(server: DemoServer): WsClient {
    const client = createClient({
      url: server.url,
      prepare: parseJson,
      requests: {
        timeoutMs: 10_000,
        key: {
          request: (_data, params: { reqId: string }) => params.reqId,
          response: (m) => (m.prepared as DemoReply | undefined)?.reqId,
        },
      },
      reconnect: { baseDelayMs: 500, maxDelayMs: 2_000, resetAfterMs: 3_000 },
      heartbeat: { intervalMs: 1_000, timeoutMs: 1_000 },
      hooks: {
        onMessage: () => {
          // Heartbeats go to their subscription (subscribeHeartbeats), not here.
          this.ledger.handled++;
        },
      },
    });
    const c = this.c;
    client.on('state', ({ from, to }) => {
      if (to !== 'reconnecting') this.nextDialAt = undefined;
      this.say('client', `${c.dim('state')} ${paintState(c, from)} → ${paintState(c, to)}`);
      this.refresh();
    });
    client.on('open', (e) => {
      this.openedSession = e.sessionId;
      const session = client.stats().sessions;
      this.sessionNumbers.set(e.sessionId, session);
      this.say(
        'client',
        // The dial id (events' sessionId) beside it: dials that failed in between took ids too.
        `open: session ${session} (${e.restarting ? 'reconnected, ' : ''}dial ${e.sessionId})`,
      );
      // The session is counted when it opens, after the status line was drawn for `open`.
      this.refresh();
    });
    client.on('close', (e) => {
      if (e.sessionId !== this.openedSession)
        this.say(
          'client',
          `dial failed: ${e.error === undefined ? formatClose(e.code, e.reason) : formatError(e.error)}`,
        );
      else this.say('client', `close ${formatClose(e.code, e.reason)} ${c.dim(`(class: ${e.class})`)}`);
    });
    client.on('reconnecting', (e) => {
      this.nextDialAt = performance.now() + e.delayMs;
      this.say(
        'client',
        `reconnecting: attempt ${e.attempt}, next dial in ${formatMs(e.delayMs)} ${c.dim('(full-jitter backoff)')}`,
      );
      if (this.screen.live && this.ticker === undefined) {
        this.ticker = setInterval(() => this.refresh(), 100);
        this.ticker.unref();
      }
    });
    client.on('error', (error) => {
      // Failed dials are shown on their close line.
      if (error.code !== 'WSM_ERR_CONNECT') this.say('client', `${c.red('error')} ${formatError(error)}`);
    });
    client.on('undelivered', (e) =>
      this.say('client', `${c.red('undelivered')} ${e.messages.length} message(s): ${formatError(e.reason)}`),
    );
    client.on('pong', () => this.refresh());
    return client;
  }

  /**
   * The heartbeat topic as a subscription: described once, and the client subscribes it again after
   * every reopen (after onOpen, before queued sends). Its heartbeats go to it, not to onMessage.
   */
  private subscribeHeartbeats(client: WsClient): Subscription {
    const c = this.c;
    const sub = client.subscribe({
      name: 'heartbeat',
      subscribe: async (session, { resubscribing, lastMessage }) => {
        const reply = await this.request(session, { type: 'subscribe_request', topic: 'heartbeat' }).promise;
        const last = (lastMessage?.prepared as DemoReply | undefined)?.seq;
        this.say(
          'client',
          resubscribing
            ? `${c.dim('<')} ${this.describeReply(reply)} ${c.dim(`(re-subscribed at the reopen, before queued sends; last heartbeat seen #${last ?? '-'})`)}`
            : `${c.dim('<')} ${this.describeReply(reply)}`,
        );
        const r = reply.prepared as DemoReply;
        if (r.status !== 'OK') throw new Error(`the server refused: ${r.error?.code ?? 'no status'}`);
      },
      unsubscribe: async (session) => {
        const reply = await this.request(session, { type: 'unsubscribe_request', topic: 'heartbeat' })
          .promise;
        this.say('client', `${c.dim('<')} ${this.describeReply(reply)}`);
      },
      match: (m) => (m.prepared as DemoReply | undefined)?.type === 'heartbeat',
    });
    sub.on('state', ({ from, to }) =>
      this.say('client', `${c.dim('subscription heartbeat')} ${from} → ${to}`),
    );
    sub.on('message', (message) => {
      this.ledger.handled++;
      this.onHeartbeat(message);
    });
    return sub;
  }

  /** Resolves once `sub` is subscribed. */
  private subscribed(sub: Subscription): Promise<void> {
    return guard(
      new Promise<void>((resolve) => {
        if (sub.state === 'subscribed') return resolve();
        const off = sub.on('state', ({ to }) => {
          if (to !== 'subscribed') return;
          off();
          resolve();
        });
      }),
      'the subscription',
    );
  }

  private next<K extends 'open' | 'reconnecting'>(event: K, label: string): Promise<void> {
    const client = this.client!;
    return guard(
      new Promise<void>((resolve) => {
        const off = client.on(event, () => {
          off();
          resolve();
        });
      }),
      label,
    );
  }

  // -----------------------------------------------------------------------------------------------
  // The script

  async play(): Promise<number> {
    const c = this.c;
    this.screen.print(
      `${c.bold('wsmachine demo')}: a client, a server that dies, and an honest account of every request.`,
    );

    // 1. connect ----------------------------------------------------------------------------------
    this.step('1. connect');
    const server = await startDemoServer({ port: 0, heartbeatIntervalMs: HEARTBEAT_MS });
    this.server = server;
    this.say('server', `listening on ${c.cyan(server.url)} (demo protocol; raw echo on /echo)`);
    server.on('connection', (e) => this.say('server', `accepted connection #${e.id}`));
    const client = this.makeClient(server);
    this.client = client;
    if (this.withInspector) {
      this.inspector = await createInspector();
      this.inspector.attach(client, 'demo client');
      this.say(
        'client',
        `live inspector on ${c.cyan(this.inspector.url)} (open it now to watch the statechart)`,
      );
    }
    const startedAt = performance.now();
    await guard(client.start(), 'start()');
    this.say('client', `start() resolved: open in ${this.since(startedAt)}`);
    await pause(1_000);

    // 2. request/response -------------------------------------------------------------------------
    this.step('2. request/response (correlated by reqId in O(1))');
    for (const word of ['hello', 'from', 'wsmachine']) {
      const r = this.request(client, { type: 'echo_request', data: word });
      this.say('client', `${c.dim('>')} echo_request ${r.reqId} ${JSON.stringify(word)}`);
      const reply = await guard(r.promise, `the reply to ${r.reqId}`);
      this.say('client', `${c.dim('<')} ${this.describeReply(reply)} in ${this.since(r.sentAt)}`);
      await pause(400);
    }
    const bad = this.request(client, { type: 'echo_request', data: 'please fail', err: true });
    const badReply = await guard(bad.promise, `the reply to ${bad.reqId}`);
    this.say(
      'client',
      `${c.dim('<')} ${this.describeReply(badReply)} in ${this.since(bad.sentAt)} ${c.dim('(an error reply carries its reqId: it settles its own request)')}`,
    );
    await pause(1_000);

    // 3. subscribe ----------------------------------------------------------------------------------
    this.step(`3. subscribe to heartbeats (every ${formatMs(HEARTBEAT_MS)})`);
    const heartbeat = this.subscribeHeartbeats(client);
    await this.subscribed(heartbeat);
    await this.heartbeats(4);
    await pause(500);

    // 4. the server dies ----------------------------------------------------------------------------
    this.step('4. the server is killed');
    const hold = this.request(client, { type: 'fault_request', fault: 'delay', ms: 60_000 });
    await guard(hold.promise, 'the delay fault');
    this.say('client', `fault_request delay: the server now sits on its replies`);
    const inFlight = this.request(client, { type: 'echo_request', data: 'in flight' });
    await guard(
      new Promise<void>((resolve) => {
        const off = server.on('message', (e) => {
          if (typeof e.data === 'string' && e.data.includes(`"${inFlight.reqId}"`)) {
            off();
            resolve();
          }
        });
      }),
      'the server to receive the in-flight request',
    );
    this.say('client', `echo_request ${inFlight.reqId} is in flight: the server got it and holds the reply`);
    await pause(400);
    const reconnecting = this.next('reconnecting', 'the client to start reconnecting');
    const outageStart = performance.now();
    this.say('server', c.red('killed: every TCP connection dropped without a close frame, port closed'));
    await server.kill();
    const lostInFlight = await guard(
      inFlight.promise.then(
        () => undefined,
        (e: unknown) => e,
      ),
      `the outcome of ${inFlight.reqId}`,
    );
    this.say(
      'client',
      `${inFlight.reqId} rejected: ${c.yellow(errorCode(lostInFlight) ?? String(lostInFlight))} ${c.dim('(outcome unknown, and its caller is told so)')}`,
    );
    await reconnecting;

    // 5. requests during the outage -----------------------------------------------------------------
    this.step('5. requests issued during the outage');
    const queued = ['issued', 'while the server', 'is down'].map((word) =>
      this.request(client, { type: 'echo_request', data: word }),
    );
    this.say(
      'client',
      `${queued.map((q) => q.reqId).join(', ')} issued while ${client.state}: queued in the bounded send buffer (${client.stats().queuedSends} waiting)`,
    );
    const impatient = this.request(client, { type: 'echo_request', data: 'impatient' }, { timeoutMs: 1_000 });
    this.say('client', `${impatient.reqId} issued with timeoutMs 1000, shorter than the outage`);
    const timedOut = await guard(
      impatient.promise.then(
        () => undefined,
        (e: unknown) => e,
      ),
      `the outcome of ${impatient.reqId}`,
    );
    this.say(
      'client',
      `${impatient.reqId} rejected after ${this.since(impatient.sentAt)}: ${c.yellow(errorCode(timedOut) ?? String(timedOut))} ${c.dim('(its queued copy will never be sent)')}`,
    );
    const rest = OUTAGE_MS - (performance.now() - outageStart);
    if (rest > 0) await pause(rest);

    // 6. the server comes back ----------------------------------------------------------------------
    this.step('6. the server restarts on the same port');
    const reopened = this.next('open', 'the client to reopen');
    await server.restart();
    this.say('server', `listening again on ${c.cyan(server.url)} after ${this.since(outageStart)} down`);
    await reopened;
    for (const q of queued) {
      const reply = await guard(q.promise, `the reply to ${q.reqId}`);
      this.say(
        'client',
        `${c.dim('<')} ${this.describeReply(reply)} ${c.dim(`${this.since(q.sentAt)} after it was issued: delivered after the reopen`)}`,
      );
    }
    await this.heartbeats(3);
    await pause(500);

    // 7. stop -------------------------------------------------------------------------------------
    this.step('7. unsubscribe and stop');
    await guard(heartbeat.unsubscribe(), 'the unsubscription');
    await guard(client.stop(), 'stop()');
    clearInterval(this.ticker);
    this.ticker = undefined;
    this.screen.close();
    this.say('client', 'stop() resolved: closed with 1000, no timer or socket left behind');
    await server.close();
    this.say('server', 'closed');

    // Every request must have settled; give the last settlements their turn, then count.
    await guard(Promise.allSettled(this.ledger.promises), 'every request to settle', 2_000).catch(() => {});
    return this.summary();
  }

  private summary(): number {
    const { lines, lost } = this.ledger.summary(this.client!.stats(), this.c);
    this.screen.print('');
    for (const line of lines) this.screen.print(line);
    return lost === 0 ? 0 : 1;
  }
}
