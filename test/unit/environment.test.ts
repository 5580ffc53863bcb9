/**
 * The `environment` option in Node, with fake `window`/`document` objects (EventTargets) standing in
 * for the browser's: `offline` pauses reconnect attempts (the state stays `reconnecting`), `online`
 * attempts at once, and a tab becoming visible sends a heartbeat probe at once.
 *
 * The in-memory adapter plays the server and a SimulatedClock drives every delay, so "no dial while
 * offline" is proven by moving the clock far past the backoff delay, not by waiting.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Clock } from '../../src/core/types.js';
import { createClient } from '../../src/node.js';
import { type MemoryAdapter, createMemoryAdapter } from '../../src/testing.js';
import type { ClientOptions } from '../../src/types.js';
import { TestClock } from '../helpers/test-clock.js';

/** An EventTarget that counts its listeners (to check they are attached only while started). */
class FakeTarget extends EventTarget {
  listeners = 0;
  override addEventListener(...args: Parameters<EventTarget['addEventListener']>): void {
    this.listeners++;
    super.addEventListener(...args);
  }
  override removeEventListener(...args: Parameters<EventTarget['removeEventListener']>): void {
    this.listeners--;
    super.removeEventListener(...args);
  }
}

class FakeDocument extends FakeTarget {
  visibilityState: 'visible' | 'hidden' = 'visible';
  /** Sets the visibility and fires `visibilitychange`, as a browser does. */
  show(state: 'visible' | 'hidden'): void {
    this.visibilityState = state;
    this.dispatchEvent(new Event('visibilitychange'));
  }
}

const RECONNECT_DELAY_MS = 1_000;

function make(
  options: Partial<ClientOptions> = {},
  signals: { online?: boolean; visibility?: boolean } = {},
) {
  const sim = new TestClock();
  const clock: Clock = {
    now: () => sim.now(),
    setTimeout: (fn, ms) => sim.setTimeout(fn, ms),
    clearTimeout: (id) => sim.clearTimeout(id as number),
  };
  const server: MemoryAdapter = createMemoryAdapter();
  const window = new FakeTarget();
  const document = new FakeDocument();
  const client = createClient({
    url: 'ws://server.test/feed',
    adapter: server,
    clock,
    heartbeat: false,
    reconnect: { baseDelayMs: RECONNECT_DELAY_MS, maxDelayMs: RECONNECT_DELAY_MS, jitter: 'none' },
    environment: { window, document, ...signals },
    ...options,
  });
  client.on('error', () => {});
  live.push(client);
  /** The machine's state value, e.g. `{ reconnecting: 'offline' }`. */
  const machine = () => client.actor.getSnapshot().value;
  return { client, server, sim, window, document, machine };
}

const live: Array<ReturnType<typeof createClient>> = [];
afterEach(async () => {
  await Promise.all(live.splice(0).map((c) => c.stop()));
});

/** Resolves once the client is in `state` (checked on every `state` event). */
function stateReached(client: ReturnType<typeof createClient>, state: string): Promise<void> {
  if (client.state === state) return Promise.resolve();
  return new Promise((resolve) => {
    const off = client.on('state', ({ to }) => {
      if (to !== state) return;
      off();
      resolve();
    });
  });
}

