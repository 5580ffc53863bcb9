/**
 * The live inspector: a local page (127.0.0.1, no external assets) showing each attached client's
 * statechart with the current state highlighted, a scrolling event log, pending requests and queued
 * sends. Clients are attached with XState's inspection API (`actor.system.inspect`), and what it sees
 * is streamed to the page over Server-Sent Events. A client with no inspector attached pays nothing.
 *
 * Node only (node:http, node:fs). Uses only the client's public API: it is one of our first users.
 */
import { readFileSync } from 'node:fs';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createActorRegistry } from './actors.js';
import { INSPECTOR_PAGE } from './page.js';

/**
 * The part of a client the inspector uses (the public API of `WsClient`).
 *
 * @example
 * ```ts
 * import { createClient } from 'wsmachine';
 * import type { InspectableClient } from 'wsmachine/inspector';
 * const client: InspectableClient = createClient({ url: 'ws://127.0.0.1:8080' }); // every WsClient is one
 * ```
 */
export interface InspectableClient {
  readonly actor: {
    system: { inspect(observer: (event: any) => void): { unsubscribe(): void } };
    getSnapshot(): { value: unknown; context: { sessionId: number; attempt: number } };
    sessionId: string;
  };
  readonly state: string;
  on(event: string, listener: (payload: any) => void): () => void;
  stats(): { pendingRequests: number; queuedSends: number };
}

/**
 * Options of {@link createInspector}.
 *
 * @example
 * ```ts
 * import { createInspector } from 'wsmachine/inspector';
 * const inspector = await createInspector({ port: 4000, statsIntervalMs: 1_000 });
 * console.log(inspector.url); // http://127.0.0.1:4000/
 * ```
 */
export interface InspectorOptions {
  /** @default '127.0.0.1' */
  host?: string;
  /** 0 picks a free port. @default 0 */
  port?: number;
  /** How often pending requests / queued sends are sampled while a page is open. @default 500 */
  statsIntervalMs?: number;
  /** Path of the statechart SVG. @default the committed visualizations/connection.svg */
  svgPath?: string;
}

/**
 * A running inspector.
 *
 * @example
 * ```ts
 * import { createClient } from 'wsmachine';
 * import { createInspector } from 'wsmachine/inspector';
 * const inspector = await createInspector();
 * const detach = inspector.attach(createClient({ url: 'ws://127.0.0.1:8080' }), 'feed');
 * console.log('open', inspector.url, 'in a browser');
 * // ... later
 * detach();
 * await inspector.close();
 * ```
 */
export interface Inspector {
  /** `http://127.0.0.1:<port>/` */
  url: string;
  port: number;
  /**
   * Streams a client's lifecycle to the page. Returns a function that detaches it.
   * @param name shown on the page. @default `client <n>`
   */
  attach(client: InspectableClient, name?: string): () => void;
  /**
   * An XState inspection observer for your own actors: `createActor(appMachine, { inspect:
   * inspector.inspect })`. The page then lists every actor of that system (id, machine or logic,
   * current state, status) with the events each received; the client of every `fromClient` actor is
   * attached too, so the connection's statechart shows beside your app.
   */
  inspect: (event: unknown) => void;
  /** Closes the server, every page stream and every subscription. */
  close(): Promise<void>;
}

interface Attached {
  id: number;
  name: string;
  client: InspectableClient;
  detach: () => void;
  log: string[];
}

/**
 * The ids of every active state node in a snapshot value, e.g. `connection.session.open`.
 *
 * @example
 * ```ts
 * import { activeStateIds } from 'wsmachine/inspector';
 * activeStateIds('connection', { session: 'open' });
 * // ['connection', 'connection.session', 'connection.session.open']
 * ```
 */
export function activeStateIds(machineId: string, value: unknown): string[] {
  const out: string[] = [machineId];
  const walk = (prefix: string, v: unknown) => {
    if (typeof v === 'string') {
      out.push(`${prefix}.${v}`);
      return;
    }
    if (v !== null && typeof v === 'object') {
      for (const [k, child] of Object.entries(v as Record<string, unknown>)) {
        out.push(`${prefix}.${k}`);
        walk(`${prefix}.${k}`, child);
      }
    }
  };
  walk(machineId, value);
  return out;
}

function loadSvg(path: string | undefined): string {
  const candidates = path
    ? [path]
    : [
        // src/inspector/server.ts and dist/inspector.js both sit below the package root.
        fileURLToPath(new URL('../../visualizations/connection.svg', import.meta.url)),
        fileURLToPath(new URL('../visualizations/connection.svg', import.meta.url)),
      ];
  for (const c of candidates) {
    try {
      return readFileSync(c, 'utf8');
    } catch {}
  }
  return '<svg xmlns="http://www.w3.org/2000/svg" width="400" height="40"><text x="8" y="24">statechart SVG not found: run npm run visualize</text></svg>';
}

/**
 * Starts the inspector server.
 *
 * @throws {Error} (as a rejection) the listen error, e.g. `EADDRINUSE` when `port` is taken.
 *
 * @example
 * ```ts
 * import { createClient } from 'wsmachine';
 * import { createInspector } from 'wsmachine/inspector';
 * const inspector = await createInspector();
 * const client = createClient({ url });
 * inspector.attach(client, 'feed');
 * console.log('open', inspector.url);
 * ```
 */
