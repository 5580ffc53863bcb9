// price-board.node-test.ts (node:test): the same replay in Node's own test runner.
import assert from 'node:assert/strict';
import { test } from 'node:test';
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

for (const path of lifecyclePaths({ client: rig().client })) {
  test(path.name, async () => {
    const { board, ...replay } = rig();
    await replayPath(path, {
      ...replay,
      onStep: ({ state }) => {
        if (board.live) assert.deepEqual([state, board.session], ['open', replay.client.sessionId]);
        if (state !== 'open') assert.equal(board.live, false);
      },
    });
  });
}
