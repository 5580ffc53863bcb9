import type { AttemptInfo } from '../core/types.js';
import type { WsClient } from '../client.js';
import type { Subscription } from '../session/subscription.js';
import type { Hooks, Session } from '../types.js';
import { ReplaySetupError } from './errors.js';
import { MODEL_SUBSCRIPTION } from './model-steps.js';

/** An EventTarget that knows whether anyone listens to a type (is the client watching it?). */
class WatchedTarget extends EventTarget {
  private readonly counts = new Map<string, number>();

  override addEventListener(
    type: string,
    fn: EventListenerOrEventListenerObject | null,
    options?: unknown,
  ): void {
    this.counts.set(type, (this.counts.get(type) ?? 0) + 1);
    super.addEventListener(type, fn, options as AddEventListenerOptions);
  }

  override removeEventListener(
    type: string,
    fn: EventListenerOrEventListenerObject | null,
    options?: unknown,
  ): void {
    this.counts.set(type, Math.max(0, (this.counts.get(type) ?? 0) - 1));
    super.removeEventListener(type, fn, options as EventListenerOptions);
  }

  listens(type: string): boolean {
    return (this.counts.get(type) ?? 0) > 0;
  }
}

interface Gate<T> {
  sessionId: number;
  resolve(value: T): void;
  reject(error: unknown): void;
}

/**
 * Options of {@link createLifecycleControl}.
 *
 * @example
 * ```ts
 * import { createLifecycleControl } from 'wsmachine/testing';
 * const control = createLifecycleControl({ floodMessage: JSON.stringify({ type: 'tick' }) });
 * ```
 */
export interface LifecycleControlOptions {
  /**
   * What the server sends in a `server.flood` step (your `onMessage` gets it once the flood is
   * released: make it a message your app ignores or handles).
   * @default 'wsmachine:flood'
   */
  floodMessage?: string | Uint8Array;
}

/**
 * The browser window and document a control's environment fires signals on.
 *
 * @example
 * ```ts
 * import { createClient } from 'wsmachine';
 * import { createLifecycleControl, type ControlEnvironment } from 'wsmachine/testing';
 * const environment: ControlEnvironment = createLifecycleControl().environment;
 * const client = createClient({ url: 'ws://app.test/', environment });
 * environment.window.dispatchEvent(new Event('offline')); // reconnect attempts wait (while started)
 * ```
 */
export interface ControlEnvironment {
  window: EventTarget;
  document: EventTarget & { visibilityState: string };
}

/**
 * Steers the app's side of a client along a lifecycle path: pass `control.hooks(yourHooks)` as the
 * client's `hooks` and `control.environment` as its `environment` (and `control.url(yourUrl)` as its
 * `url` for paths with `app.urlFails`); `replayPath` then calls its methods for the `app.*`,
 * `network.*` and `page.*` steps. You can also call them yourself in a hand-written test.
 *
 * @example
 * ```ts
 * import { createClient } from 'wsmachine';
 * import { createLifecycleControl, createMemoryAdapter } from 'wsmachine/testing';
 * const control = createLifecycleControl();
 * const server = createMemoryAdapter({ autoOpen: false });
 * const client = createClient({
 *   url: 'ws://app.test/',
 *   adapter: server,
 *   hooks: control.hooks({ onOpen: (session) => void session.send('hello') }),
 *   environment: control.environment,
 * });
 * void client.start();
 * (await server.nextConnection(0)).open();
 * // onOpen ran (it sent 'hello'), and waits: the client is 'opening' until
 * control.openDone();
 * ```
 */
export class LifecycleControl {
  /** A window and a document for `createClient({ environment })`: the path fires their events. */
  readonly environment: ControlEnvironment;
  /** What a `server.flood` step delivers. */
  readonly floodMessage: string | Uint8Array;
  /** The session the client gave the latest onOpen (the app's handle). */
  session: Session | undefined;
  private readonly windowTarget = new WatchedTarget();
  private readonly documentTarget = Object.assign(new WatchedTarget(), { visibilityState: 'visible' });
  private open: Gate<void> | undefined;
  private close: Gate<void> | undefined;
  private restartExit: (() => void) | undefined;
  private blocking = false;
  private blocked: Array<() => void> = [];
  private failUrl = false;
  private finished = false;
  private hooksMade = false;
  private urlMade = false;
  private subscription: Subscription | undefined;

