/**
 * Model paths replayed against a real `ws` server on 127.0.0.1 with real faults (issue 7, section 3):
 * the server holds each HTTP upgrade until the path says accept or reject (401/503 from the upgrade
 * handler), closes with a code, or terminates the TCP connection. Time is real here, so the
 * configuration uses small timeouts and the sample keeps the waits short.
 *
 * The sample: every client state at least once, every server fault at least once, and as many
 * transitions as fit in the time budget, chosen greedily from the shortest paths.
 */
import { EventEmitter } from 'node:events';
import http from 'node:http';
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { type WebSocket, WebSocketServer } from 'ws';
import { stateOf } from '../../src/client.js';
import { type Session, type WsClient, createClient } from '../../src/node.js';
import type { ClientOptions } from '../../src/types.js';
import { gate, modelConfigOf, performClientCommand } from './harness.js';
import {
  type ModelEvent,
  type ModelState,
  type PathStep,
  clientStateOf,
  describeEvent,
  describePath,
  machineView,
  transitionKey,
  traverse,
} from './model.js';

/** Heartbeat off: a real server answers pings at once, so the heartbeat is the memory replay's job. */
const LOOPBACK_OPTIONS: Partial<ClientOptions> = {
  openTimeoutMs: 1_500,
  closeTimeoutMs: 400,
  stopTimeoutMs: 900,
  heartbeat: false,
  reconnect: {
    baseDelayMs: 250,
    maxDelayMs: 250,
    jitter: 'none',
    maxAttempts: 2,
    resetAfterMs: 60_000,
    retryOnStart: true,
  },
};

/** Real time the sample may spend waiting for timers, in total. */
const TIME_BUDGET_MS = 2_500;
/** A guard against a hang (not a way of waiting): each step settles in a few ms, timers in < 1 s. */
const STEP_GUARD_MS = 3_000;

const model = modelConfigOf('loopback', LOOPBACK_OPTIONS, 0);
const traversal = traverse(model, 6);

// -------------------------------------------------------------------------------------------------
// The sample

/** Actions that have no real counterpart on a ws server (they are replayed in memory only). */
const MEMORY_ONLY = new Set([
  'fault.dialThrows',
  'inbound.paused',
  'inbound.resumed',
  'inbound.buffer',
  'time.sleep',
]);

function isHandshakeWithOpenSocket(s: ModelState): boolean {
  return s.m.matches({ session: { closing: 'handshake' } } as never) && s.conn === 'open';
}

/** A real ws server answers a close frame at once: the model's "echo" step happens by itself. */
function realizable(steps: PathStep[]): boolean {
  return steps.every((s, i) => {
    const e = s.event;
    if (MEMORY_ONLY.has(e.type)) return false;
    // ws's own handshakeTimeout equals openTimeoutMs: which one fires first is not the model's business.
    if (e.advanceMs !== undefined && e.type.includes('openTimeout')) return false;
    if (isHandshakeWithOpenSocket(s.state)) return steps[i + 1]?.event.fault === 'echo';
    return true;
  });
}

function waitedMs(steps: PathStep[]): number {
  return steps.reduce((ms, s) => ms + (s.event.advanceMs ?? 0), 0);
}

function features(steps: PathStep[]): Set<string> {
  const f = new Set<string>();
  for (const s of steps) {
    f.add(`state:${clientStateOf(s.state)}`);
    if (s.event.fault !== undefined) f.add(`fault:${s.event.fault}`);
    for (const t of s.state.taken) f.add(t);
  }
  return f;
}

function chooseSample(): PathStep[][] {
  const candidates = traversal.all.filter((p) => p.length > 0 && realizable(p));
  const chosen: PathStep[][] = [];
  const have = new Set<string>();
  let budget = TIME_BUDGET_MS;
  const gain = (p: PathStep[]) => [...features(p)].filter((f) => !have.has(f));
  const required = (f: string) => f.startsWith('state:') || f.startsWith('fault:');
  for (;;) {
    let best: PathStep[] | undefined;
    let bestScore = 0;
    for (const p of candidates) {
      if (waitedMs(p) > budget) continue;
      const g = gain(p);
      if (g.length === 0) continue;
      const score = (g.filter(required).length * 10 + g.length) / (p.length + waitedMs(p) / 50);
      if (score > bestScore) {
        best = p;
        bestScore = score;
      }
    }
    if (best === undefined || chosen.length >= 24) break;
    chosen.push(best);
    budget -= waitedMs(best);
    for (const f of features(best)) have.add(f);
  }
  return chosen;
}

