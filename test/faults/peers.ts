/**
 * Real third-party peers for the fault suite (test/system/): Debian's python3-websockets running
 * test/faults/pyws_server.py, and nginx-light as a WebSocket reverse proxy. Both run as child processes
 * on 127.0.0.1 with their own files in a temporary directory, are waited for through their output
 * (never by sleeping), and are stopped by the test. A missing package FAILS the suite with the exact
 * `apt-get install` line; nothing is skipped.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, watch, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Debian's python (the pyenv python3 on PATH has no `websockets` module). */
export const PYTHON = '/usr/bin/python3';
export const NGINX = '/usr/sbin/nginx';
export const OPENSSL = '/usr/bin/openssl';

const PY_SERVER = fileURLToPath(new URL('./pyws_server.py', import.meta.url));

/** The line to run when a system package is missing. */
export function installLine(...packages: string[]): string {
  return `apt-get install -y --no-install-recommends ${packages.join(' ')}`;
}

function missing(what: string, pkg: string): Error {
  return new Error(
    `${what} is missing. The system fault suite uses Debian packages, never downloads: run \`${installLine(pkg)}\` ` +
      '(as root; .ci/run does it from scripts/system-packages.txt), then `npm run test:system`.',
  );
}

/** Throws with the apt line unless Debian's python3 has the websockets module. */
export function requirePythonWebsockets(): string {
  if (!existsSync(PYTHON)) throw missing(PYTHON, 'python3-websockets');
  try {
    return execFileSync(PYTHON, ['-c', 'import websockets; print(websockets.__version__)'], {
      encoding: 'utf8',
    }).trim();
  } catch {
    throw missing(`The python module "websockets" for ${PYTHON}`, 'python3-websockets');
  }
}

/** Throws with the apt line unless nginx is installed; returns its version line. */
export function requireNginx(): string {
  if (!existsSync(NGINX)) throw missing(NGINX, 'nginx-light');
  return (
    execFileSync(NGINX, ['-v'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim() || 'nginx'
  );
}

/** Throws with the apt line unless openssl is installed. */
export function requireOpenssl(): void {
  if (!existsSync(OPENSSL)) throw missing(OPENSSL, 'openssl');
}

// -------------------------------------------------------------------------------------------------
// Bounded, event-driven waiting

/** Resolves when `check()` returns a value, re-checking on each `subscribe` notification. */
function waitUntil<T>(
  subscribe: (notify: () => void) => () => void,
  check: () => T | undefined,
  label: string,
  timeoutMs: number,
): Promise<T> {
  const now = check();
  if (now !== undefined) return Promise.resolve(now);
  return new Promise<T>((resolve, reject) => {
    const unsubscribe = subscribe(() => {
      const value = check();
      if (value === undefined) return;
      clearTimeout(timer);
      unsubscribe();
      resolve(value);
    });
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`Timed out after ${timeoutMs} ms waiting for ${label}`));
    }, timeoutMs);
  });
}

// -------------------------------------------------------------------------------------------------
// Python fault server

/** One line the python server printed. */
export interface PyEvent {
  ev: 'open' | 'reject' | 'frame' | 'ping' | 'closed';
  id?: number;
  path?: string;
  status?: number;
  opcode?: number;
  len?: number;
  /** Hex of the first 64 bytes of a frame's payload. */
  data?: string;
  code?: number;
  reason?: string;
}

/** A running pyws_server.py. */
export interface PywsServer {
  readonly port: number;
  readonly events: PyEvent[];
  /** A unique path for one test: `/badutf8` -> `/badutf8?t=3` (the server routes on the part before `?`). */
  path(route: string): string;
  url(path: string): string;
  /** Resolves with the first event (old or new) that satisfies `predicate`. */
  waitFor(predicate: (e: PyEvent) => boolean, label: string, timeoutMs?: number): Promise<PyEvent>;
  /** Connections the server accepted on exactly this path. */
  opened(path: string): PyEvent[];
  /** Upgrades the server refused on exactly this path. */
  rejected(path: string): PyEvent[];
  /** Resolves with the `closed` line of the n-th connection (1-based) on this path. */
  closed(path: string, n?: number): Promise<PyEvent>;
  /** Frames the server received on connection `id`. */
  frames(id: number): PyEvent[];
  stop(): Promise<void>;
}