export async function createInspector(options: InspectorOptions = {}): Promise<Inspector> {
  const svg = loadSvg(options.svgPath);
  const statsEvery = options.statsIntervalMs ?? 500;
  const clients = new Map<number, Attached>();
  const streams = new Set<ServerResponse>();
  let nextId = 1;
  let statsTimer: ReturnType<typeof setInterval> | undefined;

  const broadcast = (message: unknown) => {
    if (streams.size === 0) return;
    const frame = `data: ${JSON.stringify(message)}\n\n`;
    for (const s of streams) s.write(frame);
  };

  const describe = (a: Attached) => {
    const snap = a.client.actor.getSnapshot();
    const ctx = snap.context;
    const stats = a.client.stats();
    return {
      type: 'client',
      id: a.id,
      name: a.name,
      state: a.client.state,
      active: activeStateIds('connection', snap.value),
      sessionId: ctx.sessionId,
      attempt: ctx.attempt,
      pendingRequests: stats.pendingRequests,
      queuedSends: stats.queuedSends,
      log: a.log.slice(-200),
    };
  };

  const sampleStats = () => {
    for (const a of clients.values()) {
      const s = a.client.stats();
      broadcast({ type: 'stats', id: a.id, pendingRequests: s.pendingRequests, queuedSends: s.queuedSends });
    }
  };

  const updateTimer = () => {
    if (streams.size > 0 && clients.size > 0 && statsTimer === undefined) {
      statsTimer = setInterval(sampleStats, statsEvery);
      statsTimer.unref();
    } else if ((streams.size === 0 || clients.size === 0) && statsTimer !== undefined) {
      clearInterval(statsTimer);
      statsTimer = undefined;
    }
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(INSPECTOR_PAGE);
    } else if (path === '/statechart.svg') {
      res.writeHead(200, { 'content-type': 'image/svg+xml', 'cache-control': 'no-store' });
      res.end(svg);
    } else if (path === '/events') {
      res.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-store',
        connection: 'keep-alive',
      });
      res.write(': wsmachine inspector\n\n');
      for (const view of registry.describe()) res.write(`data: ${JSON.stringify(view)}\n\n`);
      for (const a of clients.values()) res.write(`data: ${JSON.stringify(describe(a))}\n\n`);
      streams.add(res);
      updateTimer();
      req.on('close', () => {
        streams.delete(res);
        updateTimer();
      });
    } else if (path === '/favicon.ico') {
      res.writeHead(204).end();
    } else {
      res.writeHead(404).end();
    }
  };

  const server: Server = createServer(handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const host = options.host ?? '127.0.0.1';

  const inspector: Inspector = {
    url: `http://${host}:${port}/`,
    port,
    inspect: (event) => registry.observe(event as Parameters<typeof registry.observe>[0]),
    attach(client, name) {
      const id = nextId++;
      const a: Attached = { id, name: name ?? `client ${id}`, client, detach: () => {}, log: [] };
      const note = (line: string) => {
        const entry = `${new Date().toISOString().slice(11, 23)} ${line}`;
        a.log.push(entry);
        if (a.log.length > 500) a.log.splice(0, a.log.length - 200);
        broadcast({ type: 'log', id, line: entry });
      };
      const rootId = client.actor.sessionId;
      const sub = client.actor.system.inspect(
        (ev: { type: string; actorRef?: { id?: string; sessionId?: string }; snapshot?: any }) => {
          // The client's subscriptions (children of its machine) are listed with the actors.
          if (ev.actorRef?.id?.startsWith('subscription:')) registry.observe(ev as never);
          // Only the client's own machine, not its socket and hook actors.
          if (ev.type !== '@xstate.snapshot' || ev.actorRef?.sessionId !== rootId) return;
          const snap = ev.snapshot as { value: unknown; context: { sessionId: number; attempt: number } };
          broadcast({
            type: 'snapshot',
            id,
            state: client.state,
            active: activeStateIds('connection', snap.value),
            sessionId: snap.context.sessionId,
            attempt: snap.context.attempt,
          });
        },
      );
      const offs = [
        client.on('state', ({ from, to }: { from: string; to: string }) => note(`state ${from} -> ${to}`)),
        client.on('open', (e: { sessionId: number }) => note(`open session ${e.sessionId}`)),
        client.on('close', (e: { code: number; reason: string; class: string }) =>
          note(`close ${e.code}${e.reason ? ` "${e.reason}"` : ''} (${e.class})`),
        ),
        client.on('reconnecting', (e: { attempt: number; delayMs: number }) => {
          note(`reconnecting: attempt ${e.attempt} in ${e.delayMs} ms`);
          // A delay, not a date: the page times it on its own monotonic clock (no clock shared across processes).
          broadcast({ type: 'countdown', id, delayMs: e.delayMs });
        }),
        client.on('heartbeat-missed', (e: { missed: number }) => note(`heartbeat missed (${e.missed})`)),
        client.on('error', (e: { code: string; message: string }) => note(`error ${e.code}: ${e.message}`)),
        client.on('undelivered', (e: { messages: unknown[] }) =>
          note(`undelivered: ${e.messages.length} message(s)`),
        ),
        client.on('stopped', () => note('stopped')),
      ];
      a.detach = () => {
        sub.unsubscribe();
        for (const off of offs) off();
        clients.delete(id);
        broadcast({ type: 'detached', id });
        updateTimer();
      };
      clients.set(id, a);
      broadcast(describe(a));
      updateTimer();
      return a.detach;
    },
    async close() {
      for (const a of [...clients.values()]) a.detach();
      if (statsTimer !== undefined) clearInterval(statsTimer);
      statsTimer = undefined;
      for (const s of streams) s.end();
      streams.clear();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
  // A `fromClient` actor's connection gets its own panel, detached once that client has stopped.
  const registry = createActorRegistry(broadcast, (client, name) => {
    const detach = inspector.attach(client, name);
    const off = client.on('stopped', () => {
      off();
      // After the step that stopped it: its last snapshot (`stopped`) still reaches the page.
      queueMicrotask(detach);
    });
  });
  return inspector;
}
