/** `inbound`: the bounds of the receive queue (backpressure marks, the hard cap, iterator buffers). */
import type { Checker } from './checker.js';
import { DEFAULTS } from './defaults.js';

/** Inbound queue bounds after defaults. */
export interface ResolvedInbound {
  highWaterMark: number;
  highWaterBytes: number;
  lowWaterMark: number;
  maxQueued: number;
  maxQueuedBytes: number;
  iteratorBufferSize: number;
  iteratorBufferBytes: number;
}

/** Checks `inbound` (an object), fills in its defaults, and checks the marks against each other. */
export function resolveInbound(c: Checker, value: unknown): ResolvedInbound {
  const ib = c.section('inbound', value, false) || {};
  c.known('inbound', ib, [
    'highWaterMark',
    'highWaterBytes',
    'lowWaterMark',
    'maxQueued',
    'maxQueuedBytes',
    'iteratorBufferSize',
    'iteratorBufferBytes',
  ]);
  const id = DEFAULTS.inbound;
  const inbound: ResolvedInbound = {
    highWaterMark: c.int('inbound.highWaterMark', ib.highWaterMark, id.highWaterMark, 1),
    highWaterBytes: c.int('inbound.highWaterBytes', ib.highWaterBytes, id.highWaterBytes, 1),
    lowWaterMark: c.int('inbound.lowWaterMark', ib.lowWaterMark, id.lowWaterMark, 0),
    maxQueued: c.int('inbound.maxQueued', ib.maxQueued, id.maxQueued, 1),
    maxQueuedBytes: c.int('inbound.maxQueuedBytes', ib.maxQueuedBytes, id.maxQueuedBytes, 1),
    iteratorBufferSize: c.int('inbound.iteratorBufferSize', ib.iteratorBufferSize, id.iteratorBufferSize, 1),
    iteratorBufferBytes: c.int(
      'inbound.iteratorBufferBytes',
      ib.iteratorBufferBytes,
      id.iteratorBufferBytes,
      1,
    ),
  };
  if (inbound.lowWaterMark >= inbound.highWaterMark) {
    c.add(
      'inbound.lowWaterMark',
      inbound.lowWaterMark,
      `an integer below inbound.highWaterMark (${inbound.highWaterMark})`,
    );
  }
  if (inbound.maxQueuedBytes < inbound.highWaterBytes) {
    c.add(
      'inbound.maxQueuedBytes',
      inbound.maxQueuedBytes,
      `an integer >= inbound.highWaterBytes (${inbound.highWaterBytes})`,
    );
  }
  if (inbound.maxQueued < inbound.highWaterMark) {
    c.add(
      'inbound.maxQueued',
      inbound.maxQueued,
      `an integer >= inbound.highWaterMark (${inbound.highWaterMark})`,
    );
  }
  return inbound;
}
