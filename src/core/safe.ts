/**
 * Looking at values user code returned or threw, without letting them throw at us: a revoked Proxy, an
 * object whose getters throw, or a thenable whose `then` throws must not crash or wedge the client.
 */
import { HookError, describeValue } from './errors.js';

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

/**
 * For user functions whose contract is synchronous (`prepare`, `isPong`, key and match functions,
 * `shouldReconnect`, `random`, `onError`): true when `value` is a thenable (an `async` function by
 * mistake). Its eventual rejection is handed to `onRejected`, so it is reported instead of escaping as
 * an unhandled rejection. Plain values cost a `typeof` check; never throws.
 */
export function observeIfThenable(value: unknown, onRejected: (error: unknown) => void): boolean {
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return false;
  return whenSettled(value, noop, onRejected);
}

function noop(): void {}

/**
 * `console.error(prefix, value)`, even for a value that breaks `util.inspect` (an object whose getters
 * throw): then the value is printed as its safe description.
 */
export function printError(prefix: string, value: unknown): void {
  try {
    console.error(prefix, value);
  } catch {
    try {
      console.error(prefix, describeValue(value));
    } catch {
      // console itself is broken: nothing left to tell.
    }
  }
}

/**
 * The error for a user function with a synchronous contract that returned a promise: it is not
 * awaited, so its answer cannot count (an `async` match would otherwise match every message).
 */
export function returnedPromise(hook: string, sessionId?: number): HookError {
  return new HookError(
    hook,
    new TypeError(`${hook} returned a promise; it must answer synchronously (its result is not awaited)`),
    sessionId,
  );
}
