/**
 * `wsmachine serve`: the demo server in the foreground, logging connections, faults and (with
 * `--verbose`) messages. SIGINT/SIGTERM close every connection with 1001 and exit.
 */
import { parseArgs } from 'node:util';
import { type DemoServer, startDemoServer } from '../server.js';
import { COLOR_OPTION, intFlag, usage, withColorFlag } from './args.js';
import { formatClose, formatData } from './format.js';
import { type Io, Screen, colorsFor, untilStopped } from './terminal.js';

export const SERVE_HELP = `Usage: wsmachine serve [options]

Runs the demo server in the foreground until Ctrl-C (then every client gets close 1001).

  Demo protocol on ws://HOST:PORT (JSON): echo_request, subscribe_request / unsubscribe_request
  (topic "heartbeat"), fault_request (close, drop, no_pong, delay, close_after, reject_handshakes).
  Raw echo on ws://HOST:PORT/echo: text and binary frames echoed unchanged.

Options:
  --host <host>                 interface to listen on (default 127.0.0.1)
  -p, --port <port>             port; 0 picks a free one (default 8080)
  --heartbeat-interval <ms>     time between heartbeat publications (default 1000)
  -v, --verbose                 also log every message received
  --no-color                    no colour (the same as NO_COLOR=1)
  -h, --help                    this help
`;

/** Runs `serve`; resolves with the exit code once the server has shut down. */
export async function serve(argv: string[], baseIo: Io, signal?: AbortSignal): Promise<number> {
  const { values } = usage(() =>
    parseArgs({
      args: argv,
      options: {
        host: { type: 'string' },
        port: { type: 'string', short: 'p' },
        'heartbeat-interval': { type: 'string' },
        verbose: { type: 'boolean', short: 'v' },
        help: { type: 'boolean', short: 'h' },
        ...COLOR_OPTION,
      },
      allowPositionals: false,
    }),
  );
  const io = withColorFlag(baseIo, values['no-color']);
  if (values.help) {
    io.stdout.write(SERVE_HELP);
    return 0;
  }
  const c = colorsFor(io.stdout, io.env);
  const screen = new Screen(io.stdout, false);
  const heartbeatIntervalMs = intFlag('heartbeat-interval', values['heartbeat-interval'], 1, 86_400_000);
  let server: DemoServer;
  try {
    server = await startDemoServer({
      host: values.host ?? '127.0.0.1',
      port: intFlag('port', values.port, 0, 65_535) ?? 8080,
      ...(heartbeatIntervalMs === undefined ? {} : { heartbeatIntervalMs }),
    });
  } catch (error) {
    io.stderr.write(`${c.red('error')} could not start the demo server: ${(error as Error).message}\n`);
    return 1;
  }
  // Listen for Ctrl-C / SIGTERM before the first line: a script that stops the server as soon as it
  // reads "listening" must not find the signal's default action (death, exit code null) still in place.
  const stopped = untilStopped(signal);
  screen.print(`${c.bold('demo server')} listening on ${c.cyan(server.url)}  (raw echo: ${server.echoUrl})`);
  screen.print(c.dim(`Ctrl-C to stop. Try: wsmachine connect ${server.url}`));
  server.on('connection', (e) =>
    screen.print(
      `${c.green('+')} #${e.id} connected (${e.endpoint} ${e.path}${e.protocol ? `, subprotocol ${e.protocol}` : ''})`,
    ),
  );
  server.on('disconnect', (e) =>
    screen.print(`${c.yellow('-')} #${e.id} disconnected ${formatClose(e.code, e.reason)}`),
  );
  server.on('fault', (e) =>
    screen.print(
      `${c.magenta('!')} fault ${JSON.stringify(e.command)}${e.id === undefined ? '' : ` from #${e.id}`}`,
    ),
  );
  server.on('rejected', (e) =>
    screen.print(
      `${c.red('x')} handshake rejected with ${e.status}${e.retryAfterSeconds === undefined ? '' : ` (Retry-After ${e.retryAfterSeconds})`}`,
    ),
  );
  if (values.verbose)
    server.on('message', (e) => screen.print(`${c.dim('<')} #${e.id} ${formatData(e.data, e.binary)}`));

  await stopped;
  const open = server.stats().open;
  screen.print(`shutting down: closing ${open} connection(s) with 1001`);
  await server.close();
  screen.print('stopped');
  return 0;
}
