// price-board.ts: the app under test. It subscribes on every (re)connection and says whether the
// prices it shows are live.
import { type ClientOptions, type Hooks, createClient } from '../../../src/node.js'; // 'wsmachine'

export function createPriceBoard(
  test: Partial<ClientOptions> & { wrapHooks?: (hooks: Hooks) => Hooks } = {},
) {
  const { wrapHooks = (hooks: Hooks) => hooks, ...options } = test;
  const board = { price: 0, session: 0, live: false };
  const client = createClient({
    url: 'wss://prices.example/feed',
    reconnect: { baseDelayMs: 500, maxDelayMs: 10_000 },
    ...options,
    hooks: wrapHooks({
      onOpen: (session) => void session.send('SUBSCRIBE BTC-EUR'),
      onMessage: (m) => {
        const [kind, price] = String(m.data).split(' ');
        if (kind !== 'PRICE') return;
        board.price = Number(price);
        board.session = m.sessionId;
        board.live = client.state === 'open';
      },
    }),
  });
  // Live again only once this session's price came in; stale as soon as the connection is not open.
  client.on('open', ({ sessionId }) => {
    board.live = board.session === sessionId;
  });
  client.on('state', ({ to }) => {
    if (to !== 'open') board.live = false;
  });
  return { client, board };
}
