/**
 * `wsmachine/compat` (Node entry) as the `WebSocket` interface, against real `ws` servers on
 * 127.0.0.1: the public-API behaviour that reconnecting-websocket's and partysocket's own suites check
 * (constructor forms, constants, getters, readyState progression, handlers and `handleEvent` listeners,
 * close() idempotent and validated, binaryType, the URL provider), asserted as a user sees it.
 */
import { Blob } from 'node:buffer';
import { afterEach, describe, expect, it, vi } from 'vitest';
import ReconnectingWebSocket, { ReconnectingWebSocket as Named } from '../../src/compat-node.js';
import WebSocket from 'ws';
import { InvalidOptionsError, createWsAdapter, isErrorCode } from '../../src/node.js';
import { nextEvent, openSocket, record } from '../helpers/compat.js';
import { cleanup, freePortClosed, startWsServer, waitFor } from '../helpers/servers.js';

afterEach(cleanup);

function thrownBy(fn: () => unknown): any {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('construction', () => {
  it('is the default and the named export, throws a TypeError without new, and has the constants', () => {
    expect(Named).toBe(ReconnectingWebSocket);
    expect(() => (ReconnectingWebSocket as unknown as (url: string) => unknown)('ws://127.0.0.1:1')).toThrow(
      TypeError,
    );
    expect([
      ReconnectingWebSocket.CONNECTING,
      ReconnectingWebSocket.OPEN,
      ReconnectingWebSocket.CLOSING,
      ReconnectingWebSocket.CLOSED,
    ]).toEqual([0, 1, 2, 3]);
    const ws = openSocket('ws://127.0.0.1:1', undefined, { startClosed: true });
    expect([ws.CONNECTING, ws.OPEN, ws.CLOSING, ws.CLOSED]).toEqual([0, 1, 2, 3]);
  });

  it('rejects what is not a WebSocket class, unknown options, a bad URL type and a protocols function', () => {
    for (const bad of [123, {}, () => {}]) {
      const error = thrownBy(() => new ReconnectingWebSocket('ws://127.0.0.1:1', [], { WebSocket: bad }));
      expect(error).toBeInstanceOf(InvalidOptionsError);
      expect(error.problems[0].option).toBe('WebSocket');
    }
    const typo = thrownBy(() => new ReconnectingWebSocket('ws://127.0.0.1:1', [], { maxRetry: 3 } as never));
    expect(typo.problems.map((p: { option: string }) => p.option)).toEqual(['maxRetry']);
    expect(thrownBy(() => new ReconnectingWebSocket(123 as never)).problems[0].option).toBe('url');
    const both = thrownBy(
      () =>
        new ReconnectingWebSocket('ws://127.0.0.1:1', [], {
          WebSocket,
          clientOptions: { adapter: createWsAdapter() },
        }),
    );
    expect(both.problems[0].expected).toMatch(/clientOptions.adapter/);
    const protocols = thrownBy(() => new ReconnectingWebSocket('ws://127.0.0.1:1', (() => 'x') as never));
    expect(protocols.message).toMatch(/function per attempt is not supported/);
    const values = thrownBy(
      () =>
        new ReconnectingWebSocket('ws://127.0.0.1:1', [], {
          maxRetries: -1,
          reconnectionDelayGrowFactor: 0.5,
          connectionTimeout: Number.NaN,
        }),
    );
    expect(values.problems.map((p: { option: string }) => p.option)).toEqual([
      'reconnectionDelayGrowFactor',
      'connectionTimeout',
      'maxRetries',
    ]);
  });

  it('has the not-ready getters before the first dial (startClosed)', () => {
    const ws = openSocket('ws://127.0.0.1:1', undefined, { startClosed: true });
    expect(ws.readyState).toBe(ws.CLOSED);
    expect(ws.bufferedAmount).toBe(0);
    expect(ws.protocol).toBe('');
    expect(ws.url).toBe('');
    expect(ws.extensions).toBe('');
    expect(ws.binaryType).toBe('blob');
    expect(ws.retryCount).toBe(0);
    expect(ws.shouldReconnect).toBe(false);
    expect(ws.client.state).toBe('idle');
  });
});

describe('connect, send, receive, close', () => {
  it('goes CONNECTING -> OPEN -> CLOSING -> CLOSED, with the negotiated protocol and the close the server saw', async () => {
    const server = await startWsServer({ echo: true });
    const ws = openSocket(server.url, 'foobar', { minReconnectionDelay: 0 });
    const rec = record(ws);
    expect(ws.readyState).toBe(ws.CONNECTING);
    expect(ws.url).toBe(`${server.url}/`); // serialized, as the WHATWG url getter does

    await nextEvent(ws, 'open');
    expect(ws.readyState).toBe(ws.OPEN);
    expect(ws.protocol).toBe('foobar');
    expect(ws.extensions).toBe('');
    expect(ws.bufferedAmount).toBe(0);
    expect(ws.send('hello')).toBe(true);

    const message = await nextEvent(ws, 'message');
    expect(message.data).toBe('hello');
    expect(message.origin).toBe(server.url);
    expect([message.type, message.target, message.currentTarget]).toEqual(['message', ws, ws]);
    expect([message.lastEventId, message.source, message.ports]).toEqual(['', null, []]);
    expect(message.timeStamp).toBeGreaterThan(0);
    expect(message.timeStamp).toBeLessThanOrEqual(performance.now());
    ws.close(1000, 'some reason');
    expect(ws.readyState).toBe(ws.CLOSING);

    const close = await nextEvent(ws, 'close');
    expect(ws.readyState).toBe(ws.CLOSED);
    expect([close.code, close.reason, close.wasClean]).toEqual([1000, 'some reason', true]);
    expect([close.type, close.target, close.bubbles, close.cancelable]).toEqual(['close', ws, false, false]);
    expect(close.timeStamp).toBeGreaterThanOrEqual(message.timeStamp);
    expect(await server.waitForClosed(0)).toEqual({ code: 1000, reason: 'some reason' });
    expect(ws.url).toBe(`${server.url}/`);
    expect(rec.types).toEqual(['open', 'message', 'close']);
    expect(ws.shouldReconnect).toBe(false);
    expect(ws.client.state).toBe('stopped');
  });

  it('offers no subprotocol for undefined, null or an empty list', async () => {
    const server = await startWsServer();
    for (const protocols of [undefined, null, []]) {
      const ws = openSocket(server.url, protocols);
      await nextEvent(ws, 'open');
      expect(ws.protocol).toBe('');
      ws.close();
      await nextEvent(ws, 'close');
    }
    expect(server.connections.map((c) => c.socket.protocol)).toEqual(['', '', '']);
  });

  it('takes the URL from a function or an async function, called again for every attempt', async () => {
    const server = await startWsServer();
    const refused = `ws://127.0.0.1:${await freePortClosed()}`;
    const calls: string[] = [];
    const urls = [refused, server.url];
    const ws = openSocket(
      async () => {
        const next = urls[Math.min(calls.length, urls.length - 1)]!;
        calls.push(next);
        return next;
      },
      undefined,
      { minReconnectionDelay: 0 },
    );
    const rec = record(ws);
    await nextEvent(ws, 'open');
    expect(calls).toEqual([refused, server.url]);
    expect(ws.url).toBe(`${server.url}/`);
    expect(rec.types).toEqual(['error', 'close', 'open']);
    expect(rec.of('close')[0].code).toBe(1006);

    const sync = openSocket(() => server.url);
    await nextEvent(sync, 'open');
    expect(sync.url).toBe(`${server.url}/`);
  });

  it('negotiates permessage-deflate when the server offers it, and reports it in extensions', async () => {
    const { WebSocketServer } = await import('ws');
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: true });
    await new Promise((resolve) => wss.once('listening', resolve));
    try {
      const ws = openSocket(`ws://127.0.0.1:${(wss.address() as { port: number }).port}`);
      await nextEvent(ws, 'open');
      expect(ws.extensions).toMatch(/^permessage-deflate/);
      ws.close();
      await nextEvent(ws, 'close');
    } finally {
      for (const client of wss.clients) client.terminate();
      await new Promise((resolve) => wss.close(resolve));
    }
  });
});

