/**
 * The adapter contract suite against the native `WebSocket` adapter, under Node's built-in client.
 *
 * On Node 20 the global `WebSocket` exists only with `--experimental-websocket`: vitest.config.ts
 * runs this file in the `native` project, whose workers get that flag. If the flag is missing this
 * file FAILS (it never skips), so the native adapter can not silently go untested.
 */
import { describe, it } from 'vitest';
import { createNativeAdapter } from '../../src/transport/native.js';
import { adapterContract } from './adapter-contract.js';

if (typeof (globalThis as { WebSocket?: unknown }).WebSocket !== 'function') {
  describe('adapter contract: native', () => {
    it('needs a global WebSocket', () => {
      throw new Error(
        `This Node (${process.version}) has no global WebSocket, so the native adapter cannot be tested. ` +
          'Run this file in a worker started with --experimental-websocket (the "native" project of ' +
          'vitest.config.ts does that: run `npm test`, or `npx vitest run --project native`).',
      );
    });
  });
} else {
  adapterContract('native', () => createNativeAdapter(), {
    handshakeStatus: false,
    sendsAnyCloseCode: false,
  });
}
