// price-board.test.ts (vitest): the board, along every path of the connection's lifecycle.
import { describe, expect, it } from 'vitest';
import {
  createLifecycleControl,
  createMemoryAdapter,
  createTestClock,
  lifecyclePaths,
  replayPath,
} from '../../../src/testing.js'; // 'wsmachine/testing'
import { createPriceBoard } from './price-board.js';

function rig() {
  const control = createLifecycleControl();
  const server = createMemoryAdapter({ autoOpen: false, autoPong: false, autoCloseReply: false });
  server.onSend = (conn, data) => {
    if (data === 'SUBSCRIBE BTC-EUR') conn.deliver('PRICE 64000');
  };
  const clock = createTestClock();
  const { client, board } = createPriceBoard({
    adapter: server,
    clock,
    environment: control.environment,
    wrapHooks: (hooks) => control.hooks(hooks),
  });
  return { client, board, server, clock, control };
}

describe('the price board, along every lifecycle path', () => {
  for (const path of lifecyclePaths({ client: rig().client })) {
    it(path.name, async () => {
      const { board, ...replay } = rig();
      await replayPath(path, {
        ...replay,
        onStep: ({ state }) => {
          // The invariant: never live unless open, and never with a price of an earlier session.
          if (board.live) expect([state, board.session]).toEqual(['open', replay.client.sessionId]);
          if (state !== 'open') expect(board.live).toBe(false);
        },
      });
    });
  }
});
