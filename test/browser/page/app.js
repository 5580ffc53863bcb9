// The page under test: loads the browser bundle with a plain ES module import, drives one client,
// and exposes what it sees on `window.wsm` for the Playwright test to read (page.evaluate /
// waitForFunction). It also renders the state and an event log, for the screenshot.
import { createClient } from '/wsmachine.js';

const wsUrl = new URLSearchParams(location.search).get('ws');
const stateEl = document.getElementById('state');
const onlineEl = document.getElementById('online');
const logEl = document.getElementById('log');

function log(line) {
  wsm.log.push(line);
  logEl.textContent += `${new Date().toISOString().slice(11, 23)}  ${line}\n`;
}

function showOnline() {
  onlineEl.textContent = navigator.onLine ? '(online)' : '(offline)';
}
showOnline();
addEventListener('online', () => {
  wsm.onlineAt = performance.now();
  log('window: online');
  showOnline();
});
addEventListener('offline', () => {
  log('window: offline');
  showOnline();
});

let nextId = 0;
const binaryWaiters = [];

const wsm = {
  ready: true,
  client: undefined,
  state: 'idle',
  transitions: [],
  log: [],
  /** How many dials the client started (`connecting` events). */
  connecting: 0,
  /** performance.now() of each `connecting` event. */
  connectingAt: [],
  opens: [],
  closes: [],
  reconnecting: [],
  errors: [],
  onlineAt: undefined,

  /** Creates and starts the client; resolves once open (or rejects with the start error's code). */
  async start(options = {}) {
    const client = createClient({
      url: wsUrl,
      prepare: (m) => (m.binary ? undefined : m.json()),
      requests: {
        timeoutMs: 5000,
        key: {
          request: (data) => JSON.parse(data).id,
          response: (m) => m.prepared?.id,
        },
      },
      ...options,
    });
    wsm.client = client;
    client.on('state', ({ from, to }) => {
      wsm.state = to;
      wsm.transitions.push(`${from}->${to}`);
      stateEl.textContent = to;
      stateEl.dataset.state = to;
    });
    client.on('connecting', ({ attempt, url }) => {
      wsm.connecting++;
      wsm.connectingAt.push(performance.now());
      log(`connecting attempt=${attempt} ${url}`);
    });
    client.on('open', ({ sessionId, restarting }) => {
      wsm.opens.push({ sessionId, restarting });
      log(`open session=${sessionId} restarting=${restarting}`);
    });
    client.on('close', ({ code, reason, wasClean }) => {
      wsm.closes.push({ code, reason, wasClean });
      log(`close ${code} ${reason} clean=${wasClean}`);
    });
    client.on('reconnecting', ({ attempt, delayMs }) => {
      wsm.reconnecting.push({ attempt, delayMs });
      log(`reconnecting attempt=${attempt} delay=${Math.round(delayMs)}ms`);
    });
    client.on('error', (e) => {
      wsm.errors.push(e.code);
      log(`error ${e.code}`);
    });
    client.on('message', (m) => {
      if (!m.binary) return;
      const waiter = binaryWaiters.shift();
      waiter?.(m);
    });
    await client.start();
  },

  /** A keyed request: `{ id, a, b }` -> `{ id, sum, conn }`. */
  async add(a, b) {
    const id = ++nextId;
    const reply = await wsm.client.request(JSON.stringify({ id, a, b }));
    log(`reply id=${id} sum=${reply.prepared.sum}`);
    return reply.prepared;
  },

  /** Sends bytes; the server echoes them reversed. Reports what came back and its type. */
  async binaryRoundTrip(bytes) {
    const reply = new Promise((resolve) => binaryWaiters.push(resolve));
    wsm.client.send(new Uint8Array(bytes));
    const m = await reply;
    return { isUint8Array: m.data instanceof Uint8Array, bytes: Array.from(m.data) };
  },

  /** The machine's state value (e.g. `{ reconnecting: 'offline' }`), as JSON. */
  machineState() {
    return JSON.stringify(wsm.client.actor.getSnapshot().value);
  },

  async stop() {
    await wsm.client.stop();
    log('stopped');
  },
};
window.wsm = wsm;
