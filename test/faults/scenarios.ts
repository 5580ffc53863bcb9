/**
 * The single source of truth for the fault suite: every row of FAULTS.md (the reliability contract in
 * the design notes), the peer it runs against, the behaviour the tests assert, and the tests that
 * cover it (file + exact title as written in the source; `%i`/`%s` for `it.each` titles).
 *
 * docs/reliability.md is generated from this table (`npm run reliability:doc`), and
 * test/unit/faults-table.test.ts fails when a mapped test no longer exists or the doc is stale.
 */

/** The peers the suite runs against. */
export const PEERS = {
  ws: 'loopback `ws` server (test/helpers/servers.ts, liveness-servers.ts)',
  pyws: 'Debian python3-websockets (test/faults/pyws_server.py on /usr/bin/python3)',
  nginx: 'Debian nginx-light reverse proxy in front of a loopback `ws` server (test/faults/peers.ts)',
  proxy: 'node:net TCP fault proxy (test/helpers/fault-proxy.ts) or the byte-slicing proxy in faults.test.ts',
  tcp: 'raw node:net server (never answers, upgrades then goes silent, or writes frames by hand)',
  tls: 'Node `https` + `ws` server with a self-signed certificate made by Debian `openssl`',
  chromium: 'Debian chromium driving the browser bundle (native WebSocket)',
  memory: 'the in-memory adapter / the machine on a simulated clock (no sockets)',
  undici: "Node 20's built-in WebSocket (undici, --experimental-websocket)",
} as const;

export type Peer = keyof typeof PEERS;

/** One test that covers a row. */
export interface FaultTest {
  /** Path from the repository root. */
  file: string;
  /** The title exactly as written in the source (an `it.each` template keeps its `%i`/`%s`). */
  name: string;
  peer: Peer;
}

/** One row of FAULTS.md. */
export interface FaultScenario {
  row: number;
  scenario: string;
  expected: string;
  /** What the tests assert the client does (the observed behaviour whenever they pass). */
  asserted: string;
  tests: FaultTest[];
}

const PY = 'test/system/pyws-faults.test.ts';
const NGINX = 'test/system/nginx-proxy.test.ts';
const TLS = 'test/system/tls.test.ts';
const FAULTS = 'test/integration/faults.test.ts';
const SECURITY = 'test/integration/security.test.ts';
const SOAK = 'test/integration/soak.test.ts';
const HOOKS = 'test/integration/hooks-chaos.test.ts';
const POLICY = 'test/integration/policy.test.ts';
const LIVENESS = 'test/integration/liveness.test.ts';
const LIFECYCLE = 'test/integration/lifecycle.test.ts';
const STARTFAIL = 'test/integration/start-failures.test.ts';
const LEAKS = 'test/integration/stop-and-leaks.test.ts';
const SENDBUF = 'test/integration/send-buffer.test.ts';
const REQUESTS = 'test/integration/requests.test.ts';
const DISPATCH = 'test/integration/dispatch.test.ts';
const MACHINE = 'test/machines/connection.machine.test.ts';
const CORE = 'test/unit/core.test.ts';
const ENV = 'test/unit/environment.test.ts';
const BROWSER = 'test/browser/browser.test.ts';
const NATIVE = 'test/integration/native-client.test.ts';
const CONTRACT = 'test/contract/adapter-contract.ts';
const CORRELATOR = 'test/unit/correlator.test.ts';
const NATIVE_PARITY = 'test/integration/native-parity.test.ts';
const FRAGMENTS = 'test/integration/fragments.test.ts';
const EVENTS = 'test/unit/events.test.ts';
const R_INBOUND = 'test/integration/reliability-inbound.test.ts';
const R_TIME = 'test/integration/reliability-time.test.ts';
const R_LIVENESS = 'test/integration/reliability-liveness.test.ts';
const R_FREEZE = 'test/browser/liveness-freeze.test.ts';
const R_HOSTILE = 'test/integration/reliability-hostile.test.ts';
const R_SEND = 'test/integration/reliability-send.test.ts';
const R_BYTES = 'test/integration/reliability-bytes.test.ts';
const CLI = 'test/integration/cli.test.ts';

const PROTOCOL_VIOLATION =
  'row %i: %s -> the client fails the connection with %i, python sees that code, no reconnect';

