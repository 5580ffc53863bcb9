/** `hooks` and `prepare`: the user's functions that the client calls on the lifecycle and per message. */
import type { Checker, Fn } from './checker.js';

const HOOK_NAMES = ['onOpen', 'onMessage', 'onClose', 'onError', 'onRestartError'];

/** Checks `hooks` (an object of known hook names, each a function). */
export function resolveHooks(c: Checker, value: unknown): Record<string, Fn | undefined> {
  const hooksIn = c.section('hooks', value, false) || {};
  const hooks: Record<string, Fn | undefined> = {};
  for (const name of Object.keys(hooksIn)) {
    if (!HOOK_NAMES.includes(name))
      c.add(`hooks.${name}`, hooksIn[name], `a known hook (${HOOK_NAMES.join(', ')})`);
  }
  for (const name of HOOK_NAMES) hooks[name] = c.fn(`hooks.${name}`, hooksIn[name]);
  return hooks;
}

/** Checks `prepare` (a function, called once per message). */
export function resolvePrepare(c: Checker, value: unknown): Fn | undefined {
  return c.fn('prepare', value);
}
