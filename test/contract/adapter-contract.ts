/**
 * The one adapter contract suite (src/transport/adapter.ts), run against every adapter: the `ws`
 * adapter (test/contract/ws.test.ts) and the native `WebSocket` adapter under Node 20's
 * `--experimental-websocket` (test/contract/native.test.ts).
 *
 * Every connection made here is recorded, and after each test the recorder checks the invariants
 * that hold for all of them: `onOpen` at most once, `onClose` exactly once and never before
 * `connect()` returned, nothing after `onClose`.
 *
 * Servers are real `ws` servers (or `node:http` upgrade handlers) on 127.0.0.1, port 0. Nothing
 * sleeps: every wait resolves on an event and has a timeout only as a guard against hangs.
 */
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { isWsmError } from '../../src/core/errors.js';
import type {
  AdapterCloseInfo,
  ConnectRequest,
  OpenInfo,
  SocketAdapter,
  SocketConnection,
} from '../../src/transport/adapter.js';
import {
  cleanup,
  freePortClosed,
  startRejectingServer,
  startSilentTcpServer,
  startWsServer,
} from '../helpers/servers.js';

/** What differs between adapters, by design (documented limits, not bugs). */
export interface ContractOptions {
  /**
   * The adapter sees the HTTP status of a rejected upgrade and reports a `HandshakeError` with it
   * (ws). A browser-style native adapter only learns that the dial failed.
   */
  handshakeStatus: boolean;
  /**
   * The adapter can put any valid close code on the wire (ws). The native one can send only 1000 and
   * 3000-4999: it sends 1000 instead and reports the intended code locally.
   */
  sendsAnyCloseCode: boolean;
}

const GUARD_MS = 5_000;