/**
 * Starts test/faults/pyws_server.py with Debian's python; resolves once it printed its port.
 */
export async function startPyws(): Promise<PywsServer> {
  requirePythonWebsockets();
  const child = spawn(PYTHON, [PY_SERVER], { stdio: ['pipe', 'pipe', 'pipe'] });
  const events: PyEvent[] = [];
  const listeners = new Set<() => void>();
  const notify = () => {
    for (const l of [...listeners]) l();
  };
  let stderr = '';
  let buffered = '';
  let port = 0;
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    for (const line of lines) {
      if (line.startsWith('PORT ')) port = Number(line.slice(5));
      else if (line.startsWith('{')) events.push(JSON.parse(line) as PyEvent);
    }
    notify();
  });
  let exited = false;
  child.on('exit', () => {
    exited = true;
    notify();
  });
  const subscribe = (fn: () => void) => {
    listeners.add(fn);
    return () => listeners.delete(fn);
  };
  await waitUntil(
    subscribe,
    () => {
      if (port > 0) return port;
      if (exited) throw new Error(`pyws_server.py exited before listening:\n${stderr}`);
      return undefined;
    },
    'pyws_server.py to print its port',
    10_000,
  );
  let tag = 0;
  const server: PywsServer = {
    port,
    events,
    path: (route) => `${route}?t=${++tag}`,
    url: (path) => `ws://127.0.0.1:${port}${path}`,
    waitFor: (predicate, label, timeoutMs = 8_000) =>
      waitUntil(
        subscribe,
        () => {
          if (exited) throw new Error(`pyws_server.py exited while waiting for ${label}:\n${stderr}`);
          return events.find(predicate);
        },
        `${label} (python saw: ${JSON.stringify(events.slice(-5))})`,
        timeoutMs,
      ),
    opened: (path) => events.filter((e) => e.ev === 'open' && e.path === path),
    rejected: (path) => events.filter((e) => e.ev === 'reject' && e.path === path),
    async closed(path, n = 1) {
      const open = await server.waitFor(
        (e) => e.ev === 'open' && e.path === path && server.opened(path).indexOf(e) === n - 1,
        `connection ${n} on ${path}`,
      );
      return server.waitFor((e) => e.ev === 'closed' && e.id === open.id, `the close of ${path}`);
    },
    frames: (id) => events.filter((e) => e.ev === 'frame' && e.id === id),
    stop() {
      if (exited) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const guard = setTimeout(() => child.kill('SIGKILL'), 5_000);
        child.once('exit', () => {
          clearTimeout(guard);
          resolve();
        });
        // Closing stdin is the server's signal to stop.
        child.stdin!.end();
      });
    },
  };
  return server;
}

// -------------------------------------------------------------------------------------------------
// nginx as a WebSocket reverse proxy

/** A free TCP port on 127.0.0.1 (bound to port 0, then released): nginx cannot listen on port 0. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Options of {@link startNginx}. */
export interface NginxOptions {
  /** Port of the `ws` server behind the proxy. */
  backendPort: number;
  /** proxy_read_timeout of the `/idle/` location, in seconds. @default 1 */
  idleTimeoutS?: number;
  /** worker_shutdown_timeout: how long a reload or quit lets old connections live. @default 1 */
  shutdownTimeoutS?: number;
}

/** A running nginx with its own prefix, config, pid and logs in a temporary directory. */
export interface Nginx {
  readonly port: number;
  readonly dir: string;
  url(path: string): string;
  /** The access log so far. */
  accessLog(): string;
  /** Resolves once the access log satisfies `predicate`. */
  waitForAccessLog(predicate: (log: string) => boolean, label: string): Promise<string>;
  /** `nginx -s reload`; resolves once the new worker is started. */
  reload(): Promise<void>;
  /** `nginx -s quit`; resolves once the master process exited. */
  quit(): Promise<void>;
  /** Starts nginx again (after quit) on the same port. */
  start(): Promise<void>;
  /** Stops nginx (fast shutdown) and removes its directory. Idempotent. */
  stop(): Promise<void>;
}

