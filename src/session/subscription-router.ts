/**
 * Routing received messages to subscriptions: the hot path, between the request correlator and the
 * dispatcher. No machine event and no allocation per message.
 *
 * - Keyed subscriptions (`key`) are grouped by key function (identity): per message, each distinct
 *   key function is called once and its result looked up in a map of names. N subscriptions sharing
 *   one key function cost one call and one lookup, not O(N).
 * - Subscriptions with only `match` are scanned: O(their number) per message.
 *
 * A message goes to every subscription that claims it. A throwing (or promise-returning) key or match
 * is reported as a `HookError` and counts as "no": the receive path goes on.
 */
import { HookError, type WsmError } from '../core/errors.js';
import type { Message } from '../core/message.js';
import { observeIfThenable, returnedPromise } from '../core/safe.js';
import type { Subscription } from './subscription.js';

type KeyFn = (message: Message) => unknown;
type MatchFn = (message: Message) => unknown;

interface KeyGroup {
  readonly key: KeyFn;
  readonly byName: Map<string, Subscription>;
}

const hookName = (sub: Subscription | undefined) =>
  sub === undefined ? 'subscription key' : `subscription ${JSON.stringify(sub.name)} match`;

/** The subscriptions of one client that claim messages. */
export class SubscriptionRouter {
  private groups: KeyGroup[] = [];
  private predicates: Subscription[] = [];
  private readonly report: (error: WsmError) => void;
  /** How many subscriptions claim messages; 0: the receive path skips routing (one comparison). */
  size = 0;

  constructor(report: (error: WsmError) => void) {
    this.report = report;
  }

  add(sub: Subscription): void {
    const { key, match } = sub.options;
    if (key !== undefined) {
      let group = this.groups.find((g) => g.key === key);
      if (group === undefined) {
        group = { key, byName: new Map() };
        // A new array: a route() under way (a listener subscribing) keeps iterating the old one.
        this.groups = [...this.groups, group];
      }
      group.byName.set(sub.name, sub);
    } else if (match !== undefined) {
      this.predicates = [...this.predicates, sub];
    } else {
      return;
    }
    this.size++;
  }

  remove(sub: Subscription): void {
    const key = sub.options.key;
    if (key !== undefined) {
      const group = this.groups.find((g) => g.key === key);
      if (group === undefined || group.byName.get(sub.name) !== sub) return;
      group.byName.delete(sub.name);
      if (group.byName.size === 0) this.groups = this.groups.filter((g) => g !== group);
    } else {
      const i = this.predicates.indexOf(sub);
      if (i < 0) return;
      this.predicates = this.predicates.filter((s) => s !== sub);
    }
    this.size--;
  }

  /** Hands `message` to every subscription that claims it; true when one did. */
  route(message: Message): boolean {
    let claimed = false;
    const groups = this.groups;
    for (let g = 0; g < groups.length; g++) {
      const group = groups[g]!;
      const key = this.ask(group.key, message, undefined);
      const name = typeof key === 'string' ? key : typeof key === 'number' ? String(key) : undefined;
      if (name === undefined) continue;
      const sub = group.byName.get(name);
      if (sub === undefined) continue;
      const match = sub.options.match as MatchFn | undefined;
      if (match !== undefined && this.ask(match, message, sub) !== true) continue;
      sub.deliver(message);
      claimed = true;
    }
    const predicates = this.predicates;
    for (let i = 0; i < predicates.length; i++) {
      const sub = predicates[i]!;
      if (this.ask(sub.options.match as MatchFn, message, sub) !== true) continue;
      sub.deliver(message);
      claimed = true;
    }
    return claimed;
  }

  /**
   * A user function's answer (a key function's when `sub` is undefined, else `sub`'s match), or
   * undefined when it threw or returned a promise (reported). The hook's name is made only then.
   */
  private ask(fn: (m: Message) => unknown, message: Message, sub: Subscription | undefined): unknown {
    let answer: unknown;
    try {
      answer = fn(message);
    } catch (error) {
      this.report(new HookError(hookName(sub), error, message.sessionId, message));
      return undefined;
    }
    if (typeof answer === 'object' && answer !== null) {
      const hook = hookName(sub);
      if (observeIfThenable(answer, (error) => this.report(new HookError(hook, error, message.sessionId)))) {
        this.report(returnedPromise(hook, message.sessionId));
        return undefined;
      }
    }
    return answer;
  }
}
