/**
 * Renders docs/reliability.md from the scenario table (test/faults/scenarios.ts) and, when present,
 * what the last run recorded under test-output/reliability/ (observations written by the fault tests,
 * vitest JSON results, soak figures).
 *
 * The doc has three generated sections between markers. The scenario table is a pure function of
 * scenarios.ts and is checked by test/unit/faults-table.test.ts; the "last recorded run" and "soak"
 * sections come from a run, so they are rewritten only when run data exists and kept as they are
 * otherwise (the check compares everything else).
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { EXTRA_SUITES, type FaultScenario, type FaultTest, PEERS, SCENARIOS, SOAKS } from './scenarios.js';

/** An observation file written by test/faults/observe.ts. */
export interface Observation {
  row: number;
  test: string;
  file: string;
  observed: string;
  result: string;
  at: string;
}

/** One test result from vitest's JSON reporter. */
export interface TestResult {
  file: string;
  fullName: string;
  title: string;
  status: string;
}

/** Everything a run left under test-output/reliability/. */
export interface RunData {
  observations: Observation[];
  results: TestResult[];
  soak: Record<string, Record<string, unknown>>;
  startedAt: string | undefined;
}

const SECTIONS = ['table', 'run', 'soak'] as const;
type Section = (typeof SECTIONS)[number];

const begin = (name: Section) => `<!-- reliability:${name}:begin -->`;
const end = (name: Section) => `<!-- reliability:${name}:end -->`;

