/** The adapter contract suite against the `ws` adapter (Node). */
import { createWsAdapter } from '../../src/transport/ws.js';
import { adapterContract } from './adapter-contract.js';

adapterContract('ws', () => createWsAdapter(), { handshakeStatus: true, sendsAnyCloseCode: true });
