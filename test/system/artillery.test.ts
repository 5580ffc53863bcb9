/**
 * artillery-engine-wsmachine under a real `artillery run` (Artillery 2.0.21, pinned in tools/artillery),
 * installed the way a user installs it: `npm pack` of this repository's build and of the engine, both
 * tarballs installed into a fresh project, Artillery finding the engine through NODE_PATH (as its own
 * Lambda and Fargate workers do). The peer is the demo server on 127.0.0.1, port chosen by the OS.
 *
 * Nothing here sleeps: the test waits for the server's events (every virtual user parked, reported by
 * a message), for Artillery's exit, and reads its JSON report.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { type DemoServer, startDemoServer } from '../../src/server.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const ARTILLERY_PREFIX = path.join(ROOT, 'tools/artillery');
const ARTILLERY_BIN = path.join(ARTILLERY_PREFIX, 'node_modules/.bin/artillery');
const ENGINE_DIR = path.join(ROOT, 'packages/artillery-engine-wsmachine');
const INSTALL = 'PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --prefix tools/artillery --no-audit --no-fund';
const VIRTUAL_USERS = 50;
/** Backstop for a hung run, so CI ends; the tests wait for the process, not for this. */
const RUN_DEADLINE_MS = 150_000;

let project: string;

interface RunResult {
  code: number | null;
  output: string;
}