describe('environment: online / offline', () => {
  it('offline during the backoff: no dial even long after the delay; online: a dial at once', async () => {
    const { client, server, sim, window, machine } = make();
    await client.start();
    server.last!.drop();
    await stateReached(client, 'reconnecting');
    expect(machine()).toEqual({ reconnecting: 'backoff' });

    window.dispatchEvent(new Event('offline'));
    expect(machine()).toEqual({ reconnecting: 'offline' });
    sim.advance(RECONNECT_DELAY_MS * 100);
    expect(client.state).toBe('reconnecting');
    expect(server.connections).toHaveLength(1);

    // Online: the attempt goes out now, with no time passing on the clock.
    const dialed = server.nextConnection(1);
    window.dispatchEvent(new Event('online'));
    await dialed;
    await stateReached(client, 'open');
    expect(server.connections).toHaveLength(2);
  });

  it('offline while open: the open session is left alone; after a drop no dial until online', async () => {
    const { client, server, sim, window, machine } = make();
    await client.start();
    window.dispatchEvent(new Event('offline'));
    expect(client.state).toBe('open');

    server.last!.drop();
    await stateReached(client, 'reconnecting');
    expect(machine()).toEqual({ reconnecting: 'offline' });
    sim.advance(RECONNECT_DELAY_MS * 100);
    expect(server.connections).toHaveLength(1);

    const dialed = server.nextConnection(1);
    window.dispatchEvent(new Event('online'));
    await dialed;
    await stateReached(client, 'open');
  });

  it('after coming back online, later drops reconnect on the normal backoff again', async () => {
    const { client, server, sim, window, machine } = make();
    await client.start();
    window.dispatchEvent(new Event('offline'));
    server.last!.drop();
    await stateReached(client, 'reconnecting');
    window.dispatchEvent(new Event('online'));
    await server.nextConnection(1);
    await stateReached(client, 'open');

    // Online for good now: the next drop waits the backoff delay, then dials.
    server.last!.drop();
    await stateReached(client, 'reconnecting');
    expect(machine()).toEqual({ reconnecting: 'backoff' });
    const dialed = server.nextConnection(2);
    sim.advance(RECONNECT_DELAY_MS);
    await dialed;
    await stateReached(client, 'open');
  });

  it('offline then online during one backoff, then a later drop: the normal backoff again', async () => {
    const { client, server, sim, window, machine } = make();
    await client.start();
    server.last!.drop();
    await stateReached(client, 'reconnecting');
    window.dispatchEvent(new Event('offline'));
    window.dispatchEvent(new Event('online'));
    await server.nextConnection(1);
    await stateReached(client, 'open');

    server.last!.drop();
    await stateReached(client, 'reconnecting');
    expect(machine()).toEqual({ reconnecting: 'backoff' });
    const dialed = server.nextConnection(2);
    sim.advance(RECONNECT_DELAY_MS);
    await dialed;
  });

  it('a restart() while offline still dials (an explicit command beats the signal)', async () => {
    const { client, server, window } = make();
    await client.start();
    server.last!.drop();
    await stateReached(client, 'reconnecting');
    window.dispatchEvent(new Event('offline'));
    const dialed = server.nextConnection(1);
    client.restart();
    await dialed;
    await stateReached(client, 'open');
  });

  it('listeners are attached only while started, and removed by stop()', async () => {
    const { client, window, document } = make();
    expect(window.listeners).toBe(0);
    expect(document.listeners).toBe(0);
    await client.start();
    expect(window.listeners).toBe(2);
    // visibilitychange, and resume (a tab unfrozen by the browser).
    expect(document.listeners).toBe(2);
    await client.stop();
    expect(window.listeners).toBe(0);
    expect(document.listeners).toBe(0);
    await client.start();
    expect(window.listeners).toBe(2);
  });

  it('an online event missed while stopped does not leave the next run paused', async () => {
    const { client, server, sim, window, machine } = make();
    await client.start();
    window.dispatchEvent(new Event('offline'));
    await client.stop();
    // Back online while stopped: nobody listens (the client is detached).
    window.dispatchEvent(new Event('online'));
    await client.start();
    server.last!.drop();
    await stateReached(client, 'reconnecting');
    expect(machine()).toEqual({ reconnecting: 'backoff' });
    const dialed = server.nextConnection(2);
    sim.advance(RECONNECT_DELAY_MS);
    await dialed;
  });

  it('environment.online: false ignores the signals', async () => {
    const { client, server, sim, window, machine } = make({}, { online: false });
    await client.start();
    expect(window.listeners).toBe(0);
    server.last!.drop();
    await stateReached(client, 'reconnecting');
    window.dispatchEvent(new Event('offline'));
    expect(machine()).toEqual({ reconnecting: 'backoff' });
    const dialed = server.nextConnection(1);
    sim.advance(RECONNECT_DELAY_MS);
    await dialed;
  });
});

describe('environment: visibility', () => {
  const heartbeat = { intervalMs: 60_000, timeoutMs: 5_000 };

  it('becoming visible while open sends a ping at once (no time passes)', async () => {
    const { client, server, document } = make({ heartbeat });
    await client.start();
    const conn = server.last!;
    expect(conn.pings).toBe(0);
    const pinged = new Promise<void>((resolve) => client.once('ping', () => resolve()));
    const ponged = new Promise<void>((resolve) => client.once('pong', () => resolve()));
    document.show('visible');
    await pinged;
    expect(conn.pings).toBe(1);
    // The probe's pong arrives; the session stays open.
    await ponged;
    expect(client.state).toBe('open');
  });

  it('a probe that gets no pong ends the session within timeoutMs (a socket that died while hidden)', async () => {
    const { client, server, sim, document } = make({ heartbeat });
    await client.start();
    const conn = server.last!;
    conn.silent = true;
    document.show('visible');
    expect(conn.pings).toBe(1);
    const reconnecting = stateReached(client, 'reconnecting');
    sim.advance(heartbeat.timeoutMs);
    await reconnecting;
    expect(conn.terminated).toBe(true);
  });

  it('becoming hidden sends nothing; environment.visibility: false ignores the signal', async () => {
    const a = make({ heartbeat });
    await a.client.start();
    a.document.show('hidden');
    expect(a.server.last!.pings).toBe(0);

    const b = make({ heartbeat }, { visibility: false });
    await b.client.start();
    expect(b.document.listeners).toBe(0);
    b.document.show('visible');
    expect(b.server.last!.pings).toBe(0);
  });
});
