/**
 * The translation of YAML options into wsmachine's: deep merge of a connect step's overrides, and the
 * request key given as a JSON path turned into wsmachine's `requests.key` functions.
 */
import { describe, expect, it } from 'vitest';
import { Message } from '../../../src/node.js';
import { clientOptions, hasTemplate, keyPathsOf, mergeOptions } from '../src/options.js';
import { formatPath, parsePath, readPath, writePath } from '../src/path.js';

const text = (data: string) => new Message(data, false, 1, 0);

describe('options', () => {
  it('a connect step overrides config.wsmachine deeply; false replaces an object', () => {
    const base = { reconnect: { baseDelayMs: 100, maxDelayMs: 2000 }, heartbeat: { intervalMs: 5000 } };
    expect(mergeOptions(base, { reconnect: { baseDelayMs: 10 }, heartbeat: false })).toEqual({
      reconnect: { baseDelayMs: 10, maxDelayMs: 2000 },
      heartbeat: false,
    });
    expect(base.reconnect.baseDelayMs).toBe(100);
  });

  it('requests.key as one path reads the key of a reply at that path, as a string', () => {
    const options = clientOptions('ws://h/', { requests: { key: 'meta.id', timeoutMs: 500 } }, {});
    const key = options.requests?.key;
    expect(options.requests?.timeoutMs).toBe(500);
    expect(key?.response(text('{"meta":{"id":7}}'))).toBe('7');
    expect(key?.response(text('not json'))).toBeUndefined();
    expect(key?.response(text('{"other":1}'))).toBeUndefined();
    expect(key?.request('{}', '7')).toBe('7');
  });

  it('requests.key with different request and response paths', () => {
    const paths = keyPathsOf({ requests: { key: { request: 'id', response: '$.result.id' } } });
    expect(paths && formatPath(paths.request)).toBe('$.id');
    expect(paths && formatPath(paths.response)).toBe('$.result.id');
  });

  it('finds templates anywhere', () => {
    expect(hasTemplate({ headers: { Authorization: 'Bearer {{ token }}' } })).toBe(true);
    expect(hasTemplate({ reconnect: { baseDelayMs: 5 }, protocols: ['a'] })).toBe(false);
  });
});

describe('key paths', () => {
  it('parses field names and indexes, with or without $', () => {
    expect(parsePath('reqId')).toEqual(['reqId']);
    expect(parsePath('$.items[2].id')).toEqual(['items', 2, 'id']);
    expect(() => parsePath('a..b')).toThrow('is not a key path');
    expect(() => parsePath('$')).toThrow('is not a key path');
  });

  it('reads, and writes creating objects on the way', () => {
    const payload: Record<string, unknown> = { type: 'echo_request' };
    expect(writePath(payload, ['meta', 'id'], '3')).toBe(true);
    expect(payload).toEqual({ type: 'echo_request', meta: { id: '3' } });
    expect(readPath(payload, ['meta', 'id'])).toBe('3');
    expect(writePath({ meta: 'text' }, ['meta', 'id'], 1)).toBe(false);
  });
});