const sample = chooseSample();

// -------------------------------------------------------------------------------------------------
// The server: holds each upgrade until the path decides

class LoopbackServer {
  readonly bus = new EventEmitter();
  private readonly server = http.createServer((_req, res) => res.writeHead(426).end());
  private readonly wss = new WebSocketServer({ noServer: true });
  private pending: Array<{ req: http.IncomingMessage; socket: Duplex; head: Buffer }> = [];
  current: WebSocket | undefined;
  url = '';

  async start(): Promise<void> {
    this.server.on('upgrade', (req, socket, head) => {
      socket.on('error', () => {});
      const entry = { req, socket, head };
      socket.on('close', () => {
        this.pending = this.pending.filter((p) => p !== entry);
      });
      this.pending.push(entry);
      this.bus.emit('change');
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `ws://127.0.0.1:${(this.server.address() as net.AddressInfo).port}/`;
  }

  private async nextUpgrade() {
    await until(this.bus, () => this.pending.length > 0, 'an upgrade request at the server');
    return this.pending.shift()!;
  }

  async accept(): Promise<void> {
    const { req, socket, head } = await this.nextUpgrade();
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('error', () => {});
      this.current = ws;
    });
  }

  async reject(status: number): Promise<void> {
    const { socket } = await this.nextUpgrade();
    socket.end(
      `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`,
    );
  }

  live(): WebSocket {
    if (this.current === undefined) throw new Error('the path needs an open connection at the server');
    return this.current;
  }

