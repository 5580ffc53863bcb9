/**
 * Child process of bench/mass-close.ts: opens `count` clients of one kind against the server at `url`,
 * reports `{ ready }`, and then waits for the server to be killed. It measures, from its own side,
 * the wall time from the first close it noticed to the last, and its CPU time from being ready (idle)
 * until every client noticed, per close.
 *
 *   node --import tsx bench/mass-close-clients.ts KIND COUNT URL
 *
 * wsmachine runs with its defaults (reconnect on: each close also schedules a reconnect, as it would
 * for real; heartbeat on). raw ws only listens for `close`.
 */
import { Session } from 'node:inspector';
import { writeFileSync } from 'node:fs';
import WebSocket from 'ws';
import { loadWsmachine } from './wsmachine.js';

const { createClient } = await loadWsmachine();
const [kind = 'raw ws', countText = '500', url = ''] = process.argv.slice(2);
const count = Number(countText);
const keep: unknown[] = [];
let closed = 0;
let firstAt = 0;
let cpuReady: NodeJS.CpuUsage = process.cpuUsage();

function noticed(): void {
  if (closed === 0) firstAt = performance.now();
  closed++;
  if (closed === count) {
    const wallMs = performance.now() - firstAt;
    const cpu = process.cpuUsage(cpuReady);
    const report = () =>
      process.send?.({ op: 'done', wallMs, cpuPerCloseUs: (cpu.user + cpu.system) / count });
    if (profiler) {
      profiler.post('Profiler.stop', (_e, r) => {
        writeFileSync(process.env.WSM_PROFILE!, JSON.stringify((r as { profile: unknown }).profile));
        report();
      });
    } else report();
  }
}

function openOne(): Promise<void> {
  return new Promise((resolve, reject) => {
    if (kind === 'raw ws') {
      const ws = new WebSocket(url, { perMessageDeflate: false });
      ws.on('error', () => {});
      ws.once('open', () => resolve());
      ws.once('close', noticed);
      keep.push(ws);
      return;
    }
    const client = createClient({ url, hooks: { onMessage: () => {} } });
    client.on('error', () => {});
    let opened = false;
    client.on('close', () => {
      if (opened) noticed();
    });
    keep.push(client);
    client.start().then(() => {
      opened = true;
      resolve();
    }, reject);
  });
}

for (let i = 0; i < count; i += 100) {
  await Promise.all(Array.from({ length: Math.min(100, count - i) }, () => openOne()));
}
// Let the last opens settle, then the process is idle: CPU counts from here.
await new Promise((resolve) => setTimeout(resolve, 200));
cpuReady = process.cpuUsage();
// WSM_PROFILE=file: a CPU profile of exactly the close phase (what --cpu-prof cannot isolate).
let profiler: Session | undefined;
if (process.env.WSM_PROFILE) {
  profiler = new Session();
  profiler.connect();
  await new Promise((r) => profiler!.post('Profiler.enable', () => profiler!.post('Profiler.start', r)));
}
process.send?.({ op: 'ready' });
process.on('disconnect', () => process.exit(0));
