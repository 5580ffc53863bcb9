/**
 * What `replayPath` checks before it starts: that the client, the server, the clock and the control
 * can replay the path. Each refusal says how to set them up.
 */
import { ReplaySetupError } from './errors.js';
import type { LifecyclePath } from './lifecycle-steps.js';
import { MemoryAdapter } from './memory-adapter.js';
import type { ReplayOptions } from './replay-options.js';
import { type ReplayServer, type ServerStepType, memoryReplayServer } from './replay-server.js';

export function isMemory(server: unknown): server is MemoryAdapter {
  return server instanceof MemoryAdapter;
}

/** Checks that the client, server, clock and control can replay this path, and says how if not. */
export function checkSetup(path: LifecyclePath, options: ReplayOptions): ReplayServer {
  const { client, server, clock, control } = options;
  if (client === undefined || typeof client.actor?.getSnapshot !== 'function') {
    throw new ReplaySetupError('replayPath needs `client`: the client your app made (createClient).');
  }
  if (control === undefined || typeof control.hooks !== 'function') {
    throw new ReplaySetupError(
      'replayPath needs `control`: a createLifecycleControl() whose hooks and environment the client was created with.',
    );
  }
  if (client.state !== 'idle') {
    throw new ReplaySetupError(`Replay a path on a new client: this one is "${client.state}", not "idle".`);
  }
  // The URL itself does not matter to the model (only whether it is resolved per attempt).
  const shape = (c: LifecyclePath['config']) =>
    JSON.stringify({ ...c, staticUrl: c.staticUrl !== undefined });
  if (shape(client.actor.getSnapshot().context.config) !== shape(path.config)) {
    throw new ReplaySetupError(
      'This path was found for another client configuration: call lifecyclePaths({ client }) with a client made with the same options as the one you replay it on.',
    );
  }
  if (isMemory(server)) {
    if (server.autoOpen || server.autoPong || server.autoCloseReply) {
      throw new ReplaySetupError(
        'The in-memory server must leave every answer to the path: create it with createMemoryAdapter({ autoOpen: false, autoPong: false, autoCloseReply: false }).',
      );
    }
    if (clock === undefined || typeof (clock as { advance?: unknown }).advance !== 'function') {
      throw new ReplaySetupError(
        "Over the in-memory server time is simulated: create a clock with createTestClock(), pass it as the client's `clock` and as replayPath's `clock`.",
      );
    }
    return memoryReplayServer(server);
  }
  if (server === undefined || typeof (server as ReplayServer).supports !== 'function') {
    throw new ReplaySetupError(
      'replayPath needs `server`: the createMemoryAdapter({ autoOpen: false, autoPong: false, autoCloseReply: false }) the client dials, or a ReplayServer over a real server.',
    );
  }
  if (clock !== undefined) {
    throw new ReplaySetupError(
      'A real server runs in real time: give replayPath no `clock` (and the client none).',
    );
  }
  for (const step of path.steps) {
    const type = step.type;
    if (type === 'server.pong' && step.ms !== undefined) {
      throw new ReplaySetupError(
        `${type} at the pong deadline needs simulated time: replay this path over the in-memory adapter.`,
      );
    }
    if (
      (type.startsWith('server.') || type.startsWith('adapter.')) &&
      !server.supports(type as ServerStepType)
    ) {
      throw new ReplaySetupError(
        `This server cannot perform ${type}: replay this path over the in-memory adapter.`,
      );
    }
  }
  return server;
}
