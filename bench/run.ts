/**
 * `npm run bench` (full, a few minutes) and `npm run bench -- --quick` (under 60 s): runs every bench
 * file, each in its own child process (so one's JIT and heap state cannot colour another's), and
 * writes `bench/results/latest.md` and `bench/results/latest.json`.
 *
 * Every bench file exports `run({ quick })` and, when forked, sends its section back over IPC.
 */
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchSection } from './lib.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RESULTS = fileURLToPath(new URL('./results/', import.meta.url));

/** Bench files, in the order they run. Add new ones here. */
const FILES = ['correlation.ts', 'pipelined.ts'];

const quick = process.argv.includes('--quick');

function runFile(file: string): Promise<BenchSection> {
  const path = fileURLToPath(new URL(`./${file}`, import.meta.url));
  return new Promise((resolve, reject) => {
    const child = fork(path, quick ? ['--quick'] : [], {
      cwd: ROOT,
      execArgv: ['--import', 'tsx', '--expose-gc'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let settled = false;
    child.on('message', (m: { ok: boolean; section?: BenchSection; error?: string }) => {
      settled = true;
      if (m.ok && m.section) resolve(m.section);
      else reject(new Error(`${file} failed: ${m.error}`));
    });
    child.on('exit', (code) => {
      if (!settled) reject(new Error(`${file} exited with code ${code} without a result`));
    });
  });
}

function version(pkg: string): string {
  try {
    const url = new URL(`../node_modules/${pkg}/package.json`, import.meta.url);
    return (JSON.parse(readFileSync(url, 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<void> {
  const started = Date.now();
  const loadBefore = os.loadavg();
  const sections: BenchSection[] = [];
  for (const file of FILES) {
    const t0 = Date.now();
    process.stderr.write(`bench: ${file}${quick ? ' (quick)' : ''} ... `);
    const section = await runFile(file);
    process.stderr.write(`${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    sections.push(section);
  }
  const cpus = os.cpus();
  const machine = {
    cpuModel: cpus[0]?.model ?? 'unknown',
    cpuCount: cpus.length,
    cpuSpeedMHz: cpus[0]?.speed ?? 0,
    totalMemoryGiB: Number((os.totalmem() / 1024 ** 3).toFixed(1)),
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    loadAverageBefore: loadBefore.map((l) => Number(l.toFixed(2))),
    loadAverageAfter: os.loadavg().map((l) => Number(l.toFixed(2))),
  };
  const ownPackage = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  const versions = {
    node: process.version,
    wsmachine: ownPackage.version,
    ws: version('ws'),
    xstate: version('xstate'),
    tsx: version('tsx'),
  };
  const durationSeconds = Number(((Date.now() - started) / 1000).toFixed(1));
  const mode = quick ? 'quick' : 'full';
  const json = {
    date: new Date(started).toISOString(),
    mode,
    durationSeconds,
    machine,
    versions,
    sections: sections.map((s) => ({ name: s.name, rounds: s.rounds, targets: s.targets, data: s.data })),
  };

  const targets = sections.flatMap((s) => s.targets);
  const md = [
    '# wsmachine benchmarks',
    '',
    `${json.date}, ${mode} mode (${durationSeconds} s). Machine: ${machine.cpuCount} x ${machine.cpuModel}, ${machine.totalMemoryGiB} GiB RAM, ${machine.platform}; load average before/after ${machine.loadAverageBefore.join(' ')} / ${machine.loadAverageAfter.join(' ')}. Node ${versions.node}, wsmachine ${versions.wsmachine}, ws ${versions.ws}, xstate ${versions.xstate}.`,
    '',
    'Every figure is the median (min-max) over interleaved rounds; servers run in separate processes on 127.0.0.1. A high load average means other work shared the CPUs: read the min-max spread before the medians.',
    '',
    '## Targets',
    '',
    '| target | measured | status |',
    '| --- | --- | --- |',
    ...targets.map((t) => `| ${t.target} | ${t.measured} | ${t.met ? 'met' : '**MISSED**'} |`),
    '',
    ...sections.flatMap((s) => [`## ${s.name}`, '', `Rounds: ${s.rounds}.`, '', s.markdown, '']),
  ].join('\n');

  await mkdir(RESULTS, { recursive: true });
  await writeFile(join(RESULTS, 'latest.json'), `${JSON.stringify(json, null, 2)}\n`);
  await writeFile(join(RESULTS, 'latest.md'), md);
  console.log(md);
  console.error(`bench: wrote bench/results/latest.md and latest.json in ${durationSeconds} s`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
