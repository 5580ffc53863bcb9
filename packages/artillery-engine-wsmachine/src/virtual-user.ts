/**
 * One Artillery virtual user: its wsmachine client, the inbox its `waitFor` steps read, and the
 * translation of the client's counters and events into Artillery metrics.
 */
import type { ClientOptions, ClientStats, Message, WsClient, createClient } from 'wsmachine';
import { Counters, Histograms, type MetricEvents } from './metrics.js';
import type { EngineSettings, KeyPaths } from './options.js';

/** The part of the `wsmachine` module the engine uses: its public API. */
export interface WsmachineModule {
  createClient: typeof createClient;
}

/** `stats()` fields reported as Artillery counters (as deltas, so many clients add up). */
const COUNTED: readonly (readonly [keyof ClientStats, string])[] = [
  ['sessions', Counters.SESSIONS],
  ['reconnects', Counters.RECONNECTS],
  ['messagesIn', Counters.MESSAGES_IN],
  ['messagesOut', Counters.MESSAGES_OUT],
  ['undelivered', Counters.UNDELIVERED],
];

interface InboxEntry {
  readonly seq: number;
  readonly message: Message;
}

/** Why a wait ended without its message; the step turns it into a StepError. */
export class WaitEnded extends Error {
  constructor(
    readonly reason: 'timeout' | 'stopped',
    cause?: unknown,
  ) {
    super(reason, { cause });
  }
}

/** One virtual user's client and bookkeeping; created per scenario run. */
export class VirtualUser {
  client: WsClient | undefined;
  /** Whether the current client stopped (by a `close` step, or for good on its own). */
  stopped = false;
  /** Where request keys are, from the options of the last `connect`. */
  keyPaths: KeyPaths | undefined;
  private readonly inbox: InboxEntry[] = [];
  private seq = 0;
  private keySeq = 0;
  private readonly reported = new Map<string, number>();
  private openSessionId: number | undefined;
  private closedAt: number | undefined;
  private stopError: unknown;
  /** Wakes the step waiting for a message or a lifecycle change. */
  private wake: (() => void) | undefined;
  private unsubscribe: (() => void)[] = [];

  constructor(
    private readonly wsm: WsmachineModule,
    private readonly ee: MetricEvents,
    private readonly settings: EngineSettings,
  ) {}

  /** The hooks the engine gives the client: unconsumed messages go to the inbox. */
  readonly hooks: NonNullable<ClientOptions['hooks']> = {
    onMessage: (message) => this.deliver(message),
  };

  /** A key for a request whose payload has none: unique for this virtual user, across its clients. */
  nextKey(): string {
    this.keySeq += 1;
    return String(this.keySeq);
  }

  /**
   * Creates the client and starts it; resolves once the first session is open.
   * @throws what `createClient` throws (bad options) and what `start()` rejects with (`StartError`).
   */
  async connect(options: ClientOptions): Promise<void> {
    const client = this.wsm.createClient(options);
    this.client = client;
    this.stopped = false;
    this.stopError = undefined;
    this.reported.clear();
    this.unsubscribe = [
      client.on('open', ({ sessionId }) => {
        this.openSessionId = sessionId;
        if (this.closedAt !== undefined) {
          this.ee.emit('histogram', Histograms.RECONNECT_DOWNTIME, performance.now() - this.closedAt);
          this.closedAt = undefined;
        }
        this.flush();
        this.notify();
      }),
      client.on('close', ({ sessionId }) => {
        if (sessionId === this.openSessionId) {
          this.openSessionId = undefined;
          this.closedAt = performance.now();
        }
        this.flush();
      }),
      // Listening also keeps the client from printing each reconnect failure of 1,000 users.
      client.on('error', (error) => this.ee.emit('counter', `${Counters.CLIENT_ERRORS}.${error.code}`, 1)),
      client.on('stopped', ({ error }) => {
        this.stopped = true;
        this.stopError = error;
        this.notify();
      }),
    ];
    const startedAt = performance.now();
    await client.start();
    this.ee.emit('histogram', Histograms.TIME_TO_OPEN, performance.now() - startedAt);
  }

  /** Emits the growth of the client's counters since the last flush. */
  flush(): void {
    if (!this.client) return;
    const stats = this.client.stats();
    for (const [field, metric] of COUNTED) {
      const now = stats[field] as number;
      const delta = now - (this.reported.get(field) ?? 0);
      if (delta > 0) this.ee.emit('counter', metric, delta);
      this.reported.set(field, now);
    }
  }

  /**
   * Stops the client (bounded by its `stopTimeoutMs`) and reports its last counts. A close code or
   * reason the client refuses (`InvalidCloseError`, nothing sent) still stops it, with the defaults,
   * and then rejects with that error: the client stops whatever happened.
   */
  async stop(options: { code?: number; reason?: string } = {}): Promise<void> {
    const client = this.client;
    if (!client) return;
    try {
      await client.stop(options).catch(async (error: unknown) => {
        await client.stop();
        throw error;
      });
    } finally {
      this.flush();
      for (const off of this.unsubscribe) off();
      this.unsubscribe = [];
      this.stopped = true;
      this.closedAt = undefined;
      this.notify();
    }
  }

  /** Why the client stopped on its own (`stopped` event), if it did. */
  get stoppedBecause(): unknown {
    return this.stopError;
  }

  /** Messages not consumed by a request, oldest first, bounded by `inboxSize`. */
  private deliver(message: Message): void {
    this.seq += 1;
    this.inbox.push({ seq: this.seq, message });
    if (this.inbox.length > this.settings.inboxSize) {
      this.inbox.shift();
      this.ee.emit('counter', Counters.INBOX_DROPPED, 1);
    }
    this.notify();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /**
   * The first inbox message after `cursor` (a sequence number; 0 for all) that `matches`, removed from
   * the inbox. Waits for new messages until `timeoutMs`.
   * @throws {WaitEnded} on timeout, or when the client stopped.
   */
  async takeMessage(matches: (m: Message) => Promise<boolean>, timeoutMs: number): Promise<Message> {
    let cursor = 0;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      this.notify();
    }, timeoutMs);
    try {
      for (;;) {
        const entry = this.inbox.find((e) => e.seq > cursor);
        if (entry) {
          cursor = entry.seq;
          if (await matches(entry.message)) {
            const at = this.inbox.indexOf(entry);
            if (at >= 0) this.inbox.splice(at, 1);
            return entry.message;
          }
          continue;
        }
        if (timedOut) throw new WaitEnded('timeout');
        if (this.stopped) throw new WaitEnded('stopped', this.stopError);
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
      }
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Resolves at the next `open` of the client (after a `restart()`).
   * @throws {WaitEnded} on timeout, or when the client stopped.
   */
  async nextOpen(timeoutMs: number): Promise<void> {
    const client = this.client;
    if (!client) throw new WaitEnded('stopped');
    let opened = false;
    let timedOut = false;
    const off = client.once('open', () => {
      opened = true;
    });
    const timer = setTimeout(() => {
      timedOut = true;
      this.notify();
    }, timeoutMs);
    try {
      for (;;) {
        if (opened) return;
        if (timedOut) throw new WaitEnded('timeout');
        if (this.stopped) throw new WaitEnded('stopped', this.stopError);
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
      }
    } finally {
      clearTimeout(timer);
      off();
    }
  }
}