export const SCENARIOS: FaultScenario[] = [
  {
    row: 1,
    scenario: 'Server closes cleanly with 1000/1001/1012/1013/1014',
    expected:
      'Surface code and reason. 1000 after stop(): no reconnect. 1001/1012/1013/1014: reconnect with backoff (1013 longer).',
    asserted:
      'close event carries code and reason; 1001/1012/1014 reconnect (class transient); 1013 waits longer than 1012; stop() sends 1000 and nothing reconnects.',
    tests: [
      {
        file: PY,
        name: 'server closes with %i: the code and reason are reported and the client reconnects',
        peer: 'pyws',
      },
      {
        file: PY,
        name: 'server closes with 1013: reconnects after a longer delay than for 1012',
        peer: 'pyws',
      },
      { file: PY, name: 'stop() sends 1000, python sees it, and nothing reconnects', peer: 'pyws' },
      { file: POLICY, name: '%i -> transient: reconnects', peer: 'ws' },
    ],
  },
  {
    row: 2,
    scenario: 'Server closes with a 4xxx application code',
    expected: 'Report it. Reconnect only per policy (never on 4401/4403 without new credentials).',
    asserted:
      '4001 "bye" reported and retried; 4401/4403 are auth: stop with a static url, retry when url/headers are functions.',
    tests: [
      {
        file: PY,
        name: 'an application close code (4001 "bye") is reported; the default policy reconnects',
        peer: 'pyws',
      },
      {
        file: PY,
        name: '4401 with a static url is an auth close: reported, and no reconnect without new credentials',
        peer: 'pyws',
      },
      {
        file: POLICY,
        name: '4403 with a url function -> auth, refreshable: reconnects and asks for the url again',
        peer: 'ws',
      },
    ],
  },
  {
    row: 3,
    scenario: 'TCP FIN without a Close frame',
    expected: '1006, wasClean=false. Reconnect.',
    asserted: 'close 1006, wasClean false, class transient, then a new connection.',
    tests: [
      { file: PY, name: 'TCP FIN without a close frame: 1006, not clean, then a reconnect', peer: 'pyws' },
      {
        file: LIFECYCLE,
        name: 'reconnects by itself: open -> closing -> reconnecting -> connecting -> opening -> open',
        peer: 'ws',
      },
    ],
  },
  {
    row: 4,
    scenario: 'TCP RST after open',
    expected: '1006, reconnect. Do not crash on ECONNRESET.',
    asserted: 'close 1006, no crash (at most a typed ConnectError), then a new connection.',
    tests: [
      { file: PY, name: 'TCP RST after open: 1006, no crash, then a reconnect', peer: 'pyws' },
      {
        file: SOAK,
        name: 'thousands of requests and sends under seeded faults: every request settles once, every send is accounted for',
        peer: 'proxy',
      },
    ],
  },
  {
    row: 5,
    scenario: 'Connection refused',
    expected: 'Error, then retry with jittered exponential backoff. Never a tight loop.',
    asserted:
      'ConnectError per dial; waits 20, 40, 80, 160, 160 ms (jitter none) and random in [0, cap] (full); one dial per wait.',
    tests: [
      {
        file: FAULTS,
        name: 'every dial fails with a ConnectError, and retries back off exponentially: never a tight loop',
        peer: 'tcp',
      },
      {
        file: FAULTS,
        name: 'with full jitter the waits are random in [0, cap] and the dials stay bounded',
        peer: 'tcp',
      },
      { file: STARTFAIL, name: 'start() rejects with StartError whose cause is a ConnectError', peer: 'tcp' },
    ],
  },
  {
    row: 6,
    scenario: 'Upgrade rejected: 401/403',
    expected: 'Fail with the HTTP status exposed. No blind retry.',
    asserted:
      'start() rejects StartError <- HandshakeError { status }; one attempt even with retryOnStart; a url/headers function gets a retry with new credentials.',
    tests: [
      { file: PY, name: 'rejected with %i: StartError with the status, and no blind retry', peer: 'pyws' },
      {
        file: POLICY,
        name: '401 with a static url and static headers: stops (retrying the same credentials is pointless)',
        peer: 'ws',
      },
      {
        file: POLICY,
        name: '401 with a url function: called again with a new token, the second attempt succeeds',
        peer: 'ws',
      },
    ],
  },
  {
    row: 7,
    scenario: 'Upgrade rejected: 429/503 with Retry-After, or 502 from a proxy',
    expected: 'Retry no earlier than Retry-After, plus jitter.',
    asserted:
      'HandshakeError { status, retryAfterMs: 1000 }; the next dial comes >= 1 s later; nginx 502 is transient with a backoff.',
    tests: [
      {
        file: PY,
        name: 'rejected with %i and Retry-After: 1 -> the next attempt comes no earlier than 1 s later',
        peer: 'pyws',
      },
      {
        file: NGINX,
        name: '1006 at once, then 502 at the upgrade (HandshakeError, backoff), then reopen when the backend is back',
        peer: 'nginx',
      },
      {
        file: POLICY,
        name: '503 with Retry-After: 1 -> the next attempt is not earlier than 1 s later',
        peer: 'ws',
      },
    ],
  },
  {
    row: 8,
    scenario: 'TCP accepted, no HTTP response (stalled server or LB)',
    expected: 'Connect/handshake timeout, then retry.',
    asserted:
      'openTimeoutMs ends the attempt with OpenTimeoutError, no socket left; with retries on, the next attempt follows.',
    tests: [
      {
        file: STARTFAIL,
        name: 'start() rejects at openTimeoutMs with a timeout cause and leaves no socket behind',
        peer: 'tcp',
      },
      {
        file: POLICY,
        name: 'a port that accepts TCP but never upgrades -> open timeout, then a retry',
        peer: 'tcp',
      },
    ],
  },
  {
    row: 9,
    scenario: 'Peer silent, TCP alive: no pongs',
    expected:
      'Ping every I; no pong or frame within T: terminate() (not close), report 1006 heartbeat timeout, reconnect.',
    asserted:
      'close 1006 "heartbeat timeout" within I+T (+ slack), HeartbeatTimeoutError, no close frame on the wire, reconnect.',
    tests: [
      {
        file: PY,
        name: '%s: no pong within the timeout -> terminated (no close frame), 1006 heartbeat timeout, reconnect',
        peer: 'pyws',
      },
      {
        file: LIVENESS,
        name: 'detects a blackhole (both ways) within maxMissed*interval+timeout, terminates with 1006, reconnects after healing',
        peer: 'proxy',
      },
      {
        file: LIVENESS,
        name: 'terminates (no close frame) when the server stops answering pings',
        peer: 'ws',
      },
    ],
  },
  {
    row: 10,
    scenario: 'Slow pongs (latency below the timeout)',
    expected: 'No false positive. Measure RTT.',
    asserted: 'pongs 300 ms late with a 1 s timeout: no close, no heartbeat-missed; rttMs >= 300.',
    tests: [
      { file: PY, name: '/delaypong/300 with a 1 s timeout: no false positive, RTT measured', peer: 'pyws' },
      {
        file: LIVENESS,
        name: 'slow pongs under the timeout cause no false positive, and RTT is measured',
        peer: 'proxy',
      },
    ],
  },
  {
    row: 11,
    scenario: 'One direction blackholed (server->client dead)',
    expected: 'Detected by pong timeout. Writes keep "succeeding".',
    asserted:
      'send() keeps returning "sent"; the heartbeat ends the session; the soak counts what those writes lost.',
    tests: [
      {
        file: LIVENESS,
        name: 'detects a one-way blackhole (server->client dead) while send() keeps returning "sent"; the server sees no close frame',
        peer: 'proxy',
      },
      {
        file: SOAK,
        name: 'thousands of requests and sends under seeded faults: every request settles once, every send is accounted for',
        peer: 'proxy',
      },
    ],
  },
  {
    row: 12,
    scenario: 'Server pings the client',
    expected: 'Auto-pong with the same payload. Optionally count it as liveness.',
    asserted:
      'every server ping answered with its payload (seen by python); server pings keep the heartbeat satisfied.',
    tests: [
      {
        file: PY,
        name: '/serverping/100: every server ping is answered with the same payload',
        peer: 'pyws',
      },
      { file: LIVENESS, name: 'server pings are answered automatically and count as liveness', peer: 'ws' },
    ],
  },
  {
    row: 13,
    scenario: 'Unsolicited pong',
    expected: 'Ignore (or count as liveness). No error.',
    asserted: 'no error event; the next message arrives; a clean 1000 close afterwards.',
    tests: [
      { file: PY, name: 'an unsolicited pong is ignored: no error, the session carries on', peer: 'pyws' },
    ],
  },
  {
    row: 14,
    scenario: 'stop() while the peer is dead or never answers Close',
    expected: 'Send Close, wait at most N ms, terminate. Resolve stop(). No timers or sockets left.',
    asserted:
      'stop() settles after closeTimeoutMs (300 ms), 0 client timers, TCP handles back to the baseline.',
    tests: [
      {
        file: PY,
        name: '/silent: stop() sends Close, waits closeTimeoutMs, terminates; no timer and no socket left',
        peer: 'pyws',
      },
      {
        file: LIFECYCLE,
        name: 'settles after closeTimeoutMs, having sent a 1000 close frame, and destroys the socket',
        peer: 'tcp',
      },
    ],
  },
  {
    row: 15,
    scenario: 'stop() with queued sends and pending requests',
    expected: 'Flush (bounded) or reject pending requests with a typed error. Never resolve them silently.',
    asserted:
      'in-flight requests reject ConnectionClosedError/ClientStoppedError; queued requests ClientStoppedError; queued sends in one undelivered event.',
    tests: [
      {
        file: FAULTS,
        name: 'in-flight requests reject typed at the drop, queued requests reject ClientStoppedError, queued sends are reported undelivered',
        peer: 'proxy',
      },
      {
        file: FAULTS,
        name: 'stop() while requests are in flight on an open (silent) connection rejects them with ClientStoppedError',
        peer: 'proxy',
      },
      {
        file: SENDBUF,
        name: 'emits one undelivered event with those messages and a reason, before stopped',
        peer: 'ws',
      },
    ],
  },
  {
    row: 16,
    scenario: 'stop() during CONNECTING or a backoff wait',
    expected: 'Abort the attempt, clear the backoff timer, no reconnect afterwards.',
    asserted: 'dial aborted, start() rejects, stopped once; backoff cancelled; no timer and no further dial.',
    tests: [
      {
        file: LEAKS,
        name: 'aborts the dial, rejects start(), emits stopped once, and leaves no socket and no timer',
        peer: 'tcp',
      },
      { file: LEAKS, name: 'cancels the backoff wait: stopped, no timer, no further dial', peer: 'ws' },
    ],
  },
  {
    row: 17,
    scenario: 'Application closes with 1005/1006/1015/999/5000 or a reason over 123 bytes',
    expected: 'Reject (throw/validate); never put it on the wire.',
    asserted:
      'stop() rejects InvalidCloseError with no effect (still open, then a normal 1000); onClose returning 1006 falls back to the default frame.',
    tests: [
      { file: POLICY, name: 'stop(%o) is refused with InvalidCloseError and has no effect', peer: 'ws' },
      {
        file: POLICY,
        name: 'onClose returning { code: 1006 } is refused and the default code goes on the wire',
        peer: 'ws',
      },
      { file: CORE, name: 'assertValidClose rejects code %i', peer: 'memory' },
    ],
  },
  {
    row: 18,
    scenario: 'Server Close frame with an illegal code (1005/1006/1015/999)',
    expected: 'Fail with 1002.',
    asserted:
      'client reports close 1002 (fatal) and ProtocolError; python saw 1002; stopped, one connection.',
    tests: [{ file: PY, name: PROTOCOL_VIOLATION, peer: 'pyws' }],
  },
  {
    row: 19,
    scenario: 'Close frame with a 1-byte payload, or a reason with bad UTF-8',
    expected: '1002 / 1007',
    asserted: '1-byte payload: 1002; bad UTF-8 reason: 1007; python saw the same code; no reconnect.',
    tests: [{ file: PY, name: PROTOCOL_VIOLATION, peer: 'pyws' }],
  },
  {
    row: 20,
    scenario: 'Text frame with invalid UTF-8',
    expected: 'Fail with 1007.',
    asserted: 'client 1007 (fatal), python saw 1007, no reconnect.',
    tests: [{ file: PY, name: PROTOCOL_VIOLATION, peer: 'pyws' }],
  },
  {
    row: 21,
    scenario: 'Masked frame from the server',
    expected: 'Fail with 1002.',
    asserted: 'client 1002 (fatal), python saw 1002, no reconnect.',
    tests: [{ file: PY, name: PROTOCOL_VIOLATION, peer: 'pyws' }],
  },
  {
    row: 22,
    scenario: 'RSV1 without extension; reserved opcode 3-7/11-15; orphan continuation',
    expected: 'Fail with 1002.',
    asserted: 'each one: client 1002 (fatal), python saw 1002, no reconnect.',
    tests: [{ file: PY, name: PROTOCOL_VIOLATION, peer: 'pyws' }],
  },
  {
    row: 23,
    scenario: 'Control frame over 125 bytes, or fragmented',
    expected: 'Fail with 1002.',
    asserted: 'client 1002 (fatal), python saw 1002, no reconnect.',
    tests: [{ file: PY, name: PROTOCOL_VIOLATION, peer: 'pyws' }],
  },
  {
    row: 24,
    scenario: 'Ping interleaved in a fragmented message',
    expected: 'Valid: deliver "Hello" and auto-pong.',
    asserted: '"Hello" delivered; python received pong("ping"); no error.',
    tests: [
      {
        file: PY,
        name: 'a ping inside a fragmented message: "Hello" is delivered and the ping is answered',
        peer: 'pyws',
      },
    ],
  },
  {
    row: 25,
    scenario: 'Oversize message (over maxPayloadBytes)',
    expected: 'Fail with 1009. Memory stays bounded. Cap at the app layer where the runtime has no limit.',
    asserted:
      '2 MB into a 1 MiB limit: 1009, MessageTooBigError, 0 bytes delivered, python saw 1009; the 64 MiB default reaches the adapter; native adapter checks in software.',
    tests: [
      {
        file: PY,
        name: 'a message over maxPayloadBytes (2,000,000 > 1 MiB): 1009, python sees 1009, nothing buffered, no reconnect',
        peer: 'pyws',
      },
      {
        file: SECURITY,
        name: 'maxPayloadBytes defaults to 64 MiB, reaches the adapter, and a bigger frame fails the session with 1009',
        peer: 'tcp',
      },
      {
        file: CONTRACT,
        name: '%s: a message at the limit arrives; a bigger one ends the connection reporting 1009',
        peer: 'ws',
      },
    ],
  },
  {
    row: 26,
    scenario: 'Message flood',
    expected: 'No unbounded growth of the inbound queue. Backpressure (pause/resume in Node).',
    asserted:
      'all 20,000 (python) / 100,000 (ws) delivered in order; inbound queue peak bounded near highWaterMark; reading paused; a non-pausable adapter hits maxQueued.',
    tests: [
      {
        file: PY,
        name: 'a flood of 20,000 messages into a slow handler: all delivered in order, inbound queue bounded',
        peer: 'pyws',
      },
      {
        file: DISPATCH,
        name: 'a flood of 100,000 messages into a slow handler: no loss, bounded queue, reading paused',
        peer: 'ws',
      },
      {
        file: DISPATCH,
        name: 'an adapter that cannot pause hits inbound.maxQueued: QueueOverflowError and a new session, not unbounded memory',
        peer: 'ws',
      },
    ],
  },
  {
    row: 27,
    scenario: 'TCP segmentation (1-byte chunks)',
    expected: 'Frames reassembled correctly.',
    asserted:
      'text and binary messages of every length class echoed intact through thousands of 1-byte writes.',
    tests: [
      {
        file: FAULTS,
        name: 'tiny TCP segments both ways (1 byte, then 7): every frame size (7-bit, 16-bit, 64-bit length) reassembled intact',
        peer: 'proxy',
      },
    ],
  },
  {
    row: 28,
    scenario: 'Send while disconnected or reconnecting',
    expected:
      'Reject, or queue with a bound and a TTL, then throw when full. Never drop silently. In-flight requests rejected "outcome unknown".',
    asserted:
      'queued and flushed in order after reopen; SendBufferFullError at the bound; NotOpenError without a buffer; pending requests ConnectionClosedError; the soak accounts for every send.',
    tests: [
      {
        file: SENDBUF,
        name: 'is queued and delivered in order after reopen, after the auth message onOpen sends',
        peer: 'ws',
      },
      {
        file: SENDBUF,
        name: 'throws SendBufferFullError at maxMessages; the queue keeps what it had',
        peer: 'ws',
      },
      {
        file: REQUESTS,
        name: "disconnect with onDisconnect 'reject': pending requests reject ConnectionClosedError",
        peer: 'ws',
      },
      {
        file: SOAK,
        name: 'thousands of requests and sends under seeded faults: every request settles once, every send is accounted for',
        peer: 'proxy',
      },
    ],
  },
  {
    row: 29,
    scenario: 'Request/response correlation under faults',
    expected:
      'Id and timeout per request; late responses ignored; ids unique across reconnects; pending rejected on close.',
    asserted:
      'RequestTimeoutError under latency, the late reply is an ordinary message; ids strictly increasing across 3 sessions; pending -> ConnectionClosedError on reset.',
    tests: [
      {
        file: FAULTS,
        name: 'timeouts under latency, late replies ignored, unique ids across reconnects, pending rejected on close',
        peer: 'proxy',
      },
      {
        file: REQUESTS,
        name: 'timeout: RequestTimeoutError, entry removed, the late reply reaches onMessage',
        peer: 'ws',
      },
      { file: CORRELATOR, name: 'ids are unique and increasing', peer: 'memory' },
    ],
  },
  {
    row: 30,
    scenario: 'Mass disconnect of many clients',
    expected:
      'Randomised first delay, exponential backoff with cap and full jitter, reset only after a stable period.',
    asserted:
      "200 real clients killed at once: full jitter spreads the redials (densest 100 ms window well under a fixed delay's); attempts reset only after resetAfterMs.",
    tests: [
      {
        file: FAULTS,
        name: '200 clients killed at once: full jitter spreads the reconnects; a fixed delay would not',
        peer: 'ws',
      },
      {
        file: POLICY,
        name: 'defaults (full jitter), seed %i: no 100 ms window holds over 25%%',
        peer: 'memory',
      },
      {
        file: MACHINE,
        name: 'attempts reset to 0 only after the session stayed open resetAfterMs',
        peer: 'memory',
      },
    ],
  },
  {
    row: 31,
    scenario: 'Duplicate connects (start() twice, reconnect timer plus manual connect)',
    expected: 'At most one socket CONNECTING or OPEN. Stale socket events ignored.',
    asserted:
      'start() twice -> InvalidStateError; restart() storms and restart() during backoff: never two live sockets, the backoff timer is cancelled; old-session events ignored.',
    tests: [
      {
        file: FAULTS,
        name: 'start() twice, restart() storms and restart() during a backoff wait: never two sockets connecting or open',
        peer: 'ws',
      },
      {
        file: HOOKS,
        name: 'start() twice: the second rejects InvalidStateError at once, the first resolves; one connection',
        peer: 'ws',
      },
      { file: MACHINE, name: 'events carrying an old session id are ignored', peer: 'memory' },
    ],
  },
  {
    row: 32,
    scenario: 'Proxy idle timeout',
    expected: 'A heartbeat interval below the idle timeout keeps the connection alive.',
    asserted:
      '1 s proxy_read_timeout: 300 ms pings keep it open for 2+ s; without a heartbeat nginx drops it after ~1 s (1006) and the client reconnects.',
    tests: [
      {
        file: NGINX,
        name: '/idle/ (proxy_read_timeout 1 s): a heartbeat every 300 ms keeps the connection open past it',
        peer: 'nginx',
      },
      {
        file: NGINX,
        name: '/idle/ without a heartbeat: nginx drops the idle connection after ~1 s with 1006, then the client reconnects',
        peer: 'nginx',
      },
    ],
  },
  {
    row: 33,
    scenario: 'Proxy reload or graceful restart',
    expected: '1006 after the drain timeout, then reconnect with jitter.',
    asserted:
      'reload: 1006 after worker_shutdown_timeout, reopened via the new worker; quit: 1006, backoff while down, reopened when nginx is back.',
    tests: [
      {
        file: NGINX,
        name: 'nginx -s reload: the old worker drains (1006 after worker_shutdown_timeout), the client reconnects to the new one',
        peer: 'nginx',
      },
      {
        file: NGINX,
        name: 'nginx -s quit: 1006, reconnect attempts back off while nginx is down, and reopen once it is back',
        peer: 'nginx',
      },
    ],
  },
  {
    row: 34,
    scenario: 'Backend dies behind a proxy',
    expected: '1006 at once; new attempts get 502 -> backoff.',
    asserted:
      '1006 within 500 ms of the kill; next upgrade 502 -> transient HandshakeError with a backoff; reopened when the backend is back.',
    tests: [
      {
        file: NGINX,
        name: '1006 at once, then 502 at the upgrade (HandshakeError, backoff), then reopen when the backend is back',
        peer: 'nginx',
      },
    ],
  },
  {
    row: 35,
    scenario: 'Secrets (tokens in URLs, logs, redirects)',
    expected:
      'No token in the URL query (access logs); use a header or subprotocol ticket. Redact URLs and headers in logs and errors. No auth on cross-host redirects.',
    asserted:
      "nginx logs the query token, not the header; the client's events, errors and console lines show ws://***@host/path?token=***; 3xx is a HandshakeError unless followRedirects; a followed cross-host redirect drops Authorization.",
    tests: [
      {
        file: NGINX,
        name: "nginx's access log records the query string (a URL token leaks) but not the Authorization header",
        peer: 'nginx',
      },
      {
        file: SECURITY,
        name: 'a URL with user info and a query token: redacted in every error, event and console line',
        peer: 'ws',
      },
      {
        file: SECURITY,
        name: 'a 3xx answer to the upgrade is a HandshakeError; the Location is never contacted by default',
        peer: 'ws',
      },
      {
        file: SECURITY,
        name: 'followRedirects: true (asked for): followed, but the Authorization header does not cross to another host',
        peer: 'ws',
      },
    ],
  },
  {
    row: 36,
    scenario: 'TLS errors (self-signed, wrong host)',
    expected: 'Clear error; non-transient; never fall back to ws://.',
    asserted:
      'StartError <- TlsError (self-signed / altname); close class fatal, no retry even with retryOnStart; one TLS connection, no HTTP request; trusted CA + servername opens.',
    tests: [
      {
        file: TLS,
        name: 'a self-signed certificate fails the start with a TlsError, fatal: no retry, never ws://',
        peer: 'tls',
      },
      {
        file: TLS,
        name: 'a trusted certificate for another host name (wrong host) is a TlsError too, and fatal',
        peer: 'tls',
      },
      {
        file: TLS,
        name: 'control: with the CA trusted and the right server name the same server opens and echoes',
        peer: 'tls',
      },
    ],
  },
  {
    row: 37,
    scenario: 'Node built-in WebSocket rejected at upgrade',
    expected: 'Own connect timeout, because close may never fire.',
    asserted:
      'the native adapter treats error-before-open as the end of the attempt (abandons the socket): start() rejects StartError, state stopped.',
    tests: [{ file: NATIVE, name: 'a rejected handshake fails start() with a StartError', peer: 'undici' }],
  },
  {
    row: 38,
    scenario: 'Browser page hidden/shown, offline/online',
    expected:
      'Optional: pause reconnects while offline/hidden; reconnect immediately when visible or online.',
    asserted:
      'offline: no dial however long the backoff; online: a dial at once; visible: an immediate heartbeat probe.',
    tests: [
      {
        file: BROWSER,
        name: 'offline keeps it reconnecting with no dial; online dials at once',
        peer: 'chromium',
      },
      {
        file: ENV,
        name: 'offline during the backoff: no dial even long after the delay; online: a dial at once',
        peer: 'memory',
      },
      {
        file: ENV,
        name: 'becoming visible while open sends a ping at once (no time passes)',
        peer: 'memory',
      },
    ],
  },
  {
    row: 39,
    scenario: 'Event loop after stop()',
    expected: 'No Timeout/TCP left by the client; heartbeat timers cleared.',
    asserted:
      'stop() clears heartbeat and stability timers; a process that used the client exits by itself; 10,000 reconnect cycles leave the active resources at the baseline.',
    tests: [
      { file: LEAKS, name: 'stop() while open clears the heartbeat and stability timers too', peer: 'ws' },
      {
        file: LEAKS,
        name: 'after stop(), a Node process that used the client exits by itself within 1 s',
        peer: 'ws',
      },
      {
        file: SOAK,
        name: '10,000 open/close cycles: heap after GC stays bounded and no handle or timer is left after stop()',
        peer: 'ws',
      },
    ],
  },
  // Rows after 39 come from later issues (the issue item is in the scenario), not from FAULTS.md.
  {
    row: 40,
    scenario:
      '(issue 21.7) Native adapter parity: a server close frame whose TCP is never closed; protocol violations the runtime reports; stop() against a peer that never answers',
    expected:
      "End the session within closeTimeoutMs with the server's code and reason (Node's built-in client stays CLOSING forever and drops sends); classify violations as the ws adapter does (1007 invalid UTF-8, 1002 illegal close code); leave no TCP connection behind.",
    asserted:
      'close 4000 "maintenance" within closeTimeoutMs, the client ends the TCP connection, reconnects, and a send made while CLOSING is delivered on the next session; invalid UTF-8 -> 1007 and close code 1005 -> 1002, fatal, WSM_ERR_PROTOCOL, no reconnect, same as ws (on the wire undici drops TCP without a 1007 frame); stop() with a silent peer ends the TCP connection. Chromium ends such a session itself (2 s after the frame) with the server\'s code; the adapter does not cut in there.',
    tests: [
      {
        file: NATIVE_PARITY,
        name: "a server close frame whose TCP is never closed ends the session within closeTimeoutMs, with the server's code and reason",
        peer: 'undici',
      },
      {
        file: NATIVE_PARITY,
        name: '%s: the %s adapter reports ProtocolError %i, fatal, no reconnect',
        peer: 'undici',
      },
      {
        file: NATIVE_PARITY,
        name: 'stop() against a peer that never answers the close frame ends the TCP connection',
        peer: 'undici',
      },
      {
        file: BROWSER,
        name: "a server close frame whose TCP is never closed: chromium ends the session with the server's code",
        peer: 'chromium',
      },
    ],
  },
  {
    row: 41,
    scenario: '(issue 21.8) A legal message in many fragments (20 KB in 20,000 one-byte fragments)',
    expected:
      "Deliver it (ws's default maxFragments, 16,384, failed it as a fatal 1008). The limit follows maxPayloadBytes or is exposed; over it: MessageTooBigError, 1009.",
    asserted:
      'delivered whole over the ws adapter with the default maxPayloadBytes (limit maxPayloadBytes / 128, at least 16,384); 16,385 fragments with maxPayloadBytes 1 MiB -> close 1009 fatal, WSM_ERR_MESSAGE_TOO_BIG naming the limit (ws puts 1008 on the wire); createWsAdapter({ maxFragments }) overrides the limit.',
    tests: [
      {
        file: FRAGMENTS,
        name: 'a 20 KB message in 20,000 fragments is delivered whole, and the session stays open',
        peer: 'tcp',
      },
      {
        file: FRAGMENTS,
        name: 'over the limit (16,385 fragments with maxPayloadBytes 1 MiB) the session ends as MessageTooBigError, 1009',
        peer: 'tcp',
      },
      {
        file: FRAGMENTS,
        name: 'createWsAdapter({ maxFragments }) overrides the limit derived from maxPayloadBytes',
        peer: 'tcp',
      },
    ],
  },
  {
    row: 42,
    scenario: '(issue 21.9) off(event, fn) for a listener added with once(event, fn)',
    expected: 'The listener is removed: it never runs.',
    asserted:
      "once('open', fn) then off('open', fn) on a real client: fn is not called when the client opens, other once listeners are; off removes the first registration of fn (on or once), an unsubscribe function exactly its own; a once listener runs once even when its event is emitted again from a listener.",
    tests: [
      {
        file: EVENTS,
        name: "once('open', fn) then off('open', fn): fn is not called when the client opens",
        peer: 'memory',
      },
      { file: EVENTS, name: 'off(event, fn) removes a listener added with once(event, fn)', peer: 'memory' },
      {
        file: EVENTS,
        name: 'a once listener runs once when a listener before it emits the same event again',
        peer: 'memory',
      },
    ],
  },
  {
    row: 43,
    scenario:
      '(issue 21.1) Messages received when a session ends: the server closes (1000), the TCP connection is torn down (1006), the heartbeat declares it dead; or the user calls restart(), exit(), stop() during a burst',
    expected:
      "No received message vanishes silently: each is handled (onMessage, messages(), an exclusive section, a request) in order, or reported with the reason. A session the peer or the network ended keeps delivering what it received, before anything of the next session; the user's own restart/exit/stop: decided, documented, reported.",
    asserted:
      "50 messages then a close 1000 / a TCP teardown / a heartbeat death, async onMessage of 2 ms: all 50 handled in order before the next session's first message (before: 2 of 50); also when the client then stops on its own (reconnect off). restart()/exit()/stop() during a streamed burst: nothing of that session is handed to onMessage after the call, the rest is reported `unhandled` (ConnectionClosedError for restart, ClientStoppedError for exit/stop), handled + reported == received, each once, stats().unhandled equal to the reported count. The loss soak adds ~7,700 server pushes: every received one handled once and in order, or reported (only by the final stop()); the demo's summary counts inbound (handled + replies + unhandled == received) in its lost: 0.",
    tests: [
      {
        file: R_INBOUND,
        name: '50 messages then %s, async onMessage of 2 ms: all 50 handled in order, before the next session',
        peer: 'tcp',
      },
      {
        file: R_INBOUND,
        name: '50 messages then a close 1000 with reconnect off: the client stops, and still handles all 50 in order',
        peer: 'tcp',
      },
      {
        file: R_INBOUND,
        name: 'a heartbeat death behind a blackholing proxy: what arrived before is handled in order, before the next session',
        peer: 'proxy',
      },
      {
        file: R_INBOUND,
        name: '%s() during a burst: handled + reported == received, nothing handled after the call, nothing counted twice',
        peer: 'ws',
      },
      {
        file: SOAK,
        name: 'thousands of requests and sends under seeded faults: every request settles once, every send is accounted for',
        peer: 'proxy',
      },
      { file: CLI, name: 'runs to completion on its own, and its summary reports lost: 0', peer: 'ws' },
    ],
  },
  {
    row: 44,
    scenario:
      "(issue 21.2) The system clock steps (Date.now() jumps back 1 h or forward 60 s / 1 h) while requests, heartbeats, backoff, open/close/stop bounds and the send buffer's maxAgeMs are running",
    expected:
      'Durations use a monotonic clock: no deadline moves (a 300 ms request must not stay pending for an hour; a healthy session must not die as "heartbeat timeout"). Wall time only where a wall date is meant (Retry-After dates).',
    asserted:
      'with Date.now stubbed and real timers: a 300 ms request times out at ~300 ms after a step back or forward of 1 h; a healthy session with a 60/60 ms heartbeat keeps answering after a step forward of 60 s or back of 1 h between a ping and its pong, with true RTTs (< 1 s); maxAgeMs expires a queued message on time after a step back, and a step forward does not expire a young one; the openTimeoutMs, reconnect backoff, closeTimeoutMs and stop({ timeoutMs }) bounds of 300 ms hold after a step back of 1 h.',
    tests: [
      {
        file: R_TIME,
        name: 'a 300 ms request still times out at 300 ms when the clock steps %s',
        peer: 'ws',
      },
      {
        file: R_TIME,
        name: 'a healthy, answering session is not killed, and RTTs stay true, when the clock steps %s',
        peer: 'ws',
      },
      {
        file: R_TIME,
        name: 'sendBuffer.maxAgeMs: a message queued during an outage expires on time when the clock steps back 1 h',
        peer: 'ws',
      },
      {
        file: R_TIME,
        name: 'sendBuffer.maxAgeMs: a step forward of 1 h does not expire a young message (maxAgeMs 60 s)',
        peer: 'ws',
      },
      { file: R_TIME, name: 'the %s bound of 300 ms holds when the clock steps back 1 h', peer: 'tcp' },
    ],
  },
  {
    row: 45,
    scenario:
      "(issue 21.3) Liveness without false positives: the client's own event loop stalls 1.5 s; a 1 MiB message crosses a 256 KiB/s link; maxMissed > 1 with timeouts longer and shorter than the interval; a browser tab frozen or hidden",
    expected:
      'A stalled client or a frozen tab is not a dead peer (judge a deadline after reading the input already waiting); bytes arriving are life (count progress on the socket where the adapter can see it); maxMissed pings go unanswered before the death, within the documented bound; on resume/visible the heartbeat probes at once.',
    asserted:
      "Node: a 1.5 s synchronous block right after a ping (300/300 ms, peer in another process) keeps the session, the pong read after the stall has a 1.5 s RTT; the 1 MiB message takes ~4 s through the bandwidth proxy with a 300/300 ms heartbeat and arrives whole on session 1 with no death (bytesRead progress counts); with 100/300, 300/100, 100/100 and 150/50 ms, exactly maxMissed pings reach the server unanswered, heartbeat-missed reports maxMissed, and the death comes within intervalMs + (maxMissed - 1) x max(intervalMs, timeoutMs) + timeoutMs (and not before). Chromium (app-level heartbeat, native WebSocket): a tab frozen 1.5 s with a ping out has no heartbeat death on resume (Chromium 156 drops a frozen page's WebSocket on resume itself: the client reports that close and reconnects); a tab hidden then shown probes at once (a ping within moments with a 60 s interval).",
    tests: [
      {
        file: R_LIVENESS,
        name: 'a 1.5 s synchronous block right after a ping (300/300 ms heartbeat, peer in another process) keeps the session',
        peer: 'ws',
      },
      {
        file: R_LIVENESS,
        name: 'a 1 MiB message over a 256 KiB/s link with a 300/300 ms heartbeat arrives whole, with no heartbeat death',
        peer: 'proxy',
      },
      {
        file: R_LIVENESS,
        name: 'heartbeat %i/%i ms, maxMissed %i: that many unanswered pings, then the death within the bound',
        peer: 'ws',
      },
      {
        file: R_FREEZE,
        name: 'frozen 1.5 s with a ping out (200/200 ms heartbeat): on resume, no heartbeat death; the session goes on, or the browser closed it and the client reconnects',
        peer: 'chromium',
      },
      {
        file: R_FREEZE,
        name: 'hidden, then visible again: the heartbeat probes at once (a one-minute interval: the ping comes from the visibility change)',
        peer: 'chromium',
      },
    ],
  },
  {
    row: 46,
    scenario:
      '(issue 21.4) User code throws or rejects with a hostile value: undefined, a string, a revoked Proxy, an object whose getters and conversions throw, a Proxy whose every trap throws, a thenable whose then throws',
    expected:
      'No uncaught exception or unhandled rejection, the receive path keeps going, start()/stop() settle, each failure reported as WSM_ERR_HOOK with a safe description; `throw undefined` in onOpen rejects start() with StartError saying onOpen failed.',
    asserted:
      'for each value, thrown and as a rejection: prepare, requests.key.response, onMessage and a message listener on every message: every message still handled in order; heartbeat.isPong likewise; onOpen: StartError "onOpen failed" with a WSM_ERR_HOOK cause; onClose: stop() settles and 1000 goes out; onError: printed safely, the client carries on; shouldReconnect, random, onRestartError: reported, default decision, reconnects; requests.key.request: that request rejects WSM_ERR_HOOK, nothing sent; requests.match: reported, the reply is an ordinary message; the url function: StartError; state/open/close listeners: start() and stop() settle. A function with a synchronous contract that returns a promise is reported (it would have matched every message, or left the client stopped) and its rejection is reported, never unhandled. No process-level uncaughtException/unhandledRejection in any case. Not covered: an async event listener that rejects (src/events.ts drops listener results).',
    tests: [
      {
        file: R_HOSTILE,
        name: 'the receive path: prepare, requests.key.response and onMessage fail (throw, reject) and a message listener throws, on every message; each message still reaches onMessage, in order',
        peer: 'ws',
      },
      {
        file: R_HOSTILE,
        name: 'heartbeat.isPong fails on every message (throw, reject): each message still reaches onMessage',
        peer: 'ws',
      },
      {
        file: R_HOSTILE,
        name: 'onOpen %s: start() settles with a StartError whose message and cause say onOpen failed',
        peer: 'ws',
      },
      {
        file: R_HOSTILE,
        name: 'onClose %s: stop() settles, the default close frame (1000) goes out, reported as WSM_ERR_HOOK',
        peer: 'ws',
      },
      {
        file: R_HOSTILE,
        name: 'onError %s: the client carries on; the failure is printed, safely',
        peer: 'ws',
      },
      {
        file: R_HOSTILE,
        name: 'reconnect.shouldReconnect, reconnect.random and onRestartError %s: reported, and the client reconnects with the default decision',
        peer: 'ws',
      },
      {
        file: R_HOSTILE,
        name: 'requests.key.request %s: that request rejects with WSM_ERR_HOOK; nothing is sent',
        peer: 'ws',
      },
      {
        file: R_HOSTILE,
        name: 'requests.match %s: reported, and the reply is an ordinary message for onMessage',
        peer: 'ws',
      },
      {
        file: R_HOSTILE,
        name: 'start() rejects StartError whose message and cause say onOpen failed (not a misleading close)',
        peer: 'ws',
      },
    ],
  },
  {
    row: 47,
    scenario:
      '(issue 21.5) The send path: a detached ArrayBuffer or a view of one, a value that is not data; a queued message the adapter refuses at the flush; sends made while the queue flushes; messages that outlive sendBuffer.maxAgeMs during an outage',
    expected:
      'A typed error at send()/request(), never "queued". A refused queued item is reported undelivered and does not block the items behind it; nothing sent later overtakes queued sends. maxAgeMs expires (and reports) messages during the outage, so the room is for live ones.',
    asserted:
      'a detached ArrayBuffer, a view of one, a revoked Proxy, a Proxy posing as a Uint8Array, a plain object: InvalidOptionsError (WSM_ERR_INVALID_OPTIONS) at send() and from request(), open or reconnecting, nothing queued or written; A, [a Uint8Array detached after queueing], B, request R, C, then D sent from the open listener: the server gets A B R C D, the detached one is reported undelivered, the session stays open; 2 sends + 1 request queued with maxMessages 3 (a 4th throws SendBufferFullError) expire after 150 ms while still reconnecting (reported, the request rejects WSM_ERR_UNDELIVERED), then 3 live sends fit and are the only ones delivered.',
    tests: [
      {
        file: R_SEND,
        name: '%s: send() throws InvalidOptionsError and request() rejects with it, open or reconnecting',
        peer: 'ws',
      },
      {
        file: R_SEND,
        name: 'a queued message whose buffer is detached before the flush is reported undelivered; the rest goes out in order, and a send from the open listener comes last',
        peer: 'ws',
      },
      {
        file: R_SEND,
        name: 'a full buffer expires during the outage (reported), then takes new sends; only those are delivered',
        peer: 'ws',
      },
    ],
  },
  {
    row: 48,
    scenario:
      '(issue 21.6) Inbound memory bounded by bytes: a slow messages() reader of 256 KiB messages; a stuck handler behind an adapter that cannot pause reading',
    expected:
      'messages() iterators have a byte bound (inbound.iteratorBufferBytes, 16 MiB) beside the count bound; overflow is typed (WSM_ERR_QUEUE_OVERFLOW) and what was held is reported unhandled; the inbound queue of an adapter that cannot pause is bounded by inbound.maxQueuedBytes.',
    asserted:
      '80 x 256 KiB with the defaults: the slow iterator ends with QueueOverflowError naming iteratorBufferBytes after holding 64 (16 MiB), the 65 it held or refused are reported unhandled, a fast iterator gets all 80, the session stays open; 12 x 256 KiB to a stuck handler with pause unavailable and maxQueuedBytes 1 MiB: QueueOverflowError reported, the queued messages reported unhandled, the session restarted, every received message handled or reported exactly once.',
    tests: [
      {
        file: R_BYTES,
        name: 'a slow reader of 256 KiB messages ends with QueueOverflowError at iteratorBufferBytes (16 MiB); what it held is reported unhandled; a fast reader gets everything',
        peer: 'ws',
      },
      {
        file: R_BYTES,
        name: 'a stuck handler, 12 messages of 256 KiB, an adapter that cannot pause reading (as in a browser): the queue is bounded by maxQueuedBytes (1 MiB); every message is handled or reported',
        peer: 'ws',
      },
    ],
  },
];

/** The soak figures docs/reliability.md reports (written by test/integration/soak.test.ts). */
export const SOAKS = [
  {
    name: 'loss',
    test: {
      file: SOAK,
      name: 'thousands of requests and sends under seeded faults: every request settles once, every send is accounted for',
    },
  },
  {
    name: 'reconnect',
    test: {
      file: SOAK,
      name: '10,000 open/close cycles: heap after GC stays bounded and no handle or timer is left after stop()',
    },
  },
] as const;

/** Suites beyond single rows (mapped here so the doc can list them). */
export const EXTRA_SUITES = [
  {
    file: HOOKS,
    about:
      'throwing, rejecting, slow and never-settling user code in every hook and user function; stop() from every hook; start() twice; start() after stop()',
  },
  { file: SECURITY, about: 'redaction, redirects, payload and queue bounds' },
  {
    file: 'test/unit/reliability-regressions.test.ts',
    about: 'regressions found by this suite, pinned at the unit level',
  },
] as const;