/** Rejects with `label` if `promise` does not settle within the guard (turns a hang into a failure). */
function guard<T>(promise: Promise<T>, label: string, ms = GUARD_MS): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`Timed out after ${ms} ms waiting for ${label}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** One connection made through the adapter under test, with everything its listener saw. */
interface Probe {
  readonly conn: SocketConnection;
  /** Every `onOpen`, in order (the contract allows at most one). */
  readonly opens: OpenInfo[];
  /** Every message, in order. */
  readonly messages: Array<{ data: string | Uint8Array; binary: boolean }>;
  /** Every `onClose` (the contract wants exactly one). */
  readonly closes: AdapterCloseInfo[];
  /** Broken contract rules seen by the listener. */
  readonly violations: string[];
  /** Resolves with the open info (rejects if the connection closed first). */
  opened(): Promise<OpenInfo>;
  /** Resolves with the first close. */
  closed(): Promise<AdapterCloseInfo>;
  /** Resolves once `count` messages arrived in total. */
  messagesReceived(count: number): Promise<Array<{ data: string | Uint8Array; binary: boolean }>>;
}

const probes: Probe[] = [];

function connect(adapter: SocketAdapter, url: string, overrides: Partial<ConnectRequest> = {}): Probe {
  const opens: OpenInfo[] = [];
  const messages: Array<{ data: string | Uint8Array; binary: boolean }> = [];
  const closes: AdapterCloseInfo[] = [];
  const violations: string[] = [];
  const onOpen = deferred<OpenInfo | undefined>();
  const onClose = deferred<AdapterCloseInfo>();
  const messageWaiters: Array<() => void> = [];
  let returned = false;

  const request: ConnectRequest = {
    url,
    maxPayloadBytes: 1024 * 1024,
    closeTimeoutMs: 1_000,
    handshakeTimeoutMs: GUARD_MS,
    ...overrides,
  };
  const conn = adapter.connect(request, {
    onOpen(info) {
      if (!returned) violations.push('onOpen fired before connect() returned');
      if (closes.length > 0) violations.push('onOpen fired after onClose');
      if (opens.length > 0) violations.push('onOpen fired twice');
      opens.push(info);
      onOpen.resolve(info);
    },
    onMessage(data, binary) {
      if (!returned) violations.push('onMessage fired before connect() returned');
      if (closes.length > 0) violations.push('onMessage fired after onClose');
      messages.push({ data, binary });
      for (const w of messageWaiters.splice(0)) w();
    },
    onClose(info) {
      if (!returned) violations.push('onClose fired synchronously inside connect()');
      if (closes.length > 0) violations.push(`onClose fired again (${info.code})`);
      closes.push(info);
      onOpen.resolve(undefined);
      onClose.resolve(info);
      for (const w of messageWaiters.splice(0)) w();
    },
  });
  returned = true;

  const probe: Probe = {
    conn,
    opens,
    messages,
    closes,
    violations,
    async opened() {
      const info = await guard(onOpen.promise, `${url} to open`);
      if (info === undefined) {
        const close = closes[0];
        throw new Error(
          `The connection closed before it opened: ${close?.code} ${String(close?.error ?? '')}`.trim(),
        );
      }
      return info;
    },
    closed: () => guard(onClose.promise, `${url} to close`),
    messagesReceived(count) {
      return guard(
        new Promise((resolve, reject) => {
          const check = () => {
            if (messages.length >= count) resolve(messages);
            else if (closes.length > 0)
              reject(new Error(`Closed (${closes[0]?.code}) after ${messages.length}/${count} messages`));
            else messageWaiters.push(check);
          };
          check();
        }),
        `${count} message(s)`,
      );
    },
  };
  probes.push(probe);
  return probe;
}

/** A `ws` server that lets the test pick the subprotocol. */
async function startProtocolServer(pick: (offered: Set<string>) => string | false) {
  const wss = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    handleProtocols: (offered) => pick(offered),
  });
  await new Promise<void>((resolve) => wss.once('listening', resolve));
  return {
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => resolve());
      }),
  };
}

/**
 * Registers the contract suite for one adapter.
 *
 * @example
 * ```ts
 * adapterContract('ws', () => createWsAdapter(), { handshakeStatus: true, sendsAnyCloseCode: true });
 * ```
 */
export function adapterContract(
  name: string,
  makeAdapter: () => SocketAdapter,
  options: ContractOptions,
): void {
  describe(`adapter contract: ${name}`, () => {
    afterEach(async () => {
      const made = probes.splice(0);
      // Whatever a test left open is terminated; every connection must then close exactly once.
      for (const p of made) if (p.closes.length === 0) p.conn.terminate();
      await Promise.all(made.map((p) => p.closed()));
      await cleanup();
      for (const p of made) {
        expect(p.violations).toEqual([]);
        expect(p.closes).toHaveLength(1);
        expect(p.opens.length).toBeLessThanOrEqual(1);
      }
    });

    it('has a name and declares its capabilities', () => {
      const adapter = makeAdapter();
      expect(adapter.name).toBe(name);
      for (const key of ['protocolPing', 'pause', 'headers', 'terminate'] as const) {
        expect(typeof adapter.capabilities[key]).toBe('boolean');
      }
    });

    describe('open', () => {
      it('opens, reports the negotiated subprotocol, then closes cleanly on request', async () => {
        const server = await startProtocolServer((offered) => (offered.has('v2.wsm') ? 'v2.wsm' : false));
        try {
          const p = connect(makeAdapter(), server.url, { protocols: ['v2.wsm', 'v1.wsm'] });
          const info = await p.opened();
          expect(info.protocol).toBe('v2.wsm');
          expect(typeof info.extensions).toBe('string');
          expect(typeof p.conn.bufferedAmount).toBe('number');
          p.conn.close(1000, 'done');
          const close = await p.closed();
          expect(close).toMatchObject({ code: 1000, reason: 'done', wasClean: true });
          expect(close.error).toBeUndefined();
        } finally {
          await server.close();
        }
      });

      it('refuses to send before open and after close (throws, never drops silently)', async () => {
        const server = await startWsServer({ echo: true });
        const p = connect(makeAdapter(), server.url);
        expect(() => p.conn.send('too early')).toThrow();
        await p.opened();
        p.conn.close(1000, '');
        await p.closed();
        expect(() => p.conn.send('too late')).toThrow();
      });
    });

    describe('echo', () => {
      it('echoes text as string, in order', async () => {
        const server = await startWsServer({ echo: true });
        const p = connect(makeAdapter(), server.url);
        await p.opened();
        const texts = ['hello', 'héllo wörld ✓ 🚀', '', 'x'.repeat(70_000)];
        for (const t of texts) p.conn.send(t);
        const got = await p.messagesReceived(texts.length);
        expect(got.map((m) => m.binary)).toEqual(texts.map(() => false));
        expect(got.map((m) => m.data)).toEqual(texts);
      });

      it('echoes binary as Uint8Array (from Uint8Array and ArrayBuffer)', async () => {
        const server = await startWsServer({ echo: true });
        const p = connect(makeAdapter(), server.url);
        await p.opened();
        const small = new Uint8Array([0, 1, 2, 127, 128, 255]);
        const big = new Uint8Array(100_000).map((_, i) => i % 251);
        p.conn.send(small);
        p.conn.send(big.buffer);
        p.conn.send(new Uint8Array(0));
        const got = await p.messagesReceived(3);
        for (const m of got) {
          expect(m.binary).toBe(true);
          expect(m.data).toBeInstanceOf(Uint8Array);
        }
        expect(Array.from(got[0]!.data as Uint8Array)).toEqual(Array.from(small));
        expect(Buffer.from(got[1]!.data as Uint8Array).equals(Buffer.from(big))).toBe(true);
        expect((got[2]!.data as Uint8Array).byteLength).toBe(0);
      });
    });

    describe('close codes and reasons', () => {
      it.each([
        [1000, 'normal'],
        [4001, 'app code'],
        [3000, ''],
      ])('client close(%i, %j): the server sees it and onClose reports it', async (code, reason) => {
        const server = await startWsServer();
        const p = connect(makeAdapter(), server.url);
        await p.opened();
        await server.waitForConnections(1);
        p.conn.close(code, reason);
        expect(await server.waitForClosed(0)).toEqual({ code, reason });
        expect(await p.closed()).toMatchObject({ code, reason, wasClean: true });
      });

      it('client close(1001): reports 1001 locally; puts 1001 on the wire only where the runtime allows', async () => {
        const server = await startWsServer();
        const p = connect(makeAdapter(), server.url);
        await p.opened();
        await server.waitForConnections(1);
        p.conn.close(1001, 'restarting');
        const seen = await server.waitForClosed(0);
        expect(seen).toEqual({ code: options.sendsAnyCloseCode ? 1001 : 1000, reason: 'restarting' });
        expect(await p.closed()).toMatchObject({ code: 1001, reason: 'restarting' });
      });

      it('a UTF-8 reason of 123 bytes goes through intact', async () => {
        const server = await startWsServer();
        const p = connect(makeAdapter(), server.url);
        await p.opened();
        await server.waitForConnections(1);
        const reason = `${'é'.repeat(60)}abc`; // 120 + 3 bytes
        p.conn.close(4000, reason);
        expect(await server.waitForClosed(0)).toEqual({ code: 4000, reason });
        expect(await p.closed()).toMatchObject({ code: 4000, reason });
      });

      it('close() twice, then terminate(): still one onClose', async () => {
        const server = await startWsServer();
        const p = connect(makeAdapter(), server.url);
        await p.opened();
        p.conn.close(4000, 'first');
        p.conn.close(4001, 'second');
        p.conn.terminate();
        await p.closed();
        await server.waitForClosed(0);
        expect(p.closes).toHaveLength(1);
      });
    });

    describe('server close', () => {
      it.each([
        [1000, 'bye'],
        [1001, 'going away'],
        [1011, 'internal'],
        [4002, 'server app code'],
      ])('server close(%i, %j) is reported as sent, wasClean', async (code, reason) => {
        const server = await startWsServer();
        const p = connect(makeAdapter(), server.url);
        await p.opened();
        const sc = await server.waitForConnections(1);
        sc.socket.close(code, reason);
        expect(await p.closed()).toMatchObject({ code, reason, wasClean: true });
      });

      it('a close frame without a code is reported as 1005', async () => {
        const server = await startWsServer();
        const p = connect(makeAdapter(), server.url);
        await p.opened();
        (await server.waitForConnections(1)).socket.close();
        expect(await p.closed()).toMatchObject({ code: 1005, reason: '' });
      });

      it('messages sent before the server closes arrive before onClose', async () => {
        const server = await startWsServer();
        const p = connect(makeAdapter(), server.url);
        await p.opened();
        const sc = await server.waitForConnections(1);
        sc.socket.send('one');
        sc.socket.send('two');
        sc.socket.close(1000, 'after two');
        await p.closed();
        expect(p.messages.map((m) => m.data)).toEqual(['one', 'two']);
      });
    });

    describe('abrupt drop', () => {
      it('the server terminates the TCP connection: 1006, not clean', async () => {
        const server = await startWsServer();
        const p = connect(makeAdapter(), server.url);
        await p.opened();
        await server.waitForConnections(1);
        server.terminateAll();
        expect(await p.closed()).toMatchObject({ code: 1006, wasClean: false });
      });

      it('the server process goes away (listener closed, sockets killed): 1006', async () => {
        const server = await startWsServer();
        const p = connect(makeAdapter(), server.url);
        await p.opened();
        await server.waitForConnections(1);
        await server.close();
        expect(await p.closed()).toMatchObject({ code: 1006, wasClean: false });
      });
    });

    describe('dial failures', () => {
      it.each([503, 401])(
        'handshake rejected with HTTP %i: onClose with an error, never onOpen',
        async (status) => {
          const server = await startRejectingServer(status, status === 503 ? { 'Retry-After': '7' } : {});
          const p = connect(makeAdapter(), server.url);
          const close = await p.closed();
          expect(p.opens).toHaveLength(0);
          expect(close.code).toBe(1006);
          expect(close.wasClean).toBe(false);
          expect(isWsmError(close.error)).toBe(true);
          if (options.handshakeStatus) {
            expect(close.error).toMatchObject({ code: 'WSM_ERR_HANDSHAKE', status });
            if (status === 503) expect(close.error).toMatchObject({ retryAfterMs: 7_000 });
          } else {
            // The runtime hides the status (as browsers do): the adapter only knows the dial failed.
            expect((close.error as { code: string }).code).toMatch(/^WSM_ERR_(CONNECT|HANDSHAKE)$/);
          }
          expect(server.upgrades).toBe(1);
        },
      );

      it('connection refused: onClose with a connect error', async () => {
        const port = await freePortClosed();
        const p = connect(makeAdapter(), `ws://127.0.0.1:${port}`);
        const close = await p.closed();
        expect(p.opens).toHaveLength(0);
        expect(close).toMatchObject({ code: 1006, wasClean: false });
        expect(close.error).toMatchObject({ code: 'WSM_ERR_CONNECT' });
      });

      it('a malformed URL: connect() does not throw; onClose comes asynchronously with an error', async () => {
        const p = connect(makeAdapter(), 'ws://exa mple.invalid:99999/');
        expect(p.closes).toHaveLength(0);
        const close = await p.closed();
        expect(close.code).toBe(1006);
        expect(isWsmError(close.error)).toBe(true);
      });
    });

    describe('size limit (maxPayloadBytes)', () => {
      it.each([
        ['text', (n: number) => 'y'.repeat(n)],
        ['binary', (n: number) => Buffer.alloc(n, 7)],
      ])(
        '%s: a message at the limit arrives; a bigger one ends the connection reporting 1009',
        async (_kind, make) => {
          const limit = 4096;
          const server = await startWsServer();
          const p = connect(makeAdapter(), server.url, { maxPayloadBytes: limit });
          await p.opened();
          const sc = await server.waitForConnections(1);
          sc.socket.send(make(limit));
          await p.messagesReceived(1);
          sc.socket.send(make(limit + 1));
          sc.socket.send('after the big one');
          const close = await p.closed();
          expect(close.code).toBe(1009);
          expect(close.error).toMatchObject({ code: 'WSM_ERR_MESSAGE_TOO_BIG', closeCode: 1009 });
          expect(p.messages).toHaveLength(1);
          // The connection really ends on the server side too.
          await server.waitForClosed(0);
        },
      );

      it('counts UTF-8 bytes, not characters, for text', async () => {
        const limit = 1000;
        const server = await startWsServer();
        const p = connect(makeAdapter(), server.url, { maxPayloadBytes: limit });
        await p.opened();
        const sc = await server.waitForConnections(1);
        sc.socket.send('é'.repeat(500)); // 1000 bytes: fits
        await p.messagesReceived(1);
        sc.socket.send('é'.repeat(501)); // 1002 bytes in 501 characters
        expect((await p.closed()).code).toBe(1009);
        expect(p.messages).toHaveLength(1);
      });
    });

    describe('terminate()', () => {
      it('after open: ends at once (no close handshake), onClose once, nothing after it', async () => {
        const server = await startWsServer();
        const p = connect(makeAdapter(), server.url);
        await p.opened();
        const sc = await server.waitForConnections(1);
        sc.socket.send('before');
        await p.messagesReceived(1);
        p.conn.terminate();
        // Data the server sends from now on must never reach the listener.
        sc.socket.send('after');
        const close = await p.closed();
        expect(close.wasClean).toBe(false);
        expect(p.messages.map((m) => m.data)).toEqual(['before']);
        expect(() => p.conn.send('x')).toThrow();
        await server.waitForClosed(0);
      });

      it('while the handshake is still pending: onClose once, never onOpen', async () => {
        const server = await startSilentTcpServer();
        const p = connect(makeAdapter(), server.url);
        await guard(server.waitForAccepted(1), 'the TCP connection');
        p.conn.terminate();
        const close = await p.closed();
        expect(close.wasClean).toBe(false);
        expect(p.opens).toHaveLength(0);
        await server.waitForAllClosed();
      });

      it('right after connect() returned: onClose still comes asynchronously, once', async () => {
        const server = await startWsServer();
        const p = connect(makeAdapter(), server.url);
        p.conn.terminate();
        expect(p.closes).toHaveLength(0);
        await p.closed();
        expect(p.opens).toHaveLength(0);
      });

      it('after the connection already closed: no second onClose', async () => {
        const server = await startWsServer();
        const p = connect(makeAdapter(), server.url);
        await p.opened();
        (await server.waitForConnections(1)).socket.close(1000, 'server');
        await p.closed();
        p.conn.terminate();
        p.conn.close(1000, 'again');
        expect(p.closes).toHaveLength(1);
      });
    });
  });
}
