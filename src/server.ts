/**
 * `wsmachine/server` (Node only): the demo server that the tests, the `wsmachine` CLI, the demo and
 * the benchmarks talk to. It speaks the Go seeds' demo protocol (echo, subscribe/unsubscribe,
 * heartbeat publications) with their bugs fixed, has a raw echo endpoint, and takes fault commands.
 *
 * @example
 * ```ts
 * import { startDemoServer } from 'wsmachine/server';
 * const server = await startDemoServer({ port: 8080 });
 * console.log(server.url, server.echoUrl);
 * ```
 */
export {
  startDemoServer,
  type DemoEndpoint,
  type DemoServer,
  type DemoServerEvents,
  type DemoServerOptions,
  type DemoServerStats,
} from './server/demo-server.js';
export * from './server/protocol.js';
