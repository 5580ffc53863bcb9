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
  /* The chart at its natural size (state labels ~13-16 CSS px), scrolled to the active state; "fit" shrinks it. */
  .chart { overflow: auto; border: 1px solid #eaeded; border-radius: 6px; max-height: 70vh; position: relative; }
  .chart svg { display: block; max-width: none; }
  .chart.fitted svg { width: 100%; height: auto; }
  .fit { font-size: 12px; }
  .actors { background: #fff; border: 1px solid #d5dbdb; border-radius: 8px; padding: 10px 12px; }
  .actors h2 { font-size: 15px; margin: 0 0 6px; }
  .actor summary { font-size: 13px; cursor: pointer; padding: 2px 0; }
  .actor .aid { font-weight: 600; } .actor .alogic { color: #566573; } .actor .astate { font-family: ui-monospace, Menlo, Consolas, monospace; }
  .actor .astatus { font-size: 11px; color: #7f8c8d; }
  .actor .log { max-height: 220px; margin: 4px 0 6px; }
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
<main id="clients"><section class="actors" id="actors" hidden><h2>Actors</h2><div id="actor-list"></div></section><div class="empty" id="empty">No client attached yet: call <code>inspector.attach(client)</code>, or pass <code>inspector.inspect</code> to <code>createActor(appMachine, { inspect })</code>.</div></main>
<script type="module">
const clientsEl = document.getElementById('clients');
const connEl = document.getElementById('conn');
const svgText = await (await fetch('/statechart.svg')).text();
const clients = new Map();
// For tests and curious users: the highlighted state history of every client.
window.__inspector = { clients: {}, actors: {} };

function panel(id, name) {
  let c = clients.get(id);
  if (c) return c;
  document.getElementById('empty')?.remove();
  const el = document.createElement('section');
  el.className = 'client';
  el.dataset.clientId = String(id);
  el.innerHTML = '<h2><span class="name"></span><span class="badge"></span><span class="countdown facts"></span><button class="fit" type="button">fit</button></h2>' +
    '<div class="facts"><span class="session"></span><span class="attempt"></span><span class="pending"></span><span class="queued"></span></div>' +
    '<div class="body"><div class="chart"></div><div class="log"></div></div>';
  el.querySelector('.name').textContent = name;
  // Each panel gets its own copy of the chart with ids made unique.
  el.querySelector('.chart').innerHTML = svgText.replace(/id="state:/g, 'id="c' + id + ':');
  el.querySelector('.fit').addEventListener('click', () => el.querySelector('.chart').classList.toggle('fitted'));
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
  let deepest;
  for (const sid of active || []) {
    const g = c.el.querySelector('[id="c' + c.id + ':' + sid + '"]');
    if (g) { g.classList.add('active'); deepest = g; }
  }
  // Keep the active state in view: the chart is bigger than its box at a readable size.
  const box = c.el.querySelector('.chart');
  if (deepest && !box.classList.contains('fitted')) {
    const r = deepest.getBoundingClientRect(), b = box.getBoundingClientRect();
    box.scrollLeft += r.left + r.width / 2 - (b.left + b.width / 2);
    box.scrollTop += r.top + r.height / 2 - (b.top + b.height / 2);
  }
}

const actors = new Map();
function actorView(m) {
  document.getElementById('actors').hidden = false;
  document.getElementById('empty')?.remove();
  let a = actors.get(m.key);
  if (!a) {
    const el = document.createElement('details');
    el.className = 'actor';
    el.dataset.key = m.key;
    el.innerHTML = '<summary><span class="aid"></span> <span class="alogic"></span> <span class="astate"></span> <span class="astatus"></span></summary><div class="log"></div>';
    const parent = m.parent && actors.get(m.parent);
    el.style.marginLeft = ((parent ? parent.depth + 1 : 0) * 18) + 'px';
    document.getElementById('actor-list').appendChild(el);
    a = { el, depth: parent ? parent.depth + 1 : 0, info: { id: m.id, logic: m.logic, parent: m.parent, log: [] } };
    window.__inspector.actors[m.key] = a.info;
    actors.set(m.key, a);
    for (const line of m.log || []) actorLog(a, line);
  }
  a.el.querySelector('.aid').textContent = m.id;
  a.el.querySelector('.alogic').textContent = m.logic;
  a.el.querySelector('.astate').textContent = m.state;
  a.el.querySelector('.astatus').textContent = m.status === 'active' ? '' : '(' + m.status + ')';
  a.info.state = m.state;
  a.info.status = m.status;
}
function actorLog(a, line) {
  a.info.log.push(line);
  const box = a.el.querySelector('.log');
  const div = document.createElement('div');
  div.textContent = line;
  box.appendChild(div);
  while (box.childNodes.length > 200) box.removeChild(box.firstChild);
  box.scrollTop = box.scrollHeight;
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
    const left = c.countdownUntil - performance.now();
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
    const c = clients.get(m.id); if (c) c.countdownUntil = performance.now() + m.delayMs;
  } else if (m.type === 'actor') {
    actorView(m);
  } else if (m.type === 'actor-log') {
    const a = actors.get(m.key); if (a) actorLog(a, m.line);
  } else if (m.type === 'actor-gone') {
    const a = actors.get(m.key); if (a) { a.el.remove(); actors.delete(m.key); delete window.__inspector.actors[m.key]; }
  } else if (m.type === 'detached') {
    const c = clients.get(m.id); if (c) { c.el.style.opacity = '0.5'; log(c, 'detached'); }
  }
};
</script>
</body>
</html>
`;
