/**
 * Redaction of secrets before a URL reaches an event, an error message, a log or a span: user info
 * and the query string (tokens in query strings end up in proxy access logs) are replaced.
 */

/**
 * A URL safe to log: credentials and query values removed, the rest kept.
 *
 * @example
 * ```ts
 * redactUrl('wss://user:pw@host/feed?token=abc'); // 'wss://***@host/feed?token=***'
 * ```
 */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return '<invalid url>';
  }
  const auth = parsed.username || parsed.password ? '***@' : '';
  const query = parsed.search
    ? `?${parsed.search
        .slice(1)
        .split('&')
        .filter((part) => part !== '')
        // A bare `?secret` (no `=`) is all value: nothing of it is kept.
        .map((part) => (part.includes('=') ? `${part.slice(0, part.indexOf('='))}=***` : '***'))
        .join('&')}`
    : '';
  return `${parsed.protocol}//${auth}${parsed.host}${parsed.pathname}${query}`;
}
