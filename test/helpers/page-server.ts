/**
 * A static HTTP server on 127.0.0.1 (port 0) for the browser tests: the pages, their scripts and the
 * bundles under test, served with `no-store` so a page never runs a stale bundle.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** One file: its content type (without charset) and body. */
export interface ServedFile {
  type: string;
  body: Uint8Array | string;
}

/** A running page server. */
export interface PageServer {
  /** `http://127.0.0.1:<port>` (no trailing slash). */
  url: string;
  close(): Promise<void>;
}

/** Serves `files` by path (`/`, `/app.js`, ...); anything else is 404, `/favicon.ico` 204. */
export async function serveFiles(files: Record<string, ServedFile>): Promise<PageServer> {
  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const file = files[path];
    if (file === undefined) {
      res.writeHead(path === '/favicon.ico' ? 204 : 404).end();
      return;
    }
    res.writeHead(200, { 'content-type': `${file.type}; charset=utf-8`, 'cache-control': 'no-store' });
    res.end(file.body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

const pageDir = resolve(dirname(fileURLToPath(import.meta.url)), '../browser/page');

/** The test page (test/browser/page: `index.html`, `app.js`) with the browser bundle as `/wsmachine.js`. */
export function startTestPage(bundle: Uint8Array): Promise<PageServer> {
  return serveFiles({
    '/': { type: 'text/html', body: readFileSync(join(pageDir, 'index.html')) },
    '/app.js': { type: 'text/javascript', body: readFileSync(join(pageDir, 'app.js')) },
    '/wsmachine.js': { type: 'text/javascript', body: bundle },
  });
}