  constructor(options: LifecycleControlOptions = {}) {
    this.floodMessage = options.floodMessage ?? 'wsmachine:flood';
    this.environment = { window: this.windowTarget, document: this.documentTarget };
  }

  /**
   * Your hooks, wrapped: `onOpen` and `onClose` run yours, then finish only when the path says
   * (`openDone`/`openFails`, `closeDone`/`closeFails`); `onMessage` runs yours unless a flood blocked
   * it (then after `release`); `onRestartError` runs yours and keeps the `exit` it was given.
   * `onError` is yours, unchanged.
   */
  hooks(app: Hooks = {}): Hooks {
    this.hooksMade = true;
    return {
      ...app,
      onOpen: async (session, context) => {
        this.session = session;
        const done = this.gate('open', session.id);
        let failure: { error: unknown } | undefined;
        try {
          await app.onOpen?.(session, context);
        } catch (error) {
          failure = { error };
        }
        await done;
        if (failure !== undefined) throw failure.error;
      },
      onClose: async (info, session) => {
        const done = this.gate('close', session.id);
        const picked = await app.onClose?.(info, session);
        await done;
        return picked;
      },
      onMessage: (message, session) => {
        if (!this.blocking) return app.onMessage?.(message, session);
        return new Promise<void>((resolve) => this.blocked.push(resolve)).then(() =>
          app.onMessage?.(message, session),
        );
      },
      onRestartError: (error, context) => {
        this.restartExit = context.exit;
        return app.onRestartError?.(error, context);
      },
    };
  }

  /**
   * Your `url` (a string, a URL or a function of the attempt), as a function that throws for the
   * attempt after {@link LifecycleControl.failNextUrl} (the `app.urlFails` step).
   */
  url(
    url: string | URL | ((attempt: AttemptInfo) => string | URL | Promise<string | URL>),
  ): (attempt: AttemptInfo) => Promise<string | URL> {
    this.urlMade = true;
    return async (attempt) => {
      if (this.failUrl) {
        this.failUrl = false;
        throw new Error('The url function failed (lifecycle path step app.urlFails)');
      }
      return typeof url === 'function' ? url(attempt) : url;
    };
  }

