/**
 * The target actor: resolves where one attempt dials (`url` and `headers`, static or per-attempt
 * functions that may be async). Invoked in `connecting.resolving`; its `signal` aborts when the
 * attempt is abandoned (stop, open timeout). The URL and headers go to the socket binding, never into
 * an event or the machine (they may carry secrets): the output is the redacted URL only.
 */
import { fromPromise } from 'xstate';
import type { SocketActorInput, TargetOutput } from '../../machines/connection.types.js';
import { ClientStoppedError, ConnectError, messageOf } from '../core/errors.js';
import { checkUrl } from '../core/options.js';
import { redactUrl } from '../core/redact.js';
import type { AttemptInfo } from '../core/types.js';
import { servicesOf } from './services.js';

function urlText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null && typeof (value as { href?: unknown }).href === 'string') {
    return (value as { href: string }).href;
  }
  return String(value);
}

/** The real target actor, provided to the machine once per module by the client. */
export const targetActor = fromPromise<TargetOutput, SocketActorInput>(async ({ input, system, signal }) => {
  const s = servicesOf(system, 'target');
  const urlOption = s.options.url;
  const headersOption = s.options.headers;
  // The attempt's own signal, with a reason that says what happened (XState aborts its signal with a
  // bare AbortError when the machine leaves `resolving`).
  const abandon = new AbortController();
  signal.addEventListener('abort', () => abandon.abort(new ClientStoppedError('The attempt was abandoned')), {
    once: true,
  });
  const attempt: AttemptInfo = { attempt: input.attempt, signal: abandon.signal, lastClose: input.lastClose };
  let url: string;
  try {
    url = urlText(
      typeof urlOption === 'function' ? await (urlOption as (a: AttemptInfo) => unknown)(attempt) : urlOption,
    );
  } catch (error) {
    throw new ConnectError(`The url function threw: ${messageOf(error)}`, error);
  }
  const bad = checkUrl(url);
  if (bad !== undefined)
    throw new ConnectError(`The url function returned ${redactUrl(url)}, expected ${bad}`);
  let headers: Record<string, string> | undefined;
  try {
    headers = (typeof headersOption === 'function' ? await headersOption(attempt) : headersOption) as
      | Record<string, string>
      | undefined;
  } catch (error) {
    throw new ConnectError(`The headers function threw: ${messageOf(error)}`, error);
  }
  const binding = s.sessions.current;
  if (binding !== undefined && binding.handle.id === input.sessionId) binding.target = { url, headers };
  return { url: redactUrl(url) };
});
