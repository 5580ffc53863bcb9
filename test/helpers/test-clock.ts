/**
 * The simulated clock of `wsmachine/testing` (XState's SimulatedClock plus `advance(ms)`, which fires
 * every timer due by then in due order, and `pending`), for the client and machine tests.
 */
export { TestClock, createTestClock } from '../../src/testing.js';
