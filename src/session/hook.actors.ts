/**
 * The user's steering hooks as actors: `openHook` runs onOpen (its failure fails the session),
 * `closeHook` runs onClose (its pick becomes the close frame, validated here). Whatever a hook throws
 * or rejects with, even a hostile value, reaches the machine as a {@link HookError} with a safe
 * description, so the reason a session failed is never lost.
 */
import { fromPromise } from 'xstate';
import type { CloseHookOutput, HookActorInput } from '../../machines/connection.types.js';
import type { Instruments } from '../api/instrumentation.js';
import { assertValidClose } from '../core/close-codes.js';
import { HookError } from '../core/errors.js';
import { defaultCloseCode } from '../core/session-end.js';
import type { Hooks } from '../types.js';
import { servicesOf } from './services.js';
import type { SessionRegistry } from './session-registry.js';

/** True for an Error that can be looked at safely (not a Proxy whose traps throw). */
function isPlainError(value: unknown): value is Error {
  try {
    return value instanceof Error && typeof value.message === 'string';
  } catch {
    return false;
  }
}

/** Runs the hooks of one client. */
export class HookRunner {
  private readonly hooks: Hooks;
  private readonly sessions: SessionRegistry;
  private readonly instruments: Instruments;

  constructor(hooks: Hooks, sessions: SessionRegistry, instruments: Instruments) {
    this.hooks = hooks;
    this.sessions = sessions;
    this.instruments = instruments;
  }

  /** onOpen; rejects with a HookError naming it when it throws or rejects. */
  async runOpen(input: HookActorInput): Promise<void> {
    const onOpen = this.hooks.onOpen;
    const handle = this.handleOf(input.sessionId);
    if (onOpen === undefined || handle === undefined) return;
    const spans = this.instruments.hookStarted('onOpen', input.sessionId);
    try {
      await onOpen(handle, {
        restarting: input.restarting,
        response: input.response,
        protocol: input.protocol,
      });
    } catch (error) {
      this.instruments.hookEnded(spans, error);
      // An Error reaches the caller as is (start() rejects with it as `cause`); anything else
      // (undefined, a string, a hostile object) as a HookError that says onOpen failed.
      throw isPlainError(error) ? error : new HookError('onOpen', error, input.sessionId);
    }
    this.instruments.hookEnded(spans, undefined);
  }

  /** onClose; its pick, validated. Rejects with a HookError when it throws or picks an unsendable frame. */
  async runClose(input: HookActorInput): Promise<CloseHookOutput> {
    const onClose = this.hooks.onClose;
    const handle = this.handleOf(input.sessionId);
    if (onClose === undefined || handle === undefined || input.closing === undefined) return undefined;
    const spans = this.instruments.hookStarted('onClose', input.sessionId);
    let picked: unknown;
    try {
      picked = await onClose(input.closing, handle);
    } catch (error) {
      this.instruments.hookEnded(spans, error);
      // The machine takes its failure path (reported there, then the default close frame).
      throw new HookError('onClose', error, input.sessionId);
    }
    this.instruments.hookEnded(spans, undefined);
    if (picked === undefined || picked === null) return undefined;
    let code: unknown;
    let reason: unknown;
    try {
      // The pick may be hostile too (getters that throw): reading it is part of validating it.
      code = (picked as { code?: unknown }).code;
      reason = (picked as { reason?: unknown }).reason;
      assertValidClose(code as number | undefined, reason as string | undefined);
    } catch (error) {
      throw new HookError('onClose', error, input.sessionId);
    }
    return {
      code: (code as number | undefined) ?? defaultCloseCode(input.endRequest),
      reason: (reason as string | undefined) ?? '',
    };
  }

  private handleOf(sessionId: number) {
    const binding = this.sessions.current;
    return binding !== undefined && binding.handle.id === sessionId ? binding.handle : undefined;
  }
}

/** Runs the user's `onOpen` hook for a session (provided to the machine once per module). */
export const openHookActor = fromPromise<void, HookActorInput>(({ input, system }) =>
  servicesOf(system, 'openHook').hooks.runOpen(input),
);

/** Runs the user's `onClose` hook and returns the close frame it picked. */
export const closeHookActor = fromPromise<CloseHookOutput, HookActorInput>(({ input, system }) =>
  servicesOf(system, 'closeHook').hooks.runClose(input),
);