/** Runs `artillery run` in the user project; resolves when the process exits. */
function artilleryRun(script: string, report?: string): { done: Promise<RunResult> } {
  const args = ['run', script, ...(report ? ['--output', report] : [])];
  const child = spawn(ARTILLERY_BIN, args, {
    cwd: project,
    env: {
      ...process.env,
      NODE_PATH: path.join(project, 'node_modules'),
      ARTILLERY_DISABLE_TELEMETRY: 'true',
      NO_COLOR: '1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr.on('data', (chunk) => {
    output += chunk;
  });
  const deadline = setTimeout(() => child.kill('SIGKILL'), RUN_DEADLINE_MS);
  const done = new Promise<RunResult>((resolve) => {
    child.on('close', (code) => {
      clearTimeout(deadline);
      resolve({ code, output });
    });
  });
  return { done };
}

function writeScript(name: string, yaml: string): string {
  const file = path.join(project, name);
  writeFileSync(file, yaml);
  return file;
}

interface Report {
  aggregate: {
    counters: Record<string, number>;
    summaries: Record<string, { count: number; min: number; max: number; p99: number }>;
  };
}

/** Why the user project could not be prepared: every test FAILS with it (never skipped). */
let setupError: unknown;

beforeAll(() => {
  try {
    prepareProject();
  } catch (error) {
    setupError = error;
  }
}, 120_000);

function prepareProject(): void {
  if (!existsSync(ARTILLERY_BIN)) {
    throw new Error(
      `Artillery is not installed for this test. Install it (pinned, ~80 s, ~600 MB on disk):\n  ${INSTALL}`,
    );
  }
  for (const built of [path.join(ROOT, 'dist/node.js'), path.join(ENGINE_DIR, 'dist/index.cjs')]) {
    if (!existsSync(built))
      throw new Error(`${path.relative(ROOT, built)} is missing: run \`npm run build\` first`);
  }
  // A user's project: both packages from their tarballs, as `npm install` would give them.
  project = mkdtempSync(path.join(tmpdir(), 'wsm-artillery-'));
  const packs = path.join(project, 'packs');
  mkdirSync(packs);
  for (const dir of [ROOT, ENGINE_DIR]) {
    const packed = spawnSync('npm', ['pack', '--silent', '--pack-destination', packs, dir], {
      encoding: 'utf8',
    });
    if (packed.status !== 0) throw new Error(`npm pack ${dir} failed:\n${packed.stderr}`);
  }
  writeFileSync(path.join(project, 'package.json'), '{ "private": true }\n');
  const tarballs = ['wsmachine-0.1.0.tgz', 'artillery-engine-wsmachine-0.1.0.tgz'].map((t) => `./packs/${t}`);
  const installed = spawnSync(
    'npm',
    ['install', '--no-audit', '--no-fund', '--prefer-offline', ...tarballs],
    {
      cwd: project,
      encoding: 'utf8',
    },
  );
  if (installed.status !== 0) throw new Error(`npm install of the tarballs failed:\n${installed.stderr}`);
  writeFileSync(
    path.join(project, 'processor.cjs'),
    `module.exports = {
  // Tells the server this virtual user is parked (the test kills the server once all are), then
  // waits for the client's next session: every virtual user lives through the restart.
  async parkUntilReconnected(client, context, events) {
    const reopened = new Promise((resolve, reject) => {
      const timer = setTimeout(() => { off(); reject(new Error('no reconnect within 30 s')); }, 30000);
      const off = client.on('open', ({ restarting }) => {
        if (restarting) { clearTimeout(timer); off(); resolve(); }
      });
    });
    client.send(JSON.stringify({ type: 'echo_request', data: 'parked' }));
    await reopened;
    events.emit('counter', 'test.reconnected_vusers', 1);
  },
  isSubscribed: (message) => message.json().type === 'subscribe_response',
  reportEcho(client, context, events) {
    events.emit('counter', 'test.state.' + client.state, 1);
    events.emit('counter', 'test.echoed.' + context.vars.echoed, 1);
  },
};
`,
  );
}

afterAll(() => {
  if (project) rmSync(project, { recursive: true, force: true });
});

/** A demo server for one test, closed after it (the tests of this file run concurrently). */
async function withServer<T>(
  options: { heartbeatIntervalMs?: number },
  body: (server: DemoServer) => Promise<T>,
) {
  if (setupError) throw setupError;
  const server = await startDemoServer({ host: '127.0.0.1', port: 0, ...options });
  try {
    return await body(server);
  } finally {
    await server.close();
  }
}

// Concurrent: each test waits on one Artillery process (seconds of start-up, and Artillery 2.0.21 waits
// ~10 s at exit for its telemetry request to fail offline); the assertions depend on events, not timing.
// Each test's own bound is above RUN_DEADLINE_MS, so a hung Artillery is killed and reported with its output.
describe.concurrent('artillery run with engine: wsmachine', { timeout: RUN_DEADLINE_MS + 30_000 }, () => {
  it(`${VIRTUAL_USERS} virtual users live through a server crash and restart; the report accounts for every request`, ({
    expect,
  }) =>
    withServer({ heartbeatIntervalMs: 100 }, async (server) => {
      const script = writeScript(
        'restart.yml',
        `config:
  target: "${server.url}"
  processor: ./processor.cjs
  phases:
    - duration: 1
      arrivalRate: ${VIRTUAL_USERS}
  engines:
    wsmachine: {}
  wsmachine:
    reconnect: { baseDelayMs: 20, maxDelayMs: 200 }
    requests: { key: reqId, timeoutMs: 10000 }
    stopTimeoutMs: 2000
scenarios:
  - name: survive a restart
    engine: wsmachine
    flow:
      - connect: {}
      - request:
          payload: { type: echo_request, data: "before {{ $uuid }}" }
          match: { json: "$.status", value: OK }
      - function: parkUntilReconnected
      - loop:
          - request:
              payload: { type: echo_request, data: "after {{ $loopCount }}" }
              capture: { json: "$.data", as: echoed }
              match: { json: "$.status", value: OK }
        count: 5
      - send: { type: subscribe_request, topic: heartbeat }
      - waitFor: { match: { json: "$.type", value: heartbeat }, timeoutMs: 5000 }
      - close: {}
`,
      );
      let parked = 0;
      const allParked = new Promise<void>((resolve) => {
        server.on('message', ({ data }) => {
          if (typeof data === 'string' && data.includes('"parked"') && ++parked === VIRTUAL_USERS) resolve();
        });
      });
      const reportFile = path.join(project, 'restart-report.json');
      const run = artilleryRun(script, reportFile);
      const early = run.done.then((r) => {
        throw new Error(`artillery exited (${r.code}) before every virtual user parked:\n${r.output}`);
      });
      await Promise.race([allParked, early]);
      expect(server.stats().open).toBe(VIRTUAL_USERS);
      await server.kill(); // every connection dropped without a close frame, port closed
      await server.restart(); // the same port: clients reconnect to the same URL

      const result = await run.done;
      expect(result.code, result.output).toBe(0);
      const { counters: c, summaries: s } = (JSON.parse(readFileSync(reportFile, 'utf8')) as Report)
        .aggregate;

      expect(c['vusers.created']).toBe(VIRTUAL_USERS);
      expect(c['vusers.completed']).toBe(VIRTUAL_USERS);
      expect(c['vusers.failed']).toBe(0);
      expect(c['test.reconnected_vusers']).toBe(VIRTUAL_USERS);
      // Every client reconnected (a dial that hit the closed port is one more reconnect).
      expect(c['wsmachine.reconnects']).toBeGreaterThanOrEqual(VIRTUAL_USERS);
      expect(c['wsmachine.sessions']).toBe(2 * VIRTUAL_USERS);
      expect(server.stats().accepted).toBe(2 * VIRTUAL_USERS);
      // No request left unsettled: sent = ok + failed, and here every one was answered.
      const failed = c['wsmachine.requests.failed'] ?? 0;
      expect(c['wsmachine.requests.sent']).toBe(6 * VIRTUAL_USERS);
      expect((c['wsmachine.requests.ok'] ?? 0) + failed).toBe(c['wsmachine.requests.sent']);
      expect(failed).toBe(0);
      // One send, six requests and the parked message per user left; replies, heartbeats came back.
      expect(c['wsmachine.messages.out']).toBeGreaterThanOrEqual(8 * VIRTUAL_USERS);
      expect(c['wsmachine.messages.in']).toBeGreaterThanOrEqual(8 * VIRTUAL_USERS);
      expect(c['wsmachine.undelivered']).toBeUndefined();
      // Latency histograms: one point per answered request, open and downtime per client.
      expect(s['wsmachine.request.latency']?.count).toBe(6 * VIRTUAL_USERS);
      expect(s['wsmachine.time_to_open']?.count).toBe(VIRTUAL_USERS);
      expect(s['wsmachine.reconnect.downtime']?.count).toBe(VIRTUAL_USERS);
      expect(s['wsmachine.reconnect.downtime']?.min).toBeGreaterThan(0);
      // The client's reconnect failures were counted, not printed 50 times.
      expect(result.output).not.toContain('ECONNREFUSED');
    }));

  it('every step does what the engine README says, against the demo server', ({ expect }) =>
    withServer({ heartbeatIntervalMs: 50 }, async (server) => {
      const script = writeScript(
        'steps.yml',
        `config:
  target: "${server.url}"
  processor: ./processor.cjs
  phases: [{ arrivalCount: 1, duration: 1 }]
  variables:
    path: "/steps"
  engines: { wsmachine: {} }
  wsmachine:
    requests: { key: reqId }
    reconnect: { baseDelayMs: 10 }
scenarios:
  - name: every step
    engine: wsmachine
    flow:
      - connect: "{{ target }}{{ path }}"
      - log: "connected to {{ path }}"
      - send: { type: subscribe_request, reqId: s1, topic: heartbeat }
      - waitFor: { function: isSubscribed, capture: { json: "$.reqId", as: subscription } }
      - waitFor:
          match: { json: "$.type", value: heartbeat }
          capture: { json: "$.seq", as: seq }
      - restart: { reason: step restart }
      - request:
          payload: { type: echo_request, data: "{{ subscription }}-{{ seq }}" }
          capture: { json: "$.data", as: echoed }
      - function: reportEcho
      - loop:
          - request: { payload: { type: echo_request, data: "item {{ $loopElement }}" } }
        over: [a, b]
      - think: 0.01
      - close: { code: 4000, reason: done }
      - connect: {}
      - request: { payload: { type: echo_request, data: second client } }
      - close: {}
`,
      );
      const received: string[] = [];
      const paths: string[] = [];
      const closes: { code: number; reason: string }[] = [];
      server.on('connection', ({ path: p }) => paths.push(p));
      server.on('message', ({ data }) => received.push(String(data)));
      server.on('disconnect', ({ code, reason }) => closes.push({ code, reason }));
      const reportFile = path.join(project, 'steps-report.json');
      const result = await artilleryRun(script, reportFile).done;
      expect(result.code, result.output).toBe(0);
      const { counters: c } = (JSON.parse(readFileSync(reportFile, 'utf8')) as Report).aggregate;
      expect(result.output).toContain('connected to /steps'); // log, templated
      // connect with a templated URL, the restart, then a second client after close
      expect(paths).toEqual(['/steps', '/steps', '/']);
      expect(closes).toEqual([
        { code: 1001, reason: 'step restart' }, // restart: through closing, with its reason
        { code: 4000, reason: 'done' }, // close with code and reason
        { code: 1000, reason: '' },
      ]);
      // Captures from waitFor (function and match) fed the request's template; the reply's capture reached the function.
      const echoed = received.map((m) => JSON.parse(m)).filter((m) => m.type === 'echo_request');
      expect(echoed.map((m) => m.data)).toEqual([
        expect.stringMatching(/^s1-\d+$/),
        'item a',
        'item b',
        'second client',
      ]);
      // Keys were added to object payloads, unique for the virtual user (across its clients).
      expect(echoed.map((m) => m.reqId)).toEqual(['1', '2', '3', '4']);
      expect(c[`test.echoed.${echoed[0].data}`]).toBe(1);
      expect(c['test.state.open']).toBe(1);
      expect(c).toMatchObject({
        'vusers.completed': 1,
        'wsmachine.requests.sent': 4,
        'wsmachine.requests.ok': 4,
        'wsmachine.sessions': 3,
      });
      expect(c['wsmachine.reconnects']).toBeGreaterThanOrEqual(1);
    }));

  it('a request that fails is counted by its error code, and fails its virtual user', ({ expect }) =>
    withServer({}, async (server) => {
      const script = writeScript(
        'timeout.yml',
        `config:
  target: "${server.url}"
  phases:
    - arrivalCount: 1
      duration: 1
  engines:
    wsmachine: {}
  wsmachine:
    requests: { key: reqId }
scenarios:
  - name: slow server
    engine: wsmachine
    flow:
      - request: { payload: { type: fault_request, fault: delay, ms: 1000 } }
      - request: { payload: { type: echo_request, data: late }, timeoutMs: 100 }
      - send: never sent
`,
      );
      const reportFile = path.join(project, 'timeout-report.json');
      const result = await artilleryRun(script, reportFile).done;
      expect(result.code, result.output).toBe(0);
      const { counters: c } = (JSON.parse(readFileSync(reportFile, 'utf8')) as Report).aggregate;
      expect(c).toMatchObject({
        'vusers.failed': 1,
        'wsmachine.requests.sent': 2,
        'wsmachine.requests.ok': 1,
        'wsmachine.requests.failed': 1,
        'wsmachine.requests.failed.WSM_ERR_REQUEST_TIMEOUT': 1,
        'errors.WSM_ERR_REQUEST_TIMEOUT': 1,
      });
      // The step is named once in the output.
      expect(result.output).toContain('scenario "slow server", flow[1] (request)');
      expect(server.stats().messagesIn).toBe(2);
    }));

  it('a bad step stops the run before any virtual user, naming the step', ({ expect }) =>
    withServer({}, async (server) => {
      const script = writeScript(
        'bad-step.yml',
        `config:
  target: "${server.url}"
  phases: [{ arrivalCount: 2, duration: 1 }]
  engines: { wsmachine: {} }
scenarios:
  - name: typo
    engine: wsmachine
    flow:
      - connect: {}
      - loop:
          - send: hello
          - sned: hello
        count: 3
`,
      );
      const result = await artilleryRun(script).done;
      expect(result.code).not.toBe(0);
      expect(result.output).toContain(
        'artillery-engine-wsmachine: scenario "typo", flow[1].loop[1]: unknown step `sned`. Did you mean `send`?',
      );
      expect(server.stats().accepted).toBe(0);
    }));

  it('a bad option in a connect step stops the run before any virtual user, naming the step', ({ expect }) =>
    withServer({}, async (server) => {
      const script = writeScript(
        'bad-option.yml',
        `config:
  target: "${server.url}"
  phases: [{ arrivalCount: 2, duration: 1 }]
  engines: { wsmachine: {} }
scenarios:
  - name: heartbeat
    engine: wsmachine
    flow:
      - connect: { heartbeat: { intervalMs: often } }
      - send: hello
`,
      );
      const result = await artilleryRun(script).done;
      expect(result.code).not.toBe(0);
      expect(result.output).toContain(
        'artillery-engine-wsmachine: scenario "heartbeat", flow[0] (connect): Invalid wsmachine options',
      );
      expect(result.output).toContain('heartbeat.intervalMs: got "often"');
      expect(server.stats().accepted).toBe(0);
    }));
});
