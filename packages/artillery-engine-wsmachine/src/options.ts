/**
 * From `config.wsmachine` (and a `connect` step's overrides), which are YAML data, to the options of
 * wsmachine's `createClient`. Data maps one to one, except what YAML cannot hold: a function. The one
 * function a load test needs, the request key, is given as a JSON path (`requests.key: reqId`).
 */
import type { ClientOptions, Message, RequestKeyOptions } from 'wsmachine';
import { type Path, formatPath, parsePath, readPath } from './path.js';

/** Settings of the engine itself, read from `config.wsmachine` and never passed to the client. */
export interface EngineSettings {
  /**
   * Messages a virtual user keeps for its next `waitFor` steps (those not consumed by a request). The
   * oldest is dropped beyond it, counted as `wsmachine.inbox.dropped`.
   * @default 32
   */
  inboxSize: number;
}

const ENGINE_KEYS = new Set(['inboxSize']);
const DEFAULT_INBOX_SIZE = 32;

/** Options the engine sets itself: a script giving them would be silently replaced. */
const OWNED: Record<string, string> = {
  hooks: 'the engine owns the hooks; act on the client from a `function` step instead',
  url: 'give the URL as `config.target`, or in a `connect` step (`connect: ws://…` or `connect: { url }`)',
};

/** Where the request key is: a JSON path into the outgoing payload and one into the response. */
export interface KeyPaths {
  readonly request: Path;
  readonly response: Path;
  /** As the script wrote it, for messages. */
  readonly text: string;
}

/** A problem found in options, said in the script's terms. */
export class OptionsProblem extends Error {}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;

/**
 * Deep merge of plain objects: `override` wins; arrays and other values are replaced, not merged (so
 * `reconnect: false` in a `connect` step turns reconnecting off).
 */
export function mergeOptions(
  base: Record<string, unknown>,
  override: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) {
    const before = out[key];
    out[key] = isPlainObject(before) && isPlainObject(value) ? mergeOptions(before, value) : value;
  }
  return out;
}

/**
 * Splits `config.wsmachine` into the engine's settings and the client's options.
 * @throws {OptionsProblem} when it is not an object, or an engine setting is out of range.
 */
export function splitConfig(raw: unknown): { settings: EngineSettings; client: Record<string, unknown> } {
  if (raw === undefined || raw === null) return { settings: { inboxSize: DEFAULT_INBOX_SIZE }, client: {} };
  if (!isPlainObject(raw))
    throw new OptionsProblem(`expected an object of client options, got ${typeof raw}`);
  const client: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) if (!ENGINE_KEYS.has(key)) client[key] = value;
  const inboxSize = raw.inboxSize ?? DEFAULT_INBOX_SIZE;
  // At least 1: a message must stay in the inbox until the waiting `waitFor` has looked at it.
  if (typeof inboxSize !== 'number' || !Number.isInteger(inboxSize) || inboxSize < 1) {
    throw new OptionsProblem(`inboxSize: expected an integer >= 1, got ${JSON.stringify(inboxSize)}`);
  }
  return { settings: { inboxSize }, client };
}

/**
 * Reads `requests.key`: a path used for both directions (`reqId`, `$.meta.id`), or
 * `{ request: <path>, response: <path> }` when the reply carries the key elsewhere.
 * @returns undefined when no key is configured.
 * @throws {OptionsProblem} for anything else.
 */
export function keyPathsOf(options: Record<string, unknown>): KeyPaths | undefined {
  const requests = options.requests;
  if (!isPlainObject(requests) || requests.key === undefined) return undefined;
  const spec = requests.key;
  try {
    if (typeof spec === 'string') {
      const path = parsePath(spec);
      return { request: path, response: path, text: spec };
    }
    if (isPlainObject(spec) && typeof spec.request === 'string' && typeof spec.response === 'string') {
      return {
        request: parsePath(spec.request),
        response: parsePath(spec.response),
        text: `${spec.request} -> ${spec.response}`,
      };
    }
  } catch (error) {
    throw new OptionsProblem(`requests.key: ${(error as Error).message}`);
  }
  throw new OptionsProblem(
    `requests.key: expected a JSON path such as "reqId" (the field that carries the key in the request and ` +
      `its response), or { request: <path>, response: <path> }; got ${JSON.stringify(spec)}`,
  );
}

/** Reads the key of an incoming message at `path`; non-JSON messages have none. */
function responseKey(message: Message, path: Path): string | undefined {
  if (message.binary) return undefined;
  let body: unknown;
  try {
    body = message.json();
  } catch {
    return undefined;
  }
  const value = readPath(body, path);
  return value === undefined || value === null ? undefined : String(value);
}

/**
 * The client's options for one virtual user: the script's options with the key paths turned into
 * wsmachine's `requests.key` functions, and the engine's hooks.
 * @throws {OptionsProblem} when the script sets an option the engine owns.
 */
export function clientOptions(
  url: unknown,
  options: Record<string, unknown>,
  hooks: NonNullable<ClientOptions['hooks']>,
): ClientOptions {
  for (const [key, why] of Object.entries(OWNED)) {
    if (options[key] !== undefined) throw new OptionsProblem(`${key}: not allowed here: ${why}`);
  }
  const keyPaths = keyPathsOf(options);
  const out: Record<string, unknown> = { ...options, url, hooks };
  if (keyPaths) {
    // Keys are compared as strings: a templated "{{ id }}" and a numeric reply id must meet.
    const key: RequestKeyOptions<string> = {
      request: (_data, params) => params,
      response: (message) => responseKey(message, keyPaths.response),
    };
    out.requests = { ...(options.requests as Record<string, unknown>), key };
  }
  return out as unknown as ClientOptions;
}

/** True when a value holds an Artillery template (`{{ … }}`) anywhere. */
export function hasTemplate(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('{{');
  if (Array.isArray(value)) return value.some(hasTemplate);
  if (isPlainObject(value)) return Object.entries(value).some(([k, v]) => k.includes('{{') || hasTemplate(v));
  return false;
}

export { formatPath, isPlainObject };
