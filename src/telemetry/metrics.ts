/**
 * Instruments, created once per MeterProvider and shared by every client instrumented with it.
 *
 * Messages, bytes, pending requests and queued sends are observable instruments read from
 * `client.stats()` at collection time: the receive path pays nothing for them. One batch callback
 * per provider observes every attached client; clients with the same attributes add up into one
 * series (a process total), and a client that detaches leaves its final counts in that total, so the
 * counters stay monotonic. The callback is removed when the last client detaches.
 */
import type {
  Attributes,
  BatchObservableResult,
  Counter,
  Histogram,
  Meter,
  MeterProvider,
  Observable,
  ObservableCounter,
  ObservableGauge,
} from '@opentelemetry/api';
import type { ClientStats } from '../public.js';
import { Attr, Buckets, INSTRUMENTATION_SCOPE, Metrics } from './attributes.js';

interface Totals {
  messagesIn: number;
  messagesOut: number;
  bytesIn: number;
  bytesOut: number;
}

interface Entry {
  readonly stats: () => ClientStats;
  readonly attributes: Attributes;
  readonly key: string;
  /** Counts the client had when it was attached: only what follows is reported. */
  readonly baseline: Totals;
}

interface Group {
  attributes: Attributes;
  totals: Totals;
  pendingRequests: number;
  queuedSends: number;
  live: boolean;
}

const zero = (): Totals => ({ messagesIn: 0, messagesOut: 0, bytesIn: 0, bytesOut: 0 });

function totalsOf(stats: ClientStats): Totals {
  return {
    messagesIn: stats.messagesIn,
    messagesOut: stats.messagesOut,
    bytesIn: stats.bytesIn,
    bytesOut: stats.bytesOut,
  };
}

function add(into: Totals, from: Totals, minus?: Totals): void {
  into.messagesIn += from.messagesIn - (minus?.messagesIn ?? 0);
  into.messagesOut += from.messagesOut - (minus?.messagesOut ?? 0);
  into.bytesIn += from.bytesIn - (minus?.bytesIn ?? 0);
  into.bytesOut += from.bytesOut - (minus?.bytesOut ?? 0);
}

/** A stable identity for an attribute set. */
function keyOf(attributes: Attributes): string {
  return JSON.stringify(
    Object.keys(attributes)
      .sort()
      .map((k) => [k, attributes[k]]),
  );
}

/** The instruments of one MeterProvider and the clients observed through it. */
export class MeterInstruments {
  readonly connectionsOpened: Counter;
  readonly reconnects: Counter;
  readonly sessionDuration: Histogram;
  readonly requestDuration: Histogram;
  readonly heartbeatRtt: Histogram;
  readonly heartbeatMissed: Counter;
  private readonly meter: Meter;
  private readonly messages: ObservableCounter;
  private readonly bytes: ObservableCounter;
  private readonly pendingRequests: ObservableGauge;
  private readonly queuedSends: ObservableGauge;
  private readonly observables: Observable[];
  private readonly entries = new Set<Entry>();
  /** Final counts of detached clients, per attribute set. */
  private readonly retired = new Map<string, { attributes: Attributes; totals: Totals }>();
  private readonly callback = (result: BatchObservableResult) => this.observe(result);

  constructor(provider: MeterProvider) {
    const meter = provider.getMeter(INSTRUMENTATION_SCOPE);
    this.meter = meter;
    const m = Metrics;
    const opts = (d: { unit: string; description: string }) => ({ unit: d.unit, description: d.description });
    this.connectionsOpened = meter.createCounter(m.connectionsOpened.name, opts(m.connectionsOpened));
    this.reconnects = meter.createCounter(m.reconnects.name, opts(m.reconnects));
    this.sessionDuration = meter.createHistogram(m.sessionDuration.name, {
      ...opts(m.sessionDuration),
      advice: { explicitBucketBoundaries: [...Buckets.sessionDuration] },
    });
    this.requestDuration = meter.createHistogram(m.requestDuration.name, {
      ...opts(m.requestDuration),
      advice: { explicitBucketBoundaries: [...Buckets.requestDuration] },
    });
    this.heartbeatRtt = meter.createHistogram(m.heartbeatRtt.name, {
      ...opts(m.heartbeatRtt),
      advice: { explicitBucketBoundaries: [...Buckets.heartbeatRtt] },
    });
    this.heartbeatMissed = meter.createCounter(m.heartbeatMissed.name, opts(m.heartbeatMissed));
    this.messages = meter.createObservableCounter(m.messages.name, opts(m.messages));
    this.bytes = meter.createObservableCounter(m.bytes.name, opts(m.bytes));
    this.pendingRequests = meter.createObservableGauge(m.pendingRequests.name, opts(m.pendingRequests));
    this.queuedSends = meter.createObservableGauge(m.queuedSends.name, opts(m.queuedSends));
    this.observables = [this.messages, this.bytes, this.pendingRequests, this.queuedSends];
  }

