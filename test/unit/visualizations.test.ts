/**
 * The committed diagrams in visualizations/ must match the machines: regenerate in memory and
 * compare, so a machine change without `npm run visualize` fails here with the command to run.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { connectionMachine } from '../../machines/connection.machine.js';
import { subscriptionMachine } from '../../machines/subscription.machine.js';
import { describeMachine, guardName, toDot, toMermaid } from '../../src/visualize/export.js';
import { renderDiagrams } from '../../src/visualize/render.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');

describe('visualizations/', () => {
  it('are fresh: regenerating them changes nothing (else run `npm run visualize` and commit)', async () => {
    const files = await renderDiagrams();
    expect(Object.keys(files).sort()).toEqual([
      'connection.dot',
      'connection.md',
      'connection.mmd',
      'connection.stately.js',
      'connection.svg',
      'subscription.dot',
      'subscription.md',
      'subscription.mmd',
      'subscription.stately.js',
      'subscription.svg',
    ]);
    for (const [name, content] of Object.entries(files)) {
      let committed = '';
      try {
        committed = readFileSync(join(root, 'visualizations', name), 'utf8');
      } catch {}
      expect(committed, `visualizations/${name} is stale: run \`npm run visualize\` and commit it`).toBe(
        content,
      );
    }
  });

  it('draws every state, parallel region, invoked actor, named delay and named guard of the machine', () => {
    const chart = describeMachine(connectionMachine);
    const dot = toDot(chart);
    const mermaid = toMermaid(chart);
    for (const state of ['idle', 'connecting', 'opening', 'open', 'closing', 'reconnecting', 'stopped']) {
      expect(dot).toContain(`label="${state}`);
      expect(mermaid).toContain(`"${state}"`);
    }
    expect(dot).toContain('open (parallel)');
    expect(mermaid).toContain('state "heartbeat"');
    for (const actor of ['socket', 'target', 'openHook', 'closeHook'])
      expect(dot).toContain(`invoke: ${actor}`);
    for (const delay of ['openTimeout', 'closeTimeout', 'reconnectDelay', 'pingInterval', 'pongTimeout']) {
      expect(dot).toContain(`after ${delay}`);
    }
    for (const guard of [
      'isCurrentSession',
      'canReconnect',
      'hasMissedTooManyPongs',
      'isFirstStart',
      'isStopRequested',
      'hasStaticTarget',
    ]) {
      expect(dot).toContain(guard);
    }
    // `always` transitions are drawn too (toDirectedGraph drops them).
    expect(chart.edges.some((e) => e.kind === 'always' && e.guard === 'isFirstStart')).toBe(true);
    // The one stop deadline: a stop that outlives it ends the session whatever the peer does.
    expect(chart.edges.some((e) => e.trigger === 'stop.timedOut' && e.failure)).toBe(true);
    // Failure paths are visibly distinct from the happy path.
    const timeout = chart.edges.find((e) => e.kind === 'after' && e.trigger === 'openTimeout');
    const opened = chart.edges.find((e) => e.trigger === 'socket.opened');
    expect(timeout?.failure).toBe(true);
    expect(opened?.happy).toBe(true);
  });

  it('draws the subscription machine next to the connection, and the connection spawning it', () => {
    const chart = describeMachine(subscriptionMachine);
    const dot = toDot(chart);
    const mermaid = toMermaid(chart);
    for (const state of [
      'subscribing',
      'subscribed',
      'resubscribing',
      'unsubscribing',
      'unsubscribed',
      'failed',
    ]) {
      expect(dot).toContain(`label="${state}`);
      expect(mermaid).toContain(`"${state}"`);
    }
    for (const actor of ['subscribe', 'unsubscribe']) expect(dot).toContain(`invoke: ${actor}`);
    expect(dot).toContain('after retryDelay');
    for (const event of [
      'connection.opened',
      'connection.ended',
      'connection.stopped',
      'subscription.timedOut',
    ])
      expect(dot).toContain(event);
    expect(dot).toContain('canRetry');
    const connection = toDot(describeMachine(connectionMachine));
    expect(connection).toContain('subscription.add');
    expect(connection).toContain('subscription.remove');
  });

  it('names combined guards', () => {
    const handshake = connectionMachine.root.states.session!.states.closing!.states.handshake!;
    expect(guardName(handshake.always![0]!.guard)).toBe('!canCloseGracefully');
  });
});
