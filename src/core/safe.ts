/**
 * Looking at values user code returned or threw, without letting them throw at us: a revoked Proxy, an
 * object whose getters throw, or a thenable whose `then` throws must not crash or wedge the client.
 */

/** The `then` of a thenable, or undefined; never throws. */
export function thenOf(
  value: unknown,
): ((onFulfilled: (v: unknown) => void, onRejected: (e: unknown) => void) => unknown) | undefined {
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return undefined;
  try {
    const then = (value as { then?: unknown }).then;
    return typeof then === 'function' ? (then as never) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Waits for a value user code returned when it is a thenable; calls `onError` (never throws) when it
 * rejects or its `then` throws. Plain values settle nothing and cost nothing.
 */
export function whenSettled(value: unknown, onDone: () => void, onError: (error: unknown) => void): boolean {
  const then = thenOf(value);
  if (then === undefined) return false;
  let called = false;
  const done = () => {
    if (called) return;
    called = true;
    onDone();
  };
  const failed = (error: unknown) => {
    if (called) return;
    called = true;
    onError(error);
  };
  try {
    then.call(value, done, failed);
  } catch (error) {
    failed(error);
  }
  return true;
}
