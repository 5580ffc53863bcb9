/** The adapter contract suite against the `ws` adapter (Node), and the control frames only it has. */
import { afterEach, describe, expect, it } from 'vitest';
import type { ConnectionListener } from '../../src/transport/adapter.js';
import { createWsAdapter } from '../../src/transport/ws.js';
import { cleanup, startWsServer } from '../helpers/servers.js';
import { adapterContract } from './adapter-contract.js';

adapterContract('ws', () => createWsAdapter(), { handshakeStatus: true, sendsAnyCloseCode: true });

describe('ws adapter: protocol ping and pong frames', () => {
  afterEach(cleanup);

  it('ping(data) and pong(data) reach the server with their data; its ping and pong arrive as onPing and onPong', async () => {
    const seen: string[] = [];
    const waiters: Array<() => void> = [];
    const record = (line: string) => {
      seen.push(line);
      for (const w of waiters.splice(0)) w();
    };
    /** Resolves once `count` frames were seen (re-checked on each one); the test timeout guards it. */
    const until = (count: number) =>
      new Promise<void>((resolve) => {
        const check = () => (seen.length >= count ? resolve() : waiters.push(check));
        check();
      });
    const server = await startWsServer({
      onConnection: (c) => {
        c.socket.on('ping', (d) => record(`server got ping ${d}`));
        c.socket.on('pong', (d) => record(`server got pong ${d}`));
      },
    });
    let opened!: () => void;
    const open = new Promise<void>((resolve) => {
      opened = resolve;
    });
    const listener: ConnectionListener = {
      onOpen: () => opened(),
      onMessage: () => {},
      onClose: () => record('closed'),
      onPing: (d) => record(`client got ping ${Buffer.from(d)}`),
      onPong: (d) => record(`client got pong ${Buffer.from(d)}`),
    };
    const enc = (s: string) => new TextEncoder().encode(s);
    const conn = createWsAdapter().connect(
      { url: server.url, maxPayloadBytes: 1 << 20, closeTimeoutMs: 1_000, handshakeTimeoutMs: 5_000 },
      listener,
    );
    await open;
    conn.ping!(enc('p1')); // ws on the server answers with a pong carrying the same data
    await until(2);
    conn.pong!(enc('unsolicited'));
    await until(3);
    server.connections[0]!.socket.ping('s1'); // the client answers it by itself: the server sees pong s1
    server.connections[0]!.socket.pong('s2');
    await until(6);
    expect(seen.slice(0, 3)).toEqual([
      'server got ping p1',
      'client got pong p1',
      'server got pong unsolicited',
    ]);
    expect(seen.slice(3).sort()).toEqual(['client got ping s1', 'client got pong s2', 'server got pong s1']);
    conn.close(1000, '');
    await until(7);
    expect(seen.at(-1)).toBe('closed');
  });
});
