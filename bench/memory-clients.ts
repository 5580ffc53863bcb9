/**
 * Child process of bench/memory.ts (run with --expose-gc): opens `count` idle clients of one kind
 * against the server at `url`, and reports heap and RSS growth per open client after GC.
 *
 *   node --import tsx --expose-gc bench/memory-clients.ts KIND COUNT URL
 *
 * Everything the kind needs is imported before the baseline is taken, so module code is not counted.
 */
import PartySocket from 'partysocket/ws';
import { WebsocketBuilder, WebsocketEvent } from 'websocket-ts';
import WebSocket from 'ws';
import { ReconnectingWebSocket, type WhatwgLike } from './peers.js';
import { loadWsmachine } from './wsmachine.js';

const { createClient } = await loadWsmachine();

const [kind = 'raw ws', countText = '1000', url = ''] = process.argv.slice(2);
const count = Number(countText);
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with --expose-gc');

const keep: unknown[] = [];

function openOne(): Promise<void> {
  return new Promise((resolve, reject) => {
    switch (kind) {
      case 'raw ws': {
        const ws = new WebSocket(url, { perMessageDeflate: false });
        ws.on('message', () => {});
        ws.once('open', () => resolve());
        ws.once('error', reject);
        keep.push(ws);
        return;
      }
      case 'wsmachine': {
        const client = createClient({ url, hooks: { onMessage: () => {} } });
        client.on('error', () => {});
        keep.push(client);
        client.start().then(resolve, reject);
        return;
      }
      case 'websocket-ts': {
        const ws = new WebsocketBuilder(url).build();
        ws.addEventListener(WebsocketEvent.message, () => {});
        ws.addEventListener(WebsocketEvent.open, () => resolve(), { once: true });
        keep.push(ws);
        return;
      }
      default: {
        const ws: WhatwgLike =
          kind === 'partysocket'
            ? (new PartySocket(url, [], { WebSocket }) as unknown as WhatwgLike)
            : new ReconnectingWebSocket(url, [], { WebSocket });
        ws.addEventListener('message', () => {});
        ws.addEventListener('open', () => resolve());
        keep.push(ws);
      }
    }
  });
}

async function settle(): Promise<{ heap: number; rss: number }> {
  await new Promise((r) => setTimeout(r, 200));
  gc!();
  await new Promise((r) => setImmediate(r));
  gc!();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, rss: m.rss };
}

async function main(): Promise<void> {
  // Warm-up: one client of the kind (module-level lazy state, JIT), not counted.
  await openOne();
  const before = await settle();
  const batch = 100;
  for (let i = 0; i < count; i += batch) {
    await Promise.all(Array.from({ length: Math.min(batch, count - i) }, () => openOne()));
  }
  const after = await settle();
  process.send?.({
    kind,
    count,
    heapPerClient: (after.heap - before.heap) / count,
    rssPerClient: (after.rss - before.rss) / count,
    open: keep.length - 1,
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
process.on('disconnect', () => process.exit(0));