describe('handlers and listeners', () => {
  it('calls onX first, then listeners (functions and handleEvent objects) in order; duplicates once; unknown types ignored', async () => {
    const server = await startWsServer();
    const ws = openSocket(server.url);
    const calls: string[] = [];
    const fail = () => calls.push('removed listener ran');
    const failObject = { handleEvent: () => calls.push('removed object ran') };
    const object = {
      name: 'object',
      handleEvent(this: { name: string }, event: { type: string }) {
        calls.push(`${this.name}:${event.type}`);
      },
    };
    const fn = function (this: unknown, event: { target: unknown }) {
      calls.push(`fn this=${this === ws} target=${event.target === ws}`);
    };
    ws.addEventListener('unknown1', fail);
    ws.addEventListener('open', fn);
    ws.addEventListener('open', fn); // the same listener twice: added once
    ws.addEventListener('open', object);
    ws.addEventListener('open', fail);
    ws.addEventListener('open', failObject);
    ws.removeEventListener('open', fail);
    ws.removeEventListener('open', failObject);
    ws.removeEventListener('unknown2', fail);
    ws.onopen = function (event) {
      calls.push(`onopen this=${this === ws} type=${event.type}`);
    };
    await nextEvent(ws, 'open');
    expect(calls).toEqual(['onopen this=true type=open', 'fn this=true target=true', 'object:open']);
    expect(ws.dispatchEvent({ type: 'unknown1' })).toBe(true);
    expect(calls).toHaveLength(3);
  });

  it('honours once, signal and stopImmediatePropagation; a listener added during dispatch waits for the next event', async () => {
    const server = await startWsServer({ echo: true });
    const ws = openSocket(server.url);
    const calls: string[] = [];
    const abort = new AbortController();
    ws.addEventListener('message', (e) => calls.push(`once ${e.data}`), { once: true });
    ws.addEventListener('message', (e) => calls.push(`signal ${e.data}`), { signal: abort.signal });
    ws.addEventListener('message', (e) => {
      calls.push(`first ${e.data}`);
      if (e.data === 'b') ws.addEventListener('message', (late) => calls.push(`late ${late.data}`));
      if (e.data === 'c') e.stopImmediatePropagation();
    });
    ws.addEventListener('message', (e) => calls.push(`last ${e.data}`));
    await nextEvent(ws, 'open');
    ws.send('a');
    await nextEvent(ws, 'message');
    abort.abort();
    ws.send('b');
    await nextEvent(ws, 'message');
    // The stopped dispatch reaches no later listener (nextEvent's neither): wait on the echo after it.
    ws.send('c');
    ws.send('d');
    await nextEvent(ws, 'message', (e) => e.data === 'd');
    expect(calls).toEqual([
      'once a',
      'signal a',
      'first a',
      'last a',
      'first b',
      'last b',
      'first c', // stopImmediatePropagation: neither 'last c' nor 'late c'
      'first d',
      'last d',
      'late d',
    ]);
  });

  it('keeps running the other listeners when one throws, and reports the error', async () => {
    const server = await startWsServer({ echo: true });
    const ws = openSocket(server.url);
    const reported = vi.spyOn(console, 'error').mockImplementation(() => {});
    const seen: string[] = [];
    ws.onmessage = () => {
      throw new Error('boom in onmessage');
    };
    ws.addEventListener('message', () => {
      throw new Error('boom in a listener');
    });
    ws.addEventListener('message', (e) => seen.push(e.data));
    await nextEvent(ws, 'open');
    ws.send('one');
    ws.send('two');
    await nextEvent(ws, 'message', () => seen.length === 2);
    expect(seen).toEqual(['one', 'two']);
    expect(ws.readyState).toBe(ws.OPEN);
    const messages = reported.mock.calls.map((c) => String(c[1]));
    expect(messages.filter((m) => m.includes('boom in onmessage'))).toHaveLength(2);
    expect(messages.filter((m) => m.includes('boom in a listener'))).toHaveLength(2);
    reported.mockRestore();
  });
});