  private gate(kind: 'open' | 'close', sessionId: number): Promise<void> {
    if (this.finished) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const gate: Gate<void> = { sessionId, resolve, reject };
      if (kind === 'open') this.open = gate;
      else this.close = gate;
    });
  }

  private take(kind: 'open' | 'close'): Gate<void> {
    const gate = kind === 'open' ? this.open : this.close;
    if (gate === undefined) {
      const hook = kind === 'open' ? 'onOpen' : 'onClose';
      throw new ReplaySetupError(
        this.hooksMade
          ? `No ${hook} is waiting: the client is not running ${hook} now.`
          : `No ${hook} is waiting: create the client with \`hooks: control.hooks(yourHooks)\`.`,
      );
    }
    if (kind === 'open') this.open = undefined;
    else this.close = undefined;
    return gate;
  }

  /** Lets the waiting `onOpen` finish (`app.openDone`). @throws {ReplaySetupError} when none waits. */
  openDone(): void {
    this.take('open').resolve();
  }

  /** Makes the waiting `onOpen` throw `error` (`app.openFails`). @throws {ReplaySetupError} when none waits. */
  openFails(error: unknown = new Error('onOpen failed (lifecycle path step app.openFails)')): void {
    this.take('open').reject(error);
  }

  /** Lets the waiting `onClose` finish (`app.closeDone`). @throws {ReplaySetupError} when none waits. */
  closeDone(): void {
    this.take('close').resolve();
  }

  /** Makes the waiting `onClose` throw `error` (`app.closeFails`). @throws {ReplaySetupError} when none waits. */
  closeFails(error: unknown = new Error('onClose failed (lifecycle path step app.closeFails)')): void {
    this.take('close').reject(error);
  }

  /**
   * The app calls `exit()`: `via: 'session'` on the session onOpen got, `via: 'onRestartError'` with
   * the `exit` onRestartError got (`app.exit`).
   *
   * @throws {ReplaySetupError} when the app holds no such exit.
   */
  exit(via: 'session' | 'onRestartError'): void {
    if (via === 'session') {
      if (this.session === undefined) {
        throw new ReplaySetupError(
          'The app holds no session: no onOpen ran (use `hooks: control.hooks(...)`).',
        );
      }
      this.session.exit();
      return;
    }
    if (this.restartExit === undefined) {
      throw new ReplaySetupError(
        'The app holds no exit from onRestartError: no reconnect attempt failed yet.',
      );
    }
    this.restartExit();
  }

  /** From now on, messages wait in the app's `onMessage` until {@link LifecycleControl.release}. */
  block(): void {
    this.blocking = true;
  }

  /** The blocked `onMessage` calls go on, and new ones are not blocked (`app.release`). */
  release(): void {
    this.blocking = false;
    for (const resolve of this.blocked.splice(0)) resolve();
  }

  /** True while messages are held in `onMessage`. */
  get isBlocking(): boolean {
    return this.blocking;
  }

  /**
   * The next attempt's url function throws (`app.urlFails`).
   *
   * @throws {ReplaySetupError} when the client's `url` is not `control.url(...)`.
   */
  failNextUrl(): void {
    if (!this.urlMade) {
      throw new ReplaySetupError('app.urlFails needs the client created with `url: control.url(yourUrl)`.');
    }
    this.failUrl = true;
  }

  /** The window fires `offline` (`network.offline`). */
  goOffline(): void {
    this.windowTarget.dispatchEvent(new Event('offline'));
  }

  /** The window fires `online` (`network.online`). */
  goOnline(): void {
    this.windowTarget.dispatchEvent(new Event('online'));
  }

  /** The page becomes visible: `visibilitychange` with `visibilityState` 'visible' (`page.visible`). */
  showPage(): void {
    this.documentTarget.visibilityState = 'visible';
    this.documentTarget.dispatchEvent(new Event('visibilitychange'));
  }

  /** True while a client listens to this environment (it is started with `environment: control.environment`). */
  get isWatched(): boolean {
    return this.windowTarget.listens('offline') || this.documentTarget.listens('visibilitychange');
  }

  /**
   * The app subscribes (`app.subscribe`): `client.subscribe({ name: 'lifecycle', ... })`, a
   * subscription whose subscribe resolves at once and that claims no messages.
   */
  subscribe(client: WsClient): Subscription {
    this.subscription = client.subscribe({
      name: MODEL_SUBSCRIPTION.name,
      timeoutMs: MODEL_SUBSCRIPTION.timeoutMs,
      subscribe: () => {},
    });
    return this.subscription;
  }

  /**
   * The app unsubscribes the subscription {@link LifecycleControl.subscribe} made (`app.unsubscribe`).
   *
   * @throws {ReplaySetupError} when the app holds no subscription.
   */
  unsubscribe(): Promise<void> {
    const sub = this.subscription;
    if (sub === undefined)
      throw new ReplaySetupError('The app holds no subscription: no app.subscribe step ran.');
    this.subscription = undefined;
    return sub.unsubscribe();
  }

  /**
   * The path is over: every hook waiting now or later finishes at once, blocked messages go on, and
   * nothing fails on demand any more, so the client can stop normally.
   */
  finish(): void {
    this.finished = true;
    this.failUrl = false;
    this.open?.resolve();
    this.close?.resolve();
    this.open = undefined;
    this.close = undefined;
    this.release();
  }
}

/**
 * Creates a {@link LifecycleControl}: what `replayPath` needs to steer the app's side of a client.
 *
 * @example
 * ```ts
 * import { createClient } from 'wsmachine';
 * import { createLifecycleControl, createMemoryAdapter, createTestClock } from 'wsmachine/testing';
 * const control = createLifecycleControl();
 * const client = createClient({
 *   url: 'ws://app.test/',
 *   adapter: createMemoryAdapter({ autoOpen: false, autoPong: false, autoCloseReply: false }),
 *   clock: createTestClock(),
 *   hooks: control.hooks({ onMessage: (m) => console.log(m.data) }),
 *   environment: control.environment,
 * });
 * ```
 */
export function createLifecycleControl(options: LifecycleControlOptions = {}): LifecycleControl {
  return new LifecycleControl(options);
}