function nginxConf(dir: string, port: number, o: Required<NginxOptions>): string {
  const proxy = (readTimeout: string) => `
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_read_timeout ${readTimeout};
      proxy_send_timeout ${readTimeout};`;
  const asRoot = process.getuid?.() === 0 ? 'user root root;\n' : '';
  return `# Written by test/faults/peers.ts for one test run.
${asRoot}worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log notice;
worker_shutdown_timeout ${o.shutdownTimeoutS}s;
events { worker_connections 256; }
http {
  access_log ${dir}/access.log combined;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  map $http_upgrade $connection_upgrade { default upgrade; '' close; }
  upstream backend { server 127.0.0.1:${o.backendPort}; }
  server {
    listen 127.0.0.1:${port};
    location /idle/ {${proxy(`${o.idleTimeoutS}s`)}
    }
    location / {${proxy('60s')}
    }
  }
}
`;
}

/** Starts nginx-light in front of `backendPort`; resolves once its worker is running. */
export async function startNginx(options: NginxOptions): Promise<Nginx> {
  requireNginx();
  const o: Required<NginxOptions> = { idleTimeoutS: 1, shutdownTimeoutS: 1, ...options };
  const dir = mkdtempSync(join(tmpdir(), 'wsm-nginx-'));
  const conf = join(dir, 'nginx.conf');
  const errorLog = join(dir, 'error.log');
  const accessLogPath = join(dir, 'access.log');
  const args = ['-p', dir, '-c', conf, '-e', errorLog];
  const read = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8') : '');
  const subscribeDir = (fn: () => void) => {
    const watcher = watch(dir, () => fn());
    return () => watcher.close();
  };
  const workersStarted = () => read(errorLog).match(/start worker process \d+/g)?.length ?? 0;

  let master: ChildProcess | undefined;
  let masterExit: Promise<void> = Promise.resolve();
  let port = 0;

  const launch = async (): Promise<void> => {
    const before = workersStarted();
    const child = spawn(NGINX, [...args, '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    let exited = false;
    masterExit = new Promise<void>((resolve) => {
      child.once('exit', () => {
        exited = true;
        resolve();
      });
    });
    master = child;
    await waitUntil(
      (fn) => {
        const off = subscribeDir(fn);
        child.once('exit', fn);
        return () => {
          off();
          child.off('exit', fn);
        };
      },
      () => {
        if (workersStarted() > before) return true;
        if (exited) throw new Error(`nginx exited at start: ${stderr}\n${read(errorLog)}`);
        return undefined;
      },
      'nginx to start its worker',
      10_000,
    );
  };

  // The free port may be taken between the check and nginx's bind: try a few.
  for (let tries = 0; ; tries++) {
    port = await freePort();
    writeFileSync(conf, nginxConf(dir, port, o));
    try {
      await launch();
      break;
    } catch (error) {
      if (tries >= 2 || !/in use/i.test(String(error))) throw error;
    }
  }

  let stopped = false;
  const signal = (name: 'reload' | 'quit' | 'stop') =>
    execFileSync(NGINX, [...args, '-s', name], { stdio: ['ignore', 'pipe', 'pipe'] });

  return {
    get port() {
      return port;
    },
    dir,
    url: (path) => `ws://127.0.0.1:${port}${path}`,
    accessLog: () => read(accessLogPath),
    waitForAccessLog: (predicate, label) =>
      waitUntil(
        subscribeDir,
        () => {
          const log = read(accessLogPath);
          return predicate(log) ? log : undefined;
        },
        `${label} in nginx's access log`,
        8_000,
      ),
    async reload() {
      const before = workersStarted();
      signal('reload');
      await waitUntil(
        subscribeDir,
        () => (workersStarted() > before ? true : undefined),
        'nginx to start a new worker after reload',
        10_000,
      );
    },
    async quit() {
      signal('quit');
      await masterExit;
    },
    start: launch,
    async stop() {
      if (stopped) return;
      stopped = true;
      if (master !== undefined && master.exitCode === null && master.signalCode === null) {
        master.kill('SIGTERM');
        const guard = setTimeout(() => master?.kill('SIGKILL'), 5_000);
        await masterExit;
        clearTimeout(guard);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
