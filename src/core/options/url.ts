/** Where to connect: `url`, `protocols` and `headers`. */
import { redactUrl } from '../redact.js';
import type { AdapterFacts, Checker } from './checker.js';

/** A subprotocol is an HTTP token (RFC 6455 §4.1, RFC 7230 §3.2.6). */
const SUBPROTOCOL = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function isUrlLike(value: unknown): boolean {
  return (
    typeof value === 'object' && value !== null && typeof (value as { href?: unknown }).href === 'string'
  );
}

/** Checks that a static URL is a ws:/wss: URL. Returns the expected-text on failure. */
export function checkUrl(value: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    return 'an absolute ws:// or wss:// URL';
  }
  if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:')
    return 'a ws:// or wss:// URL (http(s) is not a WebSocket URL)';
  return undefined;
}

/** Checks `url`: a ws:/wss: string or URL, or a function called per attempt (checked then). */
export function resolveUrl(c: Checker, url: unknown): unknown {
  if (typeof url === 'string' || isUrlLike(url)) {
    const text = typeof url === 'string' ? url : (url as URL).href;
    const bad = checkUrl(text);
    // The error keeps the value in `problems`: redact user info, query and fragment, or logging the
    // error object would print the secret.
    if (bad) c.add('url', /[@?#]/.test(text) ? redactUrl(text) : url, bad);
  } else if (typeof url !== 'function') {
    c.add(
      'url',
      url,
      'a ws:// or wss:// URL string, a URL, or a function returning one (called per attempt)',
    );
  }
  return url;
}

/** Checks `protocols` (one token or a list of distinct tokens); returns the list. */
export function resolveProtocols(c: Checker, value: unknown): string[] {
  const list = typeof value === 'string' ? [value] : value;
  if (
    Array.isArray(list) &&
    list.every((p) => typeof p === 'string' && SUBPROTOCOL.test(p)) &&
    new Set(list).size === list.length
  ) {
    return list as string[];
  }
  if (value !== undefined)
    c.add(
      'protocols',
      value,
      'a string or an array of non-empty strings (distinct tokens: no spaces, commas or separators)',
    );
  return [];
}

/** Checks `headers` (string values, or a function) and that the adapter can send them at all. */
export function checkHeaders(c: Checker, h: unknown, adapter: AdapterFacts): void {
  if (h === undefined) return;
  const ok =
    typeof h === 'function' ||
    (typeof h === 'object' && h !== null && Object.values(h).every((v) => typeof v === 'string'));
  if (!ok) c.add('headers', h, 'an object of string values, or a function returning one');
  else if (!adapter.headers) {
    c.add(
      'headers',
      h,
      'nothing: this adapter cannot send upgrade headers (browsers); use a subprotocol or a ticket in the URL',
    );
  }
}