/** The body of a generated section of `doc`, or undefined. */
export function extractSection(doc: string, name: Section): string | undefined {
  const a = doc.indexOf(begin(name));
  const b = doc.indexOf(end(name));
  if (a < 0 || b < a) return undefined;
  return doc.slice(a + begin(name).length, b);
}

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** `it.each` title templates (`%i`, `%s`, `%o`, `%%`) as a regular expression. */
export function titlePattern(name: string): RegExp {
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^${escaped.replace(/%%/g, '%').replace(/%[isdfjoO#$]/g, '.+?')}$`);
}

/** Whether `result` is a run of the mapped test `t`. */
function matches(t: { file: string; name: string }, file: string, title: string): boolean {
  // The shared adapter contract runs inside test/contract/*.test.ts.
  const sameFile = t.file.startsWith('test/contract/') ? file.startsWith('test/contract/') : file === t.file;
  return sameFile && titlePattern(t.name).test(title);
}

/** Whether observation `o` was written by the mapped test `t` (vitest names it "describe > title"). */
function observes(t: FaultTest, o: Observation): boolean {
  // The title itself may contain " > ": match it as the end of the full name.
  const title = titlePattern(t.name).source.slice(1);
  return o.file === t.file && new RegExp(`(?:^|> )${title}`).test(o.test);
}

function testsCell(tests: FaultTest[]): string {
  return tests.map((t) => `\`${t.file.replace(/^test\//, '')}\`: ${t.name}`).join('<br>');
}

function peersOf(s: FaultScenario): string {
  return [...new Set(s.tests.map((t) => t.peer))].join(', ');
}

/** The scenario table: a pure function of scenarios.ts. */
export function renderTable(scenarios: FaultScenario[] = SCENARIOS): string {
  const lines = [
    '',
    '| # | Scenario | Peer | Expected | Asserted (the observed behaviour when the tests pass) | Tests |',
    '|---|---|---|---|---|---|',
    ...scenarios.map(
      (s) =>
        `| ${s.row} | ${cell(s.scenario)} | ${peersOf(s)} | ${cell(s.expected)} | ${cell(s.asserted)} | ${cell(testsCell(s.tests))} |`,
    ),
    '',
    'Peers:',
    '',
    ...Object.entries(PEERS).map(([name, about]) => `- \`${name}\`: ${about}`),
    '',
    'Beyond single rows:',
    '',
    ...EXTRA_SUITES.map((s) => `- \`${s.file}\`: ${s.about}`),
    '',
  ];
  return lines.join('\n');
}

/** Reads test-output/reliability/ under `root`; undefined when nothing was recorded. */
export function loadRunData(root: string): RunData | undefined {
  const dir = join(root, 'test-output', 'reliability');
  if (!existsSync(dir)) return undefined;
  const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as unknown;
  const observations: Observation[] = [];
  const rowsDir = join(dir, 'rows');
  if (existsSync(rowsDir)) {
    for (const f of readdirSync(rowsDir)
      .filter((n) => n.endsWith('.json'))
      .sort()) {
      observations.push(readJson(join(rowsDir, f)) as Observation);
    }
  }
  const results: TestResult[] = [];
  let startedAt: string | undefined;
  for (const f of readdirSync(dir)
    .filter((n) => /^vitest-.*\.json$/.test(n))
    .sort()) {
    const report = readJson(join(dir, f)) as {
      startTime?: number;
      testResults?: Array<{
        name: string;
        assertionResults: Array<{ fullName: string; title: string; status: string }>;
      }>;
    };
    if (report.startTime !== undefined) {
      const at = new Date(report.startTime).toISOString();
      if (startedAt === undefined || at > startedAt) startedAt = at;
    }
    for (const file of report.testResults ?? []) {
      const rel = file.name.replace(`${root}/`, '');
      for (const a of file.assertionResults) {
        results.push({ file: rel, fullName: a.fullName, title: a.title, status: a.status });
      }
    }
  }
  const soak: RunData['soak'] = {};
  const soakDir = join(dir, 'soak');
  if (existsSync(soakDir)) {
    for (const f of readdirSync(soakDir).filter((n) => n.endsWith('.json'))) {
      const figures = readJson(join(soakDir, f)) as Record<string, unknown>;
      soak[String(figures.name ?? f.replace(/\.json$/, ''))] = figures;
    }
  }
  if (observations.length === 0 && results.length === 0 && Object.keys(soak).length === 0) return undefined;
  return { observations, results, soak, startedAt };
}

/** Pass/fail per row, and the observations of the tests mapped to it. */
export function renderRun(data: RunData, scenarios: FaultScenario[] = SCENARIOS): string {
  const lines = [
    '',
    data.startedAt === undefined
      ? '_From the observation files of the last runs of the fault tests._'
      : `_Test results of the run started ${data.startedAt}; observations from the fault tests' last runs._`,
    '',
    '| # | Result | Observed | Tests run |',
    '|---|---|---|---|',
  ];
  for (const s of scenarios) {
    const statuses: string[] = [];
    // A table shared by several rows ("row %i: ...") counts only this row's cases.
    const forRow = (t: FaultTest): FaultTest =>
      t.name.startsWith('row %i') ? { ...t, name: `row ${s.row}${t.name.slice('row %i'.length)}` } : t;
    for (const mapped of s.tests) {
      const t = forRow(mapped);
      const runs = data.results.filter((r) => matches(t, r.file, r.title));
      for (const r of runs) statuses.push(r.status);
      if (runs.length === 0) {
        for (const o of data.observations) {
          if (o.row === s.row && observes(t, o))
            statuses.push(o.result === 'pass' ? 'passed' : o.result === 'fail' ? 'failed' : o.result);
        }
      }
    }
    const failed = statuses.filter((x) => x === 'failed').length;
    const passed = statuses.filter((x) => x === 'passed').length;
    const result =
      statuses.length === 0
        ? 'not recorded (see CI)'
        : failed > 0
          ? `**FAIL** (${failed} of ${statuses.length})`
          : passed === statuses.length
            ? `pass (${passed})`
            : `${passed} passed, ${statuses.length - passed} other`;
    // Only observations of tests still mapped to this row (a renamed test leaves a stale file behind).
    const notes = data.observations
      .filter((o) => o.row === s.row && s.tests.some((t) => observes(forRow(t), o)))
      .map((o) => `${o.result === 'pass' ? '' : `[${o.result}] `}${o.observed}`);
    const observed = notes.length > 0 ? [...new Set(notes)].join('<br>') : `(asserted) ${s.asserted}`;
    lines.push(`| ${s.row} | ${result} | ${cell(observed)} | ${statuses.length} |`);
  }
  lines.push('');
  return lines.join('\n');
}

const kib = (n: unknown) => `${String(n)} KiB`;

/** The soak figures. */
export function renderSoak(soak: RunData['soak']): string {
  const lines = [''];
  const loss = soak.loss as
    | {
        seed: number;
        rounds: number;
        elapsedMs: number;
        at: string;
        faults: Record<string, number>;
        sessions: number;
        requests: Record<string, number>;
        sends: Record<string, unknown> & { gapByFault: Record<string, number> };
      }
    | undefined;
  if (loss !== undefined) {
    const { issued, unaccounted, ...outcomes } = loss.requests;
    lines.push(
      `### Loss accounting (${loss.at})`,
      '',
      `Seed ${loss.seed}, ${loss.rounds} rounds in ${loss.elapsedMs} ms, ${loss.sessions} sessions. Faults injected: ${Object.entries(
        loss.faults,
      )
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}.`,
      '',
      '| | count |',
      '|---|---|',
      `| requests issued | ${issued} |`,
      ...Object.entries(outcomes).map(([k, v]) => `| requests ${k} | ${v} |`),
      `| **requests unaccounted** | **${unaccounted}** |`,
      `| sends issued | ${loss.sends.issued} |`,
      `| sends delivered (counted by the server, each once) | ${loss.sends.delivered} |`,
      `| sends thrown at the call (SendBufferFullError) | ${loss.sends.thrownAtCall} |`,
      `| sends reported in \`undelivered\` events | ${loss.sends.reportedUndelivered} |`,
      `| **sends lost with a dying connection (the OS-accepted gap)** | **${loss.sends.osAcceptedGap}** |`,
      '',
      `The gap, by the fault that killed the session they were written on: ${
        Object.entries(loss.sends.gapByFault)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ') || 'none'
      }. Every lost send was written on a session that then died without a clean close; no send was lost on a healthy session, none was delivered twice, and none was both delivered and reported lost.`,
      '',
    );
  }
  const rc = soak.reconnect as
    | {
        at: string;
        cycles: number;
        clients: number;
        elapsedMs: number;
        heapStartKiB: number;
        heapEndKiB: number;
        heapGrowthKiB: number;
        resourcesBefore: string[];
        resourcesAfter: string[];
      }
    | undefined;
  if (rc !== undefined) {
    lines.push(
      `### Reconnect cycles (${rc.at})`,
      '',
      `${rc.cycles} dial/open/close cycles (${rc.clients} clients, zero reconnect delay, a server that closes every connection at once) in ${rc.elapsedMs} ms. Heap after GC: ${kib(rc.heapStartKiB)} after 1,000 cycles, ${kib(rc.heapEndKiB)} at the end (+${kib(rc.heapGrowthKiB)}; the bound is 2,048 KiB). Active resources before the clients existed: [${rc.resourcesBefore.join(', ')}]; after stop(): [${rc.resourcesAfter.join(', ')}].`,
      '',
    );
  }
  if (loss === undefined && rc === undefined)
    lines.push('_No soak has been recorded yet: run `npm test`, then `npm run reliability:doc`._', '');
  return lines.join('\n');
}

/** The whole doc. `run` and `soak` are section bodies (kept from the current doc when not regenerated). */
export function renderReliabilityDoc(
  sections: { run?: string | undefined; soak?: string | undefined } = {},
): string {
  const soakFiles = [...new Set(SOAKS.map((s) => `\`${s.test.file}\``))].join(', ');
  return `# Reliability

What wsmachine does under every fault of the reliability contract (FAULTS.md in the design notes: 39
scenarios collected from the \`ws\` test suite, Autobahn's client categories, RFC 6455's client
obligations and known failures of other clients), the real peer each one runs against, and the tests
that prove it. Generated by \`npm run reliability:doc\` from \`test/faults/scenarios.ts\`; \`npm test\`
fails when this table is stale or names a test that does not exist.

How to read it:

- **Asserted** is what the named tests check. Whenever they pass, it is the observed behaviour; the
  pass/fail of a row is the CI result of its tests (\`npm test\` for \`integration/\`, \`unit/\`,
  \`machines/\`, \`contract/\`; \`npm run test:system\` for \`system/\` and \`browser/\`, which need the
  Debian packages in \`scripts/system-packages.txt\`).
- **Last recorded run** is filled from \`test-output/reliability/\`: the fault tests write what they
  measured there (close codes seen on both sides, timings, counts), and \`npm run reliability:run\` adds
  vitest's pass/fail for every mapped test. \`npm run reliability:doc\` folds it in.
- The **soak figures** come from the loss-accounting and reconnect soaks in ${soakFiles}.

## Fault scenarios

${begin('table')}${renderTable()}${end('table')}

## Last recorded run

${begin('run')}${sections.run ?? '\n_Nothing recorded yet: run `npm run reliability:run`._\n'}${end('run')}

## Soak figures

${begin('soak')}${sections.soak ?? '\n_No soak has been recorded yet: run `npm test`, then `npm run reliability:doc`._\n'}${end('soak')}

## What no WebSocket client can see

A \`send()\` that returned \`'sent'\` was handed to the socket: the bytes are in the kernel's send
buffer (or a proxy's), not at the server. If the connection dies before they are delivered, they are
lost, and the WebSocket protocol has no acknowledgement that could tell the client. wsmachine reports
every loss it *can* know about (a queued message dropped at \`stop()\` or a fatal close, expired by
\`sendBuffer.maxAgeMs\`, a write the adapter refused) in one \`undelivered\` event, and throws at the call
when the send buffer is full; the soak above measures the rest (the "OS-accepted gap") and checks that
it only ever happens on a connection that then died. Use \`request()\` (a reply is the acknowledgement)
or application-level acks for messages that must not be lost.

## Tokens: headers, not URLs

The nginx test shows the reverse proxy writing the full request line, query string included, to its
access log: a \`?token=...\` ends up on disk. A header (\`headers\` in Node, a function for per-attempt
credentials) or a \`Sec-WebSocket-Protocol\` ticket is not logged. wsmachine redacts user info and query
values in every event, error message and log line it produces (\`ws://***@host/path?token=***\`), but it
cannot redact a proxy's logs. See the README's Security section.
`;
}

/** The doc for the current repository state: run sections from `data`, else kept from `current`. */
export function renderFor(current: string | undefined, data: RunData | undefined): string {
  const keep = (name: Section) => (current === undefined ? undefined : extractSection(current, name));
  return renderReliabilityDoc({
    run: data !== undefined ? renderRun(data) : keep('run'),
    soak: data !== undefined && Object.keys(data.soak).length > 0 ? renderSoak(data.soak) : keep('soak'),
  });
}
