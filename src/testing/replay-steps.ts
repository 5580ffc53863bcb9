/**
 * How `replayPath` performs each step (on the server, the control, the client or the clock), lets
 * what it set off happen, and stops the client when the path is over.
 */
import type { LifecycleStep } from './lifecycle-steps.js';
import type { ReplayOptions } from './replay-options.js';
import type { ReplayServer } from './replay-server.js';
import { isMemory } from './replay-setup.js';

/** Runs `fn` after the input already waiting (Node: the check phase; elsewhere: a task). */
export function macrotask(): Promise<void> {
  const g = globalThis as { setImmediate?: (fn: () => void) => unknown };
  return new Promise((resolve) => {
    if (typeof g.setImmediate === 'function') g.setImmediate(resolve);
    else setTimeout(resolve, 0);
  });
}

/**
 * Lets everything a step set off happen: microtasks (adapter callbacks, hooks, handlers) and the
 * macrotask after which the heartbeat gives its verdict, and what that verdict sets off.
 */
export async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await macrotask();
}

/** Performs one step on the client, the server, the control or the clock. */
export async function perform(
  step: LifecycleStep,
  options: ReplayOptions,
  server: ReplayServer,
): Promise<void> {
  const { client, control, clock } = options;
  switch (step.type) {
    case 'client.start':
      // A refused start rejects; so does one that ends before opening: both are the path's business.
      client.start().catch(() => {});
      return;
    case 'client.stop':
      void client.stop(step.timeoutMs === undefined ? {} : { timeoutMs: step.timeoutMs });
      return;
    case 'client.restart':
      client.restart();
      return;
    case 'app.exit':
      control.exit(step.via);
      return;
    case 'app.openDone':
      control.openDone();
      return;
    case 'app.openFails':
      control.openFails();
      return;
    case 'app.closeDone':
      control.closeDone();
      return;
    case 'app.closeFails':
      control.closeFails();
      return;
    case 'app.release':
      control.release();
      return;
    case 'app.urlFails':
      control.failNextUrl();
      return;
    case 'app.subscribe':
      control.subscribe(client);
      return;
    case 'app.unsubscribe':
      control.unsubscribe();
      return;
    case 'adapter.breaks':
      return server.breakNextConnect();
    case 'server.accept':
      return server.accept();
    case 'server.reject':
      return server.reject(step.status);
    case 'server.refuse':
      return server.refuse();
    case 'server.close':
      return server.close(step.code);
    case 'server.drop':
      return server.drop();
    case 'server.answerClose':
      return server.answerClose();
    case 'server.pong':
      // With `ms`, the deadline passes with the answer already waiting: it is read before the verdict.
      if (step.ms !== undefined) clock?.advance(step.ms);
      return server.pong();
    case 'server.flood':
      control.block();
      return server.flood(control.floodMessage);
    case 'network.offline':
      control.goOffline();
      return;
    case 'network.online':
      control.goOnline();
      return;
    case 'page.visible':
      control.showPage();
      return;
    case 'time.advance': {
      if (clock === undefined) return; // real time: the timer fires by itself
      let ms = step.ms;
      // The path waits the model's backoff; the client drew its own (jitter): wait that one.
      const snapshot = client.actor.getSnapshot();
      if (step.timer === 'reconnectDelay' && snapshot.matches({ reconnecting: 'backoff' })) {
        ms = snapshot.context.retryDelayMs;
      }
      clock.advance(ms);
      return;
    }
  }
}

/** Stops the client after the path: hooks let go, the close answered, simulated time advanced. */
export async function stopAfter(options: ReplayOptions): Promise<void> {
  const { client, control, clock, server } = options;
  control.finish();
  const stopped = client.stop().catch(() => {});
  if (clock === undefined) {
    await stopped;
    return;
  }
  for (let i = 0; i < 100; i++) {
    await settle();
    if (client.state === 'stopped' || client.state === 'idle') break;
    const conn = isMemory(server) ? server.last : undefined;
    if (conn?.clientClose !== undefined && conn.status === 'open') conn.answerClose();
    else clock.advance(clock.nextDueInMs() ?? 1_000);
  }
  await stopped;
}
