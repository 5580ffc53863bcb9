/**
 * The package as a user gets it (issue 16, items 2-5): the project's files (what git tracks, no dist/)
 * are copied to a temporary tree and packed there with `npm pack`, so `prepack` has to build dist/;
 * the tarball is installed into an empty project with `npm install --prefer-offline` (only
 * `wsmachine`: its dependencies come from the registry, no @types installed by hand); then the real
 * `tsc` (skipLibCheck false, NodeNext) checks ESM and CommonJS consumers, including that a wrong
 * `createWsAdapter` option IS a type error, and the real `node` runs `import` and `require()` of the
 * installed package against a `ws` server on 127.0.0.1, and the installed `wsmachine` command.
 *
 * In test:system because it needs the npm registry (or a warm npm cache, as after `npm ci`).
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, startWsServer } from '../helpers/servers.js';

const run = promisify(execFile);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const TSC = join(root, 'node_modules/typescript/bin/tsc');

let dir = '';
let tarball = '';
let app = '';
let packed: string[] = [];

/** Runs a command; on failure, the error carries its stdout and stderr (for a readable failure). */
async function sh(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env) {
  try {
    return await run(cmd, args, { cwd, env, encoding: 'utf8', maxBuffer: 32 * 1024 * 1024 });
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed:\n${e.stdout ?? ''}\n${e.stderr ?? ''}\n${e.message}`);
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wsm-pack-'));
  // A tree like a fresh clone: the files git knows (tracked, or new and not ignored), so no dist/.
  const tree = join(dir, 'tree');
  const { stdout } = await sh('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], root);
  for (const file of stdout.split('\0').filter(Boolean)) {
    mkdirSync(dirname(join(tree, file)), { recursive: true });
    cpSync(join(root, file), join(tree, file));
  }
  symlinkSync(join(root, 'node_modules'), join(tree, 'node_modules'), 'dir');
  await sh('npm', ['pack', '--pack-destination', dir, '--loglevel', 'warn'], tree);
  const name = readdirSync(dir).find((f) => f.endsWith('.tgz'));
  if (name === undefined) throw new Error(`npm pack wrote no tarball in ${dir}`);
  tarball = join(dir, name);
  packed = (await sh('tar', ['-tzf', tarball], dir)).stdout.split('\n').filter(Boolean);

  app = join(dir, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
  await sh('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], app);
}, 240_000);

afterEach(cleanup);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('npm pack on a tree without dist/', () => {
  it('ships the build: prepack ran it', () => {
    for (const file of [
      'dist/index.js',
      'dist/index.d.ts',
      'dist/node.js',
      'dist/node.d.ts',
      'dist/cli.js',
      'dist/browser/wsmachine.js',
      'bin/wsmachine.mjs',
    ])
      expect(packed).toContain(`package/${file}`);
  });
});

describe('a TypeScript consumer that installed only wsmachine (skipLibCheck false)', () => {
  it('typechecks the Node imports, ESM and CommonJS, and rejects a wrong createWsAdapter option', async () => {
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          target: 'ES2022',
          strict: true,
          skipLibCheck: false,
          noEmit: true,
        },
        files: ['consumer.mts', 'consumer.cts'],
      }),
    );
    writeFileSync(
      join(app, 'consumer.mts'),
      `import { createClient, createWsAdapter, type WsClientOptions } from 'wsmachine';
import * as node from 'wsmachine/node';
import { startDemoServer } from 'wsmachine/server';
import { createMemoryAdapter } from 'wsmachine/testing';
import { connectionMachine } from 'wsmachine/machines';

const tls: WsClientOptions = { rejectUnauthorized: true, origin: 'https://app.test', servername: 'app.test' };
const client = createClient({ url: 'ws://127.0.0.1:1', adapter: createWsAdapter(tls) });
const state: 'idle' | 'connecting' | 'opening' | 'open' | 'closing' | 'reconnecting' | 'stopped' = client.state;
node.createWsAdapter({ followRedirects: true, maxRedirects: 3, perMessageDeflate: false });
// @ts-expect-error rejectUnauthorized is a boolean: the ws options are typed, not any
createWsAdapter({ rejectUnauthorized: 'no' });
// @ts-expect-error the client owns maxPayload (maxPayloadBytes), so the adapter does not take it
createWsAdapter({ maxPayload: 1 });
// @ts-expect-error an option of the client, not of createClient
createClient({ url: 'ws://127.0.0.1:1', reconect: false });
export { state, startDemoServer, createMemoryAdapter, connectionMachine };
`,
    );
    writeFileSync(
      join(app, 'consumer.cts'),
      `import wsm = require('wsmachine');
const client = wsm.createClient({ url: 'ws://127.0.0.1:1', adapter: wsm.createWsAdapter({ origin: 'https://app.test' }) });
// @ts-expect-error origin is a string
wsm.createWsAdapter({ origin: 1 });
export = client;
`,
    );
    const { stdout } = await sh(process.execPath, [TSC, '-p', 'tsconfig.json', '--listFilesOnly'], app);
    // The declarations came from the installed package and its dependencies, not from this repository.
    expect(stdout).toMatch(/app\/node_modules\/wsmachine\/dist\/node\.d\.ts/);
    expect(stdout).toMatch(/app\/node_modules\/@types\/ws\/index\.d\.ts/);
    expect(stdout).not.toContain(`${root}/src/`);
    await sh(process.execPath, [TSC, '-p', 'tsconfig.json'], app);
  });

  it('a bundler (no node condition) sees the browser entry: createWsAdapter is not there', async () => {
    writeFileSync(
      join(app, 'tsconfig.bundler.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'ESNext',
          moduleResolution: 'Bundler',
          target: 'ES2022',
          lib: ['ES2022', 'DOM'],
          types: [],
          strict: true,
          skipLibCheck: false,
          noEmit: true,
        },
        files: ['browser.ts'],
      }),
    );
    writeFileSync(
      join(app, 'browser.ts'),
      `import { createClient, createNativeAdapter } from 'wsmachine';
// @ts-expect-error the browser entry has no ws adapter
import { createWsAdapter } from 'wsmachine';
createClient({ url: 'wss://example.test/feed', adapter: createNativeAdapter() });
export { createWsAdapter };
`,
    );
    await sh(process.execPath, [TSC, '-p', 'tsconfig.bundler.json'], app);
  });
});

describe('the installed package in Node', () => {
  it('works through import and through require(), against a ws server on 127.0.0.1', async () => {
    const server = await startWsServer({ echo: true });
    const body = (load: string) => `${load}
(async () => {
  const client = createClient({ url: process.env.URL, hooks: { onMessage: (m) => console.log('echo ' + m.data) } });
  await client.start();
  client.send(process.argv[2]);
  await new Promise((resolve) => client.once('message', resolve));
  await client.stop();
  console.log(typeof createWsAdapter);
})();
`;
    writeFileSync(join(app, 'esm.mjs'), body(`import { createClient, createWsAdapter } from 'wsmachine';`));
    writeFileSync(
      join(app, 'cjs.cjs'),
      body(`const { createClient, createWsAdapter } = require('wsmachine');`),
    );
    const env = { ...process.env, URL: server.url };
    const esm = await sh(process.execPath, ['esm.mjs', 'via import'], app, env);
    expect(esm.stdout).toBe('echo via import\nfunction\n');
    const cjs = await sh(process.execPath, ['cjs.cjs', 'via require'], app, env);
    expect(cjs.stdout).toBe('echo via require\nfunction\n');
    expect(cjs.stderr).toBe('');
    expect(server.connections.map((c) => c.received)).toEqual([['via import'], ['via require']]);
  });

  it('installs the wsmachine command', async () => {
    const { stdout } = await sh(join(app, 'node_modules/.bin/wsmachine'), ['--version'], app);
    expect(stdout.trim()).toBe('0.1.0');
  });
});
