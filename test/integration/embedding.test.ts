/**
 * Embedding: `client.actor` works with XState's `waitFor` and `subscribe`, and the hot-path rule:
 * incoming data messages never become machine events.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor as xstateWaitFor } from 'xstate';
import { type ClientState, createClient, stateOf } from '../../src/node.js';
import { cleanup, events, startWsServer, track } from '../helpers/servers.js';

afterEach(cleanup);

describe('client.actor', () => {
  it("works with xstate's waitFor", async () => {
    const server = await startWsServer();
    const client = track(createClient({ url: server.url, heartbeat: false }));
    events(client);
    const started = client.start();
    const snapshot = await xstateWaitFor(client.actor, (s) => s.matches({ session: 'open' }), {
      timeout: 5_000,
    });
    expect(snapshot.context.sessionId).toBe(1);
    expect(client.state).toBe('open');
    await started;

    const stopping = client.stop();
    const stopped = await xstateWaitFor(client.actor, (s) => s.matches('stopped'), { timeout: 5_000 });
    expect(stopped.status).toBe('active');
    await stopping;
    expect(client.state).toBe('stopped');
  });

  it('subscribe sees every state the `state` event reports, in the same order', async () => {
    const server = await startWsServer();
    const client = track(createClient({ url: server.url, heartbeat: false, reconnect: { baseDelayMs: 0 } }));
    const rec = events(client);
    const seen: ClientState[] = [stateOf(client.actor.getSnapshot())];
    const subscription = client.actor.subscribe((snapshot) => {
      const state = stateOf(snapshot);
      if (state !== seen.at(-1)) seen.push(state);
    });

    await client.start();
    const reopened = new Promise((resolve) => client.once('open', resolve));
    server.terminateAll();
    await reopened;
    await client.stop();
    subscription.unsubscribe();

    expect(seen).toEqual([
      'idle',
      'connecting',
      'opening',
      'open',
      'closing',
      'reconnecting',
      'connecting',
      'opening',
      'open',
      'closing',
      'stopped',
    ]);
    expect(seen.slice(1)).toEqual(rec.states);
  });
});

describe('hot path', () => {
  it('receiving 1,000 messages adds no machine events (an inspect observer counts them)', async () => {
    const server = await startWsServer({
      onConnection: ({ socket }) => {
        socket.on('message', (data) => {
          const n = Number(/^burst (\d+)$/.exec(data.toString())?.[1] ?? 0);
          for (let i = 0; i < n; i++) socket.send(`m${i}`);
        });
      },
    });
    let machineEvents = 0;
    const eventTypes: string[] = [];
    let received = 0;
    let target = 0;
    let reached: () => void = () => {};
    const client = track(
      createClient({
        url: server.url,
        heartbeat: false,
        reconnect: { resetAfterMs: 600_000 },
        inspect: (inspection) => {
          const e = inspection as { type: string; event?: { type: string } };
          if (e.type === '@xstate.event') {
            machineEvents++;
            eventTypes.push(e.event?.type ?? '?');
          }
        },
        hooks: {
          onMessage: () => {
            received++;
            if (received === target) reached();
          },
        },
      }),
    );
    events(client);
    const burst = (n: number) =>
      new Promise<void>((resolve) => {
        target = received + n;
        reached = resolve;
        client.send(`burst ${n}`);
      });

    await client.start();
    // The observer does see lifecycle events (so a count that does not grow means something).
    expect(machineEvents).toBeGreaterThan(0);
    expect(eventTypes).toContain('client.start');
    expect(eventTypes).toContain('socket.opened');

    await burst(10);
    const after10 = machineEvents;
    await burst(1_000);
    expect(received).toBe(1_010);
    expect(client.stats().messagesIn).toBe(1_010);
    expect(machineEvents).toBe(after10);

    // And the observer is live: a lifecycle step does add events.
    await client.stop();
    expect(machineEvents).toBeGreaterThan(after10);
    expect(eventTypes).toContain('client.stop');
  });
});
