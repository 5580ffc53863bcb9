/**
 * The WHATWG checks of `close(code, reason)` (and of reconnect-websocket's `reconnect(code, reason)`,
 * which closes the same way): script may send only 1000 or 3000-4999, and a reason of at most 123
 * UTF-8 bytes. The errors are the `DOMException`s a browser throws (`InvalidAccessError`,
 * `SyntaxError`), so code written against the native `WebSocket` catches them unchanged; their
 * messages say what is allowed.
 */

const encoder = new TextEncoder();

/** The close code after WebIDL's `[Clamp] unsigned short` conversion, or undefined when absent. */
function clampCode(code: unknown): number | undefined {
  if (code === undefined) return undefined;
  const n = Number(code);
  if (Number.isNaN(n)) return 0;
  return Math.min(65535, Math.max(0, Math.round(n)));
}

/**
 * Validates `close()`'s arguments and returns them converted as the browser converts them.
 *
 * @throws {DOMException} `InvalidAccessError` for a code other than 1000 or 3000-4999;
 *   `SyntaxError` for a reason over 123 UTF-8 bytes.
 * @internal
 */
export function checkCloseArguments(
  method: string,
  code: unknown,
  reason: unknown,
): { code: number | undefined; reason: string | undefined } {
  const clamped = clampCode(code);
  if (clamped !== undefined && clamped !== 1000 && (clamped < 3000 || clamped > 4999)) {
    throw new DOMException(
      `${method}: the code must be 1000 or from 3000 to 4999 (got ${String(code)}); ` +
        'other codes are reserved for the protocol and may not be sent by a WebSocket client.',
      'InvalidAccessError',
    );
  }
  const text = reason === undefined ? undefined : String(reason);
  if (text !== undefined && text.length > 41 && encoder.encode(text).length > 123) {
    throw new DOMException(
      `${method}: the reason must be at most 123 bytes of UTF-8 (got ${encoder.encode(text).length}); ` +
        'a close frame has room for no more.',
      'SyntaxError',
    );
  }
  return { code: clamped, reason: text };
}