  async close(): Promise<void> {
    for (const c of this.wss.clients) c.terminate();
    for (const p of this.pending) p.socket.destroy();
    this.wss.close();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Resolves when `predicate()` holds, re-checking on every `change`; the timeout only guards a hang. */
function until(bus: EventEmitter, predicate: () => boolean, label: string, timeoutMs = STEP_GUARD_MS) {
  if (predicate()) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    const check = () => {
      if (!predicate()) return;
      clearTimeout(timer);
      bus.off('change', check);
      resolve();
    };
    const timer = setTimeout(() => {
      bus.off('change', check);
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${label}`));
    }, timeoutMs);
    bus.on('change', check);
  });
}

// -------------------------------------------------------------------------------------------------
// The replay

class LoopbackReplay {
  readonly bus = new EventEmitter();
  readonly client: WsClient;
  private observed: string[] = [];
  private readonly window = new EventTarget();
  private readonly document = Object.assign(new EventTarget(), { visibilityState: 'visible' });
  private handle: Session | undefined;
  private storedExit: (() => void) | undefined;
  private openGate = gate<void>();
  private closeGate = gate<undefined>();
  private sectionGate: ReturnType<typeof gate<void>> | undefined;
  private disposing = false;

  constructor(readonly server: LoopbackServer) {
    this.client = createClient({
      url: server.url,
      ...LOOPBACK_OPTIONS,
      environment: { window: this.window, document: this.document },
      inspect: (event: any) => {
        if (event.type !== '@xstate.microstep') return;
        for (const t of event._transitions) this.observed.push(transitionKey(t));
        queueMicrotask(() => this.bus.emit('change'));
      },
      hooks: {
        onOpen: async (session) => {
          this.handle = session;
          this.openGate = gate<void>();
          await this.openGate.promise;
        },
        onClose: () => {
          if (this.disposing) return undefined;
          this.closeGate = gate<undefined>();
          return this.closeGate.promise;
        },
        onRestartError: (_error, { exit }) => {
          this.storedExit = exit;
        },
      },
    });
    this.client.on('error', () => {});
  }

  /** Lets every hook the path left waiting finish, then stops the client. */
  async dispose(): Promise<void> {
    this.disposing = true;
    this.openGate.resolve();
    this.closeGate.resolve(undefined);
    this.sectionGate?.resolve();
    await this.client.stop().catch(() => {});
  }

  takeObserved(): string[] {
    const taken = this.observed;
    this.observed = [];
    return taken;
  }

  async perform(event: ModelEvent, before: ModelState): Promise<void> {
    if (event.advanceMs !== undefined) return; // real time: the timer fires by itself
    if (
      performClientCommand(
        { client: this.client, handle: this.handle, storedExit: this.storedExit },
        event,
        before,
      )
    ) {
      return;
    }
    switch (event.type) {
      case 'socket.opened':
        return this.server.accept();
      case 'socket.closed':
        switch (event.fault) {
          case 'reject401':
            return this.server.reject(401);
          case 'reject503':
            return this.server.reject(503);
          case 'drop':
            this.server.live().terminate();
            return;
          case 'close1002':
            this.server.live().close(1002);
            return;
          case 'close4401':
            this.server.live().close(4401);
            return;
          case 'echo':
            return; // ws answers the client's close frame itself
        }
        throw new Error(`unknown fault ${String(event.fault)}`);
      case 'xstate.done.actor.openHook':
        this.openGate.resolve();
        return;
      case 'xstate.error.actor.openHook':
        this.openGate.reject(new Error('onOpen failed'));
        return;
      case 'xstate.done.actor.closeHook':
        this.closeGate.resolve(undefined);
        return;
      case 'flow.pause': {
        this.sectionGate?.resolve();
        const section = gate<void>();
        this.sectionGate = section;
        this.client.exclusive(() => section.promise).catch(() => {});
        return;
      }
      case 'flow.resume':
        this.sectionGate?.resolve();
        return;
      case 'env.offline':
      case 'env.online':
        this.window.dispatchEvent(new Event(event.type.slice(4)));
        return;
      case 'env.visible':
        this.document.dispatchEvent(new Event('visibilitychange'));
        return;
    }
    throw new Error(`no real action for ${event.type}`);
  }
}

let server: LoopbackServer | undefined;
let run: LoopbackReplay | undefined;

afterEach(async () => {
  await run?.dispose();
  await server?.close();
  run = undefined;
  server = undefined;
});

describe('model paths against a real ws server on 127.0.0.1', () => {
  it('the sample reaches every client state and every server fault', () => {
    const all = new Set<string>();
    for (const p of sample) for (const f of features(p)) all.add(f);
    for (const state of ['idle', 'connecting', 'opening', 'open', 'closing', 'reconnecting', 'stopped']) {
      if (state !== 'idle') expect(all, `the sample never reaches "${state}"`).toContain(`state:${state}`);
    }
    for (const fault of ['reject401', 'reject503', 'drop', 'close1002', 'close4401', 'echo']) {
      expect(all, `the sample never injects "${fault}"`).toContain(`fault:${fault}`);
    }
  });

  for (const steps of sample) {
    const title = steps.map((s) => describeEvent(s.event)).join(' → ');
    it(title, async () => {
      server = new LoopbackServer();
      await server.start();
      run = new LoopbackReplay(server);
      const replay = run;
      expect(replay.client.state).toBe('idle');
      let before = traversal.initial;
      for (let i = 0; i < steps.length; i++) {
        const step = steps[i]!;
        // The server's automatic answer to a close frame is the next step: expect both at once.
        const fused = steps[i + 1]?.event.fault === 'echo' ? steps[i + 1]! : undefined;
        const target = fused ?? step;
        const taken = [...step.state.taken, ...(fused?.state.taken ?? [])].sort();
        const where = () =>
          `step ${i + 1} (${describeEvent(step.event)})${fused ? ' + echo' : ''}:\n${describePath(steps)}`;
        await replay.perform(step.event, before);
        const expected = machineView(target.state.m, model.config);
        const seen: string[] = [];
        const reached = () => {
          seen.push(...replay.takeObserved());
          return (
            JSON.stringify(machineView(replay.client.actor.getSnapshot(), model.config)) ===
              JSON.stringify(expected) && seen.length >= taken.length
          );
        };
        await until(replay.bus, reached, `${JSON.stringify(expected.value)} at ${where()}`).catch((error) => {
          throw new Error(
            `${(error as Error).message}\nthe client is at ${JSON.stringify(replay.client.actor.getSnapshot().value)}, took ${JSON.stringify(seen)}`,
          );
        });
        expect(replay.client.state, where()).toBe(stateOf(target.state.m));
        expect([...seen].sort(), where()).toEqual(taken);
        before = target.state;
        if (fused) i++;
      }
    });
  }
});