describe('binaryType', () => {
  it('delivers Blob by default, ArrayBuffer and Buffer on request, switched after open and kept across reconnects', async () => {
    const server = await startWsServer({ echo: true });
    const ws = openSocket(server.url, undefined, { minReconnectionDelay: 0 });
    expect(ws.binaryType).toBe('blob');
    await nextEvent(ws, 'open');
    const roundTrip = async () => {
      const received = nextEvent(ws, 'message');
      ws.send(new Uint8Array([1, 2, 3]));
      return (await received).data;
    };
    const blob = await roundTrip();
    expect(blob).toBeInstanceOf(Blob);
    expect([...new Uint8Array(await blob.arrayBuffer())]).toEqual([1, 2, 3]);

    ws.binaryType = 'arraybuffer';
    const buffer = await roundTrip();
    expect(buffer).toBeInstanceOf(ArrayBuffer);
    expect([...new Uint8Array(buffer)]).toEqual([1, 2, 3]);
    expect(buffer.byteLength).toBe(3); // just the message, not ws's read buffer

    ws.binaryType = 'nodebuffer';
    expect(Buffer.isBuffer(await roundTrip())).toBe(true);

    ws.binaryType = 'arraybuffer';
    server.terminateAll();
    await nextEvent(ws, 'open');
    expect(ws.binaryType).toBe('arraybuffer');
    expect(await roundTrip()).toBeInstanceOf(ArrayBuffer);

    const error = thrownBy(() => {
      ws.binaryType = 'blobs' as never;
    });
    expect(isErrorCode(error, 'WSM_ERR_INVALID_OPTIONS')).toBe(true);
    expect(ws.binaryType).toBe('arraybuffer');
  });

  it('sends every kind of data the browser accepts, in call order, a Blob included', async () => {
    const server = await startWsServer();
    const ws = openSocket(server.url);
    await nextEvent(ws, 'open');
    const bytes = new Uint8Array([9, 8, 7, 6]);
    expect(ws.send('text')).toBe(true);
    expect(ws.send(new DataView(bytes.buffer, 1, 2))).toBe(true);
    expect(ws.send(new Blob([new Uint8Array([1, 2, 3, 4, 5])]) as never)).toBe(false); // read first
    expect(ws.send('after the blob')).toBe(false); // waits behind it, in order
    expect(ws.bufferedAmount).toBeGreaterThanOrEqual(5 + 'after the blob'.length);
    ws.send(new Int16Array([1, 2]));
    ws.send(42 as never); // String(data), as the WHATWG send() converts it
    expect(await server.waitForMessages(0, 6)).toEqual([
      'text',
      'binary:2',
      'binary:5',
      'after the blob',
      'binary:4',
      '42',
    ]);
    await waitFor(ws.client, () => ws.bufferedAmount === 0, 'the buffer to drain');
  });
});

