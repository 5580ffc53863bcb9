/**
 * The `wsmachine` command. Runs as a script (`tsx src/cli/main.ts demo` from a checkout, or the
 * package's `bin`, which loads the built `dist/cli.js`). Uses only the public entry points
 * (`../node.js` = `wsmachine`, `../server.js` = `wsmachine/server`, `../inspector.js` =
 * `wsmachine/inspector`): the CLI is our first user.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isWsmError } from '../node.js';
import { UsageError } from './args.js';
import { CONNECT_HELP, connect } from './connect.js';
import { DEMO_HELP, demo } from './demo.js';
import { INSPECT_HELP, inspect } from './inspect.js';
import { SERVE_HELP, serve } from './serve.js';
import { type Io, processIo } from './terminal.js';

export const HELP = `Usage: wsmachine <command> [options]

A WebSocket client whose connection lifecycle is an explicit statechart.

Commands:
  demo              the main job in ~15 s: connect, requests, heartbeats, the server dies and
                    comes back, nothing is lost (see the summary)
  connect <url>     interactive client like wscat: status line, reconnects, --json, --exec
  serve             the demo server in the foreground (demo protocol, raw echo, fault commands)
  inspect [url]     the live inspector: the statechart with the current state, the event log
  help [command]    help for a command

Options:
  -h, --help        help
  -v, --version     the version
`;

const HELPS: Record<string, string> = {
  connect: CONNECT_HELP,
  serve: SERVE_HELP,
  demo: DEMO_HELP,
  inspect: INSPECT_HELP,
};

/** The package version, read from the nearest package.json named wsmachine. */
function version(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'wsmachine') return pkg.version ?? 'unknown';
    } catch {
      // Not here: look one level up.
    }
    dir = dirname(dir);
  }
  return 'unknown';
}

/**
 * Runs the CLI with `argv` (without `node` and the script) and resolves with the exit code:
 * 0 success, 1 failure, 2 usage error.
 */
export async function run(argv: string[], io: Io = processIo()): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'connect':
        return await connect(rest, io);
      case 'serve':
        return await serve(rest, io);
      case 'demo':
        return await demo(rest, io);
      case 'inspect':
        return await inspect(rest, io);
      case 'help':
        io.stdout.write(HELPS[rest[0] ?? ''] ?? HELP);
        return 0;
      case '-v':
      case '--version':
        io.stdout.write(`${version()}\n`);
        return 0;
      case undefined:
      case '-h':
      case '--help':
        io.stdout.write(HELP);
        return 0;
      default:
        throw new UsageError(`unknown command ${JSON.stringify(command)}`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`wsmachine: ${error.message}\n\n${HELPS[command ?? ''] ?? HELP}`);
      return 2;
    }
    // wsmachine's own errors say what to do; a stack trace only helps for the unexpected ones.
    const text = isWsmError(error)
      ? `${error.code}: ${error.message}`
      : error instanceof Error
        ? (error.stack ?? error.message)
        : String(error);
    io.stderr.write(`wsmachine: ${text}\n`);
    return 1;
  }
}

process.exitCode = await run(process.argv.slice(2));
