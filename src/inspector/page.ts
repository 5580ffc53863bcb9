/**
 * The inspector page: one self-contained HTML document (no external assets, no CDN, nothing from
 * stately.ai). It loads the statechart SVG from the inspector server, clones it per client, and
 * highlights the active states as Server-Sent Events arrive.
 */
export const INSPECTOR_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>wsmachine inspector</title>
<style>
  :root { font-family: system-ui, -apple-system, Helvetica, Arial, sans-serif; color: #2c3e50; }
  body { margin: 0; background: #f4f6f7; }
  header { padding: 10px 16px; background: #2c3e50; color: #ecf0f1; display: flex; gap: 16px; align-items: baseline; }
  header h1 { font-size: 16px; margin: 0; }
  header .conn { font-size: 12px; opacity: .8; }
  main { padding: 12px; display: grid; gap: 12px; }
  .client { background: #fff; border: 1px solid #d5dbdb; border-radius: 8px; padding: 10px 12px; }
  .client h2 { font-size: 15px; margin: 0 0 6px; display: flex; gap: 12px; align-items: baseline; flex-wrap: wrap; }
  .badge { font-size: 12px; padding: 2px 8px; border-radius: 10px; background: #d5dbdb; }
  .badge.open { background: #abebc6; } .badge.reconnecting, .badge.connecting, .badge.opening { background: #f9e79f; }
  .badge.closing { background: #f5cba7; } .badge.stopped, .badge.idle { background: #d5dbdb; }
  .facts { font-size: 12px; color: #566573; display: flex; gap: 14px; flex-wrap: wrap; }
  .body { display: grid; grid-template-columns: minmax(0, 3fr) minmax(260px, 1fr); gap: 10px; margin-top: 8px; }
  .chart { overflow: auto; border: 1px solid #eaeded; border-radius: 6px; max-height: 70vh; }
  .chart svg { display: block; width: 100%; height: auto; }
  .log { font: 11px/1.45 ui-monospace, Menlo, Consolas, monospace; background: #17202a; color: #d5d8dc; border-radius: 6px;
         padding: 6px 8px; overflow-y: auto; max-height: 70vh; white-space: pre-wrap; }
  .log .close, .log .error, .log .missed { color: #f1948a; } .log .open { color: #82e0aa; } .log .reconnecting { color: #f7dc6f; }
  /* Graphviz wraps a shape with a tooltip in <g><a>; a cluster's <g> holds only its own border. */
  g.node.active path, g.node.active polygon, g.node.active ellipse { fill: #f7dc6f !important; stroke: #b7950b !important; stroke-width: 3px; }
  g.cluster.active path, g.cluster.active polygon { stroke: #b7950b !important; stroke-width: 2.5px; fill: #fef9e7 !important; }
  .empty { color: #7f8c8d; padding: 24px; }
</style>
</head>
<body>
<header><h1>wsmachine inspector</h1><span class="conn" id="conn">connecting…</span></header>
<main id="clients"><div class="empty" id="empty">No client attached yet: call <code>inspector.attach(client)</code>.</div></main>
<script type="module">
const clientsEl = document.getElementById('clients');
const connEl = document.getElementById('conn');
const svgText = await (await fetch('/statechart.svg')).text();
const clients = new Map();
// For tests and curious users: the highlighted state history of every client.
window.__inspector = { clients: {} };

function panel(id, name) {
  let c = clients.get(id);
  if (c) return c;
  document.getElementById('empty')?.remove();
  const el = document.createElement('section');
  el.className = 'client';
  el.dataset.clientId = String(id);
  el.innerHTML = '<h2><span class="name"></span><span class="badge"></span><span class="countdown facts"></span></h2>' +
    '<div class="facts"><span class="session"></span><span class="attempt"></span><span class="pending"></span><span class="queued"></span></div>' +
    '<div class="body"><div class="chart"></div><div class="log"></div></div>';
  el.querySelector('.name').textContent = name;
  // Each panel gets its own copy of the chart with ids made unique.
  el.querySelector('.chart').innerHTML = svgText.replace(/id="state:/g, 'id="c' + id + ':');
  clientsEl.appendChild(el);
  c = { el, id, countdownUntil: 0, history: [] };
  window.__inspector.clients[id] = { name, history: c.history, state: undefined };
  clients.set(id, c);
  return c;
}

function setState(c, state, active) {
  const badge = c.el.querySelector('.badge');
  badge.textContent = state;
  badge.className = 'badge ' + state;
  c.el.dataset.state = state;
  const info = window.__inspector.clients[c.id];
  if (info.state !== state) { info.state = state; c.history.push(state); }
  for (const g of c.el.querySelectorAll('.chart g.active')) g.classList.remove('active');
  for (const sid of active || []) {
    const g = c.el.querySelector('[id="c' + c.id + ':' + sid + '"]');
    if (g) g.classList.add('active');
  }
}

function facts(c, m) {
  if (m.sessionId !== undefined) c.el.querySelector('.session').textContent = 'session ' + m.sessionId;
  if (m.attempt !== undefined) c.el.querySelector('.attempt').textContent = 'attempt ' + m.attempt;
  if (m.pendingRequests !== undefined) c.el.querySelector('.pending').textContent = m.pendingRequests + ' pending requests';
  if (m.queuedSends !== undefined) c.el.querySelector('.queued').textContent = m.queuedSends + ' queued sends';
}

function log(c, line) {
  const box = c.el.querySelector('.log');
  const div = document.createElement('div');
  div.textContent = line;
  const kind = /close|error|missed|undelivered/.test(line) ? (/missed/.test(line) ? 'missed' : /error/.test(line) ? 'error' : 'close')
    : / open /.test(line) || /-> open$/.test(line) ? 'open' : /reconnecting/.test(line) ? 'reconnecting' : '';
  if (kind) div.className = kind;
  const atBottom = box.scrollTop + box.clientHeight >= box.scrollHeight - 4;
  box.appendChild(div);
  while (box.childNodes.length > 400) box.removeChild(box.firstChild);
  if (atBottom) box.scrollTop = box.scrollHeight;
}

setInterval(() => {
  for (const c of clients.values()) {
    const el = c.el.querySelector('.countdown');
    const left = c.countdownUntil - Date.now();
    el.textContent = left > 0 && c.el.dataset.state === 'reconnecting' ? 'next attempt in ' + (left / 1000).toFixed(1) + ' s' : '';
  }
}, 100);

const source = new EventSource('/events');
source.onopen = () => { connEl.textContent = 'live'; };
source.onerror = () => { connEl.textContent = 'disconnected from the inspector server'; };
source.onmessage = (e) => {
  const m = JSON.parse(e.data);
  if (m.type === 'client') {
    const c = panel(m.id, m.name);
    facts(c, m);
    setState(c, m.state, m.active);
    for (const line of m.log) log(c, line);
  } else if (m.type === 'snapshot') {
    const c = clients.get(m.id); if (!c) return;
    facts(c, m);
    setState(c, m.state, m.active);
  } else if (m.type === 'log') {
    const c = clients.get(m.id); if (c) log(c, m.line);
  } else if (m.type === 'stats') {
    const c = clients.get(m.id); if (c) facts(c, m);
  } else if (m.type === 'countdown') {
    const c = clients.get(m.id); if (c) c.countdownUntil = m.until;
  } else if (m.type === 'detached') {
    const c = clients.get(m.id); if (c) { c.el.style.opacity = '0.5'; log(c, 'detached'); }
  }
};
</script>
</body>
</html>
`;
