/**
 * The slash commands of an interactive `wsmachine connect`: wscat's `/ping [data]`, `/pong [data]` and
 * `/close [code] [reason]`, and wsmachine's own `/restart`, `/stats`, `/quit`. Each one goes through
 * the public client API, or the control-frame tap (frames.ts) for pings and pongs.
 */
import type { CloseRequest, WsClient } from '../node.js';
import { formatError } from './format.js';
import type { ControlFrame, FrameTap } from './frames.js';

/** What a slash command may do to the session it runs in. */
export interface SlashContext {
  client: WsClient;
  frames: FrameTap;
  /** A line of output (a note above the prompt, or a JSON event with `--json`). */
  say(text: string, event?: { event: string; [key: string]: unknown }): void;
  /** A frame that went out, printed where sent messages are (stdout when piped). */
  wire(text: string, event: { event: string; [key: string]: unknown }): void;
  /** A failure, as one line. */
  fail(text: string): void;
  /** Stops the client (and so ends the session) with this close frame; resolves once stopped. */
  stop(request?: CloseRequest): Promise<void>;
}

const MAX_CONTROL_BYTES = 125;

export const SLASH_HELP =
  'commands: /ping [data], /pong [data], /close [code] [reason], /restart, /stats, /quit (start with // to send a "/")';

function control(kind: ControlFrame, data: string, ctx: SlashContext): void {
  const bytes = new TextEncoder().encode(data);
  if (bytes.byteLength > MAX_CONTROL_BYTES) {
    ctx.fail(
      `/${kind}: at most ${MAX_CONTROL_BYTES} bytes of data (a control frame), got ${bytes.byteLength}`,
    );
    return;
  }
  let result: ReturnType<FrameTap['send']>;
  try {
    result = ctx.frames.send(kind, bytes);
  } catch (error) {
    ctx.fail(`/${kind}: ${formatError(error)}`);
    return;
  }
  if (result === 'sent')
    ctx.wire(`${kind}${data === '' ? '' : ` (data: ${JSON.stringify(data)})`}`, {
      event: 'control',
      frame: kind,
      direction: 'out',
      data,
    });
  else if (result === 'not-open') ctx.fail(`/${kind}: not connected (state ${ctx.client.state})`);
  else ctx.fail(`/${kind}: this connection cannot send ${kind} frames`);
}

/** `/close [code] [reason]`: a close code a client may send, or a one-line complaint. */
function parseClose(args: string): CloseRequest | string {
  const match = /^(\S+)?\s*(.*)$/s.exec(args)!;
  if (match[1] === undefined) return { code: 1000 };
  const code = Number(match[1]);
  if (!Number.isInteger(code))
    return `/close: the code must be a number (1000, or 3000-4999), got ${match[1]}`;
  return match[2] === '' ? { code } : { code, reason: match[2]! };
}

/** Runs one slash command line (starting with `/`). */
export function runSlash(line: string, ctx: SlashContext): void {
  const text = line.trim();
  const name = /^\/(\S*)/.exec(text)![1]!;
  const args = text.slice(name.length + 1).trim();
  switch (name) {
    case 'ping':
    case 'pong':
      control(name, args, ctx);
      return;
    case 'close': {
      const request = parseClose(args);
      if (typeof request === 'string') ctx.fail(request);
      // An invalid code (1005, 1006, 2000...) rejects with InvalidCloseError and changes nothing.
      else ctx.stop(request).catch((error: unknown) => ctx.fail(`/close: ${formatError(error)}`));
      return;
    }
    case 'quit':
    case 'exit':
      void ctx.stop();
      return;
    case 'restart':
      try {
        ctx.client.restart('restart from the CLI');
      } catch (error) {
        ctx.fail(formatError(error));
      }
      return;
    case 'stats': {
      const stats = ctx.client.stats();
      ctx.say(JSON.stringify(stats), { event: 'stats', ...stats });
      return;
    }
    case 'help':
      ctx.say(SLASH_HELP);
      return;
    default:
      ctx.fail(`unknown command /${name}; ${SLASH_HELP}`);
  }
}