  /** Number of clients observed now (for tests). */
  get observedClients(): number {
    return this.entries.size;
  }

  /** Observes a client's stats until the returned function is called. */
  observeClient(stats: () => ClientStats, attributes: Attributes): () => void {
    const entry: Entry = { stats, attributes, key: keyOf(attributes), baseline: totalsOf(stats()) };
    if (this.entries.size === 0) this.meter.addBatchObservableCallback(this.callback, this.observables);
    this.entries.add(entry);
    return () => {
      if (!this.entries.delete(entry)) return;
      let stillLive = false;
      for (const e of this.entries) if (e.key === entry.key) stillLive = true;
      if (!stillLive) {
        // The last client of this series left: the series ends, so short-lived clients with their
        // own attributes do not accumulate forever (memory, and the SDK's cardinality limit).
        this.retired.delete(entry.key);
      } else {
        // Others still report under the same attributes: carry this client's counts, so the
        // series' counters never go back.
        let retired = this.retired.get(entry.key);
        if (retired === undefined) {
          retired = { attributes: entry.attributes, totals: zero() };
          this.retired.set(entry.key, retired);
        }
        add(retired.totals, totalsOf(entry.stats()), entry.baseline);
      }
      if (this.entries.size === 0) this.meter.removeBatchObservableCallback(this.callback, this.observables);
    };
  }

  private observe(result: BatchObservableResult): void {
    const groups = new Map<string, Group>();
    for (const [key, retired] of this.retired) {
      const totals = zero();
      add(totals, retired.totals);
      groups.set(key, {
        attributes: retired.attributes,
        totals,
        pendingRequests: 0,
        queuedSends: 0,
        live: false,
      });
    }
    for (const entry of this.entries) {
      let stats: ClientStats;
      try {
        stats = entry.stats();
      } catch {
        continue;
      }
      let group = groups.get(entry.key);
      if (group === undefined) {
        group = {
          attributes: entry.attributes,
          totals: zero(),
          pendingRequests: 0,
          queuedSends: 0,
          live: true,
        };
        groups.set(entry.key, group);
      }
      group.live = true;
      add(group.totals, totalsOf(stats), entry.baseline);
      group.pendingRequests += stats.pendingRequests;
      group.queuedSends += stats.queuedSends;
    }
    for (const group of groups.values()) {
      const rx = { ...group.attributes, [Attr.networkIoDirection]: 'receive' };
      const tx = { ...group.attributes, [Attr.networkIoDirection]: 'transmit' };
      result.observe(this.messages, group.totals.messagesIn, rx);
      result.observe(this.messages, group.totals.messagesOut, tx);
      result.observe(this.bytes, group.totals.bytesIn, rx);
      result.observe(this.bytes, group.totals.bytesOut, tx);
      if (group.live) {
        result.observe(this.pendingRequests, group.pendingRequests, group.attributes);
        result.observe(this.queuedSends, group.queuedSends, group.attributes);
      }
    }
  }
}

const byProvider = new WeakMap<MeterProvider, MeterInstruments>();

/** The shared instruments of a MeterProvider (created on first use). */
export function instrumentsFor(provider: MeterProvider): MeterInstruments {
  let instruments = byProvider.get(provider);
  if (instruments === undefined) {
    instruments = new MeterInstruments(provider);
    byProvider.set(provider, instruments);
  }
  return instruments;
}
