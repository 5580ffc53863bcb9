/**
 * `wsmachine inspect [url]`: the live inspector in the foreground. With a URL, a client connects to
 * it (reconnecting as configured) and is shown on the page; without one, an embedded demo server and
 * a client subscribed to its heartbeats give the page something to show. Ctrl-C stops everything.
 */
import { parseArgs } from 'node:util';
import { createInspector } from '../inspector.js';
import { type WsClient, createClient } from '../node.js';
import { type DemoServer, startDemoServer } from '../server.js';
import { COLOR_OPTION, intFlag, usage, withColorFlag } from './args.js';
import { type Io, colorsFor, untilStopped } from './terminal.js';

export const INSPECT_HELP = `Usage: wsmachine inspect [url] [options]

Serves the live inspector on 127.0.0.1 (no external assets): the statechart with the current state
highlighted, the event log (state changes, reconnect countdown, close codes, heartbeat misses),
pending requests and queued sends. Open the printed address in a browser.

  With <url>, a client connects there and is shown. Without it, an embedded demo server and a client
  subscribed to its heartbeats are started, and the server drops every connection every 10 seconds
  (no close frame) so the page shows the client noticing and reconnecting.

Options:
  -p, --port <port>     the inspector's port; 0 picks a free one (default 0)
  --no-reconnect        the client does not reconnect
  --no-color            no colour (the same as NO_COLOR=1)
  -h, --help            this help
`;

/** Runs `inspect`; resolves with the exit code after Ctrl-C (or `signal`). */
export async function inspect(argv: string[], baseIo: Io, signal?: AbortSignal): Promise<number> {
  const { values, positionals } = usage(() =>
    parseArgs({
      args: argv,
      options: {
        port: { type: 'string', short: 'p' },
        'no-reconnect': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        ...COLOR_OPTION,
      },
      allowPositionals: true,
    }),
  );
  const io = withColorFlag(baseIo, values['no-color']);
  if (values.help) {
    io.stdout.write(INSPECT_HELP);
    return 0;
  }
  const c = colorsFor(io.stdout, io.env);
  const port = intFlag('port', values.port, 0, 65_535) ?? 0;
  let url = positionals[0];
  if (url !== undefined) {
    // Validate before anything listens: a bad URL must not leave servers keeping the process alive.
    createClient({ url, reconnect: false, heartbeat: false });
  }
  const inspector = await createInspector({ port });
  let server: DemoServer | undefined;
  if (url === undefined) {
    server = await startDemoServer({ port: 0 });
    url = server.url;
    io.stdout.write(`${c.bold('demo server')} on ${c.cyan(server.url)} (drops its connections every 10 s)\n`);
  }
  const demoServer = server;
  const chaos =
    demoServer === undefined ? undefined : setInterval(() => demoServer.fault({ fault: 'drop' }), 10_000);
  const client: WsClient = createClient({
    url,
    reconnect: values['no-reconnect'] ? false : { maxDelayMs: 5_000 },
    hooks: {
      onOpen: (session) => {
        if (server !== undefined) {
          session.send(
            JSON.stringify({ type: 'subscribe_request', reqId: `s${session.id}`, topic: 'heartbeat' }),
          );
        }
      },
    },
  });
  client.on('error', () => {}); // shown on the page's event log
  inspector.attach(client, url);
  const stopped = untilStopped(signal); // before the line a script waits for (see serve.ts)
  io.stdout.write(`${c.bold('inspector')} on ${c.cyan(inspector.url)}  (Ctrl-C to stop)\n`);
  client.start().catch((error: Error) => io.stderr.write(`${c.red('start failed:')} ${error.message}\n`));

  await stopped;
  clearInterval(chaos);
  await client.stop();
  await inspector.close();
  await server?.close();
  return 0;
}
