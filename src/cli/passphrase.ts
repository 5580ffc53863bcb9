/**
 * Asks for a secret on the terminal without echoing it (wscat's bare `--passphrase`): raw mode, the
 * typed characters are never written back, Backspace edits, Enter ends, Ctrl-C or Ctrl-D on an empty
 * line gives up.
 */
import { UsageError } from './args.js';
import type { Io } from './terminal.js';

/** Resolves with the typed secret; rejects with a {@link UsageError} when there is no terminal to ask on. */
export function readPassphrase(io: Io, prompt: string): Promise<string> {
  const stdin = io.stdin;
  if (stdin.isTTY !== true || typeof stdin.setRawMode !== 'function') {
    return Promise.reject(
      new UsageError('--passphrase needs a value when stdin is not a terminal (--passphrase=<passphrase>)'),
    );
  }
  io.stderr.write(prompt);
  return new Promise<string>((resolve, reject) => {
    let secret = '';
    const finish = (error?: Error) => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      io.stderr.write('\n');
      if (error) reject(error);
      else resolve(secret);
    };
    const onData = (chunk: Buffer | string) => {
      for (const ch of chunk.toString()) {
        if (ch === '\r' || ch === '\n') return finish();
        if (ch === '\u0003' || (ch === '\u0004' && secret === ''))
          return finish(new UsageError('no passphrase given'));
        if (ch === '\u007f' || ch === '\b') secret = secret.slice(0, -1);
        else if (ch >= ' ') secret += ch;
      }
    };
    stdin.setRawMode(true);
    stdin.on('data', onData);
    stdin.resume();
  });
}
