/**
 * Redaction of secrets before a URL reaches an event, an error message, a log or a span. The
 * implementation lives in `src/core` so that error messages built there are redacted too.
 */
export { redactUrl } from './core/redact.js';
