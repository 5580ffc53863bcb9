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
import { UsageError, withColorFlag } from './args.js';
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
  connect <url>     interactive client like wscat (takes wscat's flags; -c <url> also works
                    without the command): status line, reconnects, slash commands, --json, -x
  serve             the demo server in the foreground (demo protocol, raw echo, fault commands)
  inspect [url]     the live inspector: the statechart with the current state, the event log
  help [command]    help for a command

Options:
  -h, --help        help
  -v, --version     the version
  --no-color        no colour, for every command (the same as NO_COLOR=1)
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
export async function run(argv: string[], baseIo: Io = processIo()): Promise<number> {
  // `wsmachine --no-color <command>`: every command also takes it after its name.
  const global = argv.findIndex((arg) => arg !== '--no-color');
  const io = withColorFlag(baseIo, global !== 0 && argv.length > 0);
  const args = global === -1 ? [] : argv.slice(global);
  const [first, ...rest] = args;
  // wscat's spelling: `wsmachine -c <url>` is `wsmachine connect -c <url>`.
  const wscat = first === '-c' || first === '--connect' || first?.startsWith('--connect=') === true;
  const command = wscat ? 'connect' : first;
  try {
    switch (command) {
      case 'connect':
        return await connect(wscat ? args : rest, io);
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
      // One line, and where the whole story is: the help is not repeated under every typo.
      const name = command !== undefined && command in HELPS ? `wsmachine ${command}` : 'wsmachine';
      io.stderr.write(`${name}: ${error.message}; see ${name} --help\n`);
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
