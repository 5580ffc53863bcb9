/**
 * How many virtual users with an open wsmachine client one Artillery worker holds on this machine.
 *
 *   npm run build && node packages/artillery-engine-wsmachine/bench/capacity.mjs [--clients 19000] [--rate 400] [--hold 40]
 *
 * Method: two demo servers, each in its own process (on 127.0.0.1 and 127.0.0.2, so neither the
 * servers' CPU nor one address's ephemeral ports limit the worker); `WORKERS=1 artillery run` of a
 * scenario whose virtual users connect (wsmachine defaults: protocol heartbeat every 30 s, reconnect
 * on), hold the open client for `--hold` seconds, then close. Arrivals at `--rate`/s until `--clients`.
 * Every second: the Artillery process's CPU (all its threads: the worker does the work) and RSS, and the
 * connections the servers hold. Needs Artillery in tools/artillery (`npm ci --prefix tools/artillery`).
 * It prints a Markdown summary for the engine's README.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../../..');
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const clients = arg('clients', 19_000);
const rate = arg('rate', 400);
const hold = arg('hold', 40);
const ticks = 100; // USER_HZ on Linux: /proc/<pid>/stat counts CPU time in 1/100 s

/** A demo server in its own process; resolves with its URL and a live count of open connections. */
function startServer(host) {
  const code = `
    const { startDemoServer } = await import(${JSON.stringify(path.join(root, 'dist/server.js'))});
    const s = await startDemoServer({ host: ${JSON.stringify(host)}, port: 0 });
    console.log('url', s.url);
    setInterval(() => console.log('open', s.stats().open), 1000);
    process.on('SIGTERM', () => s.close().then(() => process.exit(0)));`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const server = { child, url: '', open: 0 };
  return new Promise((resolve) => {
    let buffered = '';
    child.stdout.on('data', (chunk) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        const [what, value] = line.split(' ');
        if (what === 'url') {
          server.url = value;
          resolve(server);
        } else if (what === 'open') server.open = Number(value);
      }
    });
  });
}

function cpuTicks(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime + stime of all threads
}
function rssMiB(pid) {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS'));
  return Number(line.split(/\s+/)[1]) / 1024;
}

const servers = await Promise.all([startServer('127.0.0.1'), startServer('127.0.0.2')]);
const project = mkdtempSync(path.join(tmpdir(), 'wsm-capacity-'));
mkdirSync(path.join(project, 'node_modules'));
symlinkSync(
  path.join(root, 'packages/artillery-engine-wsmachine'),
  path.join(project, 'node_modules/artillery-engine-wsmachine'),
);
symlinkSync(root, path.join(project, 'node_modules/wsmachine'));
const duration = Math.ceil(clients / rate);
writeFileSync(
  path.join(project, 'capacity.yml'),
  `config:
  target: "${servers[0].url}"
  phases:
    - duration: ${duration}
      arrivalRate: ${rate}
  variables:
    server: ["${servers[0].url}", "${servers[1].url}"]
  engines:
    wsmachine: {}
  wsmachine:
    stopTimeoutMs: 2000
scenarios:
  - name: hold an open client
    engine: wsmachine
    flow:
      - connect: "{{ server }}"
      - think: ${hold}
      - close: {}
`,
);

const artillery = spawn(
  path.join(root, 'tools/artillery/node_modules/.bin/artillery'),
  ['run', 'capacity.yml', '--output', 'report.json'],
  {
    cwd: project,
    env: {
      ...process.env,
      WORKERS: '1',
      NODE_PATH: path.join(project, 'node_modules'),
      ARTILLERY_DISABLE_TELEMETRY: 'true',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  },
);
const samples = [];
let last = { t: performance.now(), cpu: 0 };
const sampler = setInterval(() => {
  try {
    const now = { t: performance.now(), cpu: cpuTicks(artillery.pid) };
    const cpu = ((now.cpu - last.cpu) / ticks / ((now.t - last.t) / 1000)) * 100;
    last = now;
    const open = servers[0].open + servers[1].open;
    samples.push({ open, cpu, rss: rssMiB(artillery.pid) });
    console.error(`open ${open}  cpu ${cpu.toFixed(0)}%  rss ${rssMiB(artillery.pid).toFixed(0)} MiB`);
  } catch {}
}, 1000);
const code = await new Promise((resolve) => artillery.on('close', resolve));
clearInterval(sampler);
for (const s of servers) s.child.kill('SIGTERM');

const report = JSON.parse(readFileSync(path.join(project, 'report.json'), 'utf8')).aggregate;
rmSync(project, { recursive: true, force: true });
const peak = samples.reduce((a, b) => (b.open > a.open ? b : a), samples[0]);
const ramp = samples.filter((s) => s.open > 0 && s.open < peak.open * 0.95);
const held = samples.filter((s) => s.open >= peak.open * 0.99);
const avg = (xs, f) => xs.reduce((a, x) => a + f(x), 0) / Math.max(1, xs.length);
// Artillery and its worker loaded, no client yet: the last sample before the first connection.
const firstOpen = samples.findIndex((s) => s.open > 0);
const baseline = samples[Math.max(0, firstOpen - 1)]?.rss ?? 0;
const c = report.counters;
const open = report.summaries['wsmachine.time_to_open'];
console.log(`
| measure | value |
| --- | --- |
| virtual users created / completed / failed | ${c['vusers.created']} / ${c['vusers.completed'] ?? 0} / ${c['vusers.failed'] ?? 0} |
| open clients held at once (servers' count) | ${peak.open} |
| worker CPU while ramping at ${rate} connects/s | ${avg(ramp, (s) => s.cpu).toFixed(0)}% of one core |
| worker CPU while holding ${peak.open} clients | ${avg(held, (s) => s.cpu).toFixed(0)}% of one core |
| Artillery process RSS at peak | ${peak.rss.toFixed(0)} MiB (${(((peak.rss - baseline) * 1024) / peak.open).toFixed(1)} KiB per client above the RSS before the first connection, ${baseline.toFixed(0)} MiB) |
| time to open, median / p99 | ${open?.median} / ${open?.p99} ms |
| client errors | ${
  Object.entries(c)
    .filter(([k]) => k.startsWith('wsmachine.errors.') || k.startsWith('errors.'))
    .map(([k, v]) => `${k} ${v}`)
    .join(', ') || 'none'
} |
| exit code | ${code} |
`);