describe('close()', () => {
  it('throws the DOM errors for a code or reason a browser refuses, and sends nothing', async () => {
    const server = await startWsServer();
    const ws = openSocket(server.url);
    await nextEvent(ws, 'open');
    for (const code of [1001, 999, 1005, 2999, 5000]) {
      const error = thrownBy(() => ws.close(code));
      expect(error).toBeInstanceOf(DOMException);
      expect(error.name).toBe('InvalidAccessError');
    }
    const long = thrownBy(() => ws.close(1000, 'é'.repeat(62))); // 124 bytes of UTF-8
    expect([long.name, long instanceof DOMException]).toEqual(['SyntaxError', true]);
    expect(thrownBy(() => ws.reconnect(1001)).name).toBe('InvalidAccessError');
    expect(ws.readyState).toBe(ws.OPEN);
    expect(server.connections[0]!.closed).toBeUndefined();
    ws.close(4000, 'é'.repeat(61)); // 122 bytes: allowed
    expect(await server.waitForClosed(0)).toEqual({ code: 4000, reason: 'é'.repeat(61) });
  });

  it('is idempotent: one close event, one close frame', async () => {
    const server = await startWsServer();
    const ws = openSocket(server.url);
    const rec = record(ws);
    ws.addEventListener('close', () => ws.close()); // re-entrant: a no-op, no second event
    await nextEvent(ws, 'open');
    ws.close();
    ws.close();
    ws.close(4001);
    await nextEvent(ws, 'close');
    ws.close();
    await waitFor(ws.client, () => ws.client.state === 'stopped', 'stopped');
    expect(rec.of('close')).toHaveLength(1);
    expect(await server.waitForClosed(0)).toEqual({ code: 1000, reason: '' });
    expect(server.connections).toHaveLength(1);
  });

  it('before the connection is established: no open, at most one close, no connection left', async () => {
    const server = await startWsServer();
    const ws = openSocket(server.url, undefined, { minReconnectionDelay: 0 });
    const rec = record(ws);
    ws.close();
    await waitFor(ws.client, () => ws.client.state === 'stopped', 'stopped');
    expect(rec.of('open')).toEqual([]);
    expect(rec.of('close').length).toBeLessThanOrEqual(1);
    expect(ws.readyState).toBe(ws.CLOSED);
    expect(server.openConnections).toEqual([]);
  });
});
