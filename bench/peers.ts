/**
 * The peers, constructed the way they run in Node: the WHATWG-API libraries (reconnecting-websocket,
 * partysocket, websocket-ts) get the `ws` WebSocket class as their constructor (partysocket and
 * reconnecting-websocket take it as the `WebSocket` option; websocket-ts calls the global
 * `WebSocket`, which Node 20 does not have, so it is set to `ws`'s class for the bench process).
 * Binary frames are asked for as `arraybuffer` (the browser-style choice; their default `blob` would
 * add a Blob per message).
 */
import PartySocket from 'partysocket/ws';
import RWS from 'reconnecting-websocket';
import { type Websocket, WebsocketBuilder, WebsocketEvent } from 'websocket-ts';
import WebSocket from 'ws';

/** reconnecting-websocket is CommonJS (`module.exports = class`); its types declare an ES default. */
export const ReconnectingWebSocket = ((RWS as unknown as { default?: unknown }).default ??
  RWS) as unknown as new (
  url: string,
  protocols: string[],
  options: object,
) => WhatwgLike;

if ((globalThis as { WebSocket?: unknown }).WebSocket === undefined) {
  (globalThis as { WebSocket?: unknown }).WebSocket = WebSocket;
}

/** The subset of the WHATWG WebSocket every peer offers. */
export interface WhatwgLike {
  send(data: string): void;
  close(code?: number): void;
  binaryType: string;
  addEventListener(type: string, listener: (event: any) => void): void;
}

export type PeerName = 'reconnecting-websocket' | 'partysocket' | 'websocket-ts';
export const WHATWG_PEERS: PeerName[] = ['reconnecting-websocket', 'partysocket', 'websocket-ts'];

/** Opens a peer and calls `onData(event.data)` per message; resolves once open. */
export function openPeer(
  name: PeerName,
  url: string,
  onData: (data: string | ArrayBuffer) => void,
): Promise<{ send(data: string): void; close(): void }> {
  return new Promise((resolve, reject) => {
    if (name === 'websocket-ts') {
      const ws: Websocket = new WebsocketBuilder(url).build();
      ws.binaryType = 'arraybuffer';
      ws.addEventListener(WebsocketEvent.message, (_i, e) => onData(e.data));
      ws.addEventListener(
        WebsocketEvent.open,
        () => resolve({ send: (d) => ws.send(d), close: () => ws.close() }),
        {
          once: true,
        },
      );
      ws.addEventListener(WebsocketEvent.error, () => reject(new Error('websocket-ts: error')), {
        once: true,
      });
      return;
    }
    const options = { WebSocket, maxRetries: 0 };
    const ws: WhatwgLike =
      name === 'partysocket'
        ? (new PartySocket(url, [], options) as unknown as WhatwgLike)
        : new ReconnectingWebSocket(url, [], options);
    ws.binaryType = 'arraybuffer';
    ws.addEventListener('message', (e: { data: string | ArrayBuffer }) => onData(e.data));
    let opened = false;
    ws.addEventListener('open', () => {
      if (opened) return;
      opened = true;
      resolve({ send: (d) => ws.send(d), close: () => ws.close(1000) });
    });
    ws.addEventListener('error', () => {
      if (!opened) reject(new Error(`${name}: error before open`));
    });
  });
}
