// flashd-web dashboard: live from /events (Server-Sent Events), no polling.
// Events: snapshot (the whole state), station (counters, results, plans),
// and flashd's own port, progress, result, journal and plan events
// (flashd-control(7)). Text goes in with textContent only.
'use strict';

const state = { ports: new Map(), received: new Map(), snapshot: null };
const RESYNC_SHOWN_MS = 10 * 60 * 1000;
const ACTIVE = new Set(['sdp', 'spl-sdp', 'fastboot', 'wait-reenum']);
const $ = (id) => document.getElementById(id);

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = text;
  return e;
}

function mb(bytes) {
  return (bytes / 1e6).toFixed(bytes >= 1e9 ? 0 : 1) + ' MB';
}

function duration(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  const m = Math.floor(s / 60);
  return m + ':' + String(s % 60).padStart(2, '0');
}

function clock(ms) {
  return new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

// natural order, as flashd sorts: slots first by name, then ports
const collator = new Intl.Collator(undefined, { numeric: true });
function order(a, b) {
  if (a.slot && !b.slot) return -1;
  if (!a.slot && b.slot) return 1;
  return (a.slot ? collator.compare(a.slot, b.slot) : 0) || collator.compare(a.port, b.port);
}

function elapsed(p) {
  let ms = p.elapsed_ms || 0;
  if (ACTIVE.has(p.state) && state.received.has(p.port))
    ms += Date.now() - state.received.get(p.port);
  return ms;
}

// "step: reason", once: flashd's reasons often begin with the step already
function why(step, reason) {
  if (step && reason && reason.startsWith(step)) return reason;
  return [step, reason].filter(Boolean).join(': ');
}

function fillTile(t, p) {
  t.dataset.port = p.port;
  t.dataset.state = p.state;
  t.querySelector('.name').firstChild.textContent = p.slot || p.port;
  t.querySelector('.name small').textContent = p.slot ? p.port : '';
  t.querySelector('.state').textContent = p.paused && p.state === 'paused' ? 'paused' : p.state;
  const step = p.step_index === null || p.step_index === undefined ? '' :
    (p.step_index + 1) + '/' + p.steps + ' ';
  t.querySelector('.step').textContent = p.step ? step + p.step : '';
  fillProgress(t, p);
  t.querySelector('.uid').textContent = p.uid ? 'UID ' + p.uid : (p.serial ? 'SN ' + p.serial : '');
  t.querySelector('.elapsed').textContent = p.elapsed_ms || ACTIVE.has(p.state) ? duration(elapsed(p)) : '';
  // a failure's step and reason; a waiting board's (a pool, the journal) reason
  const reason = p.state === 'failed' || p.state === 'boot-loop' ?
    why(p.failed_step, p.reason) : (p.reason || '');
  t.querySelector('.reason').textContent = reason;
}

function fillProgress(t, p) {
  const pr = t.querySelector('.progress');
  const busy = p.state === 'sdp' || p.state === 'spl-sdp' || p.state === 'fastboot';
  pr.dataset.bytes = p.bytes || 0;
  pr.dataset.total = p.total || 0;
  const pct = p.total ? Math.min(100, 100 * (p.bytes || 0) / p.total) :
    (p.state === 'done' ? 100 : 0);
  pr.querySelector('.bar').style.width = pct.toFixed(1) + '%';
  pr.setAttribute('aria-valuenow', Math.round(pct));
  t.querySelector('.rate').textContent = busy && p.rate ? (p.rate / 1e6).toFixed(1) + ' MB/s' : '';
  t.querySelector('.bytes').textContent = p.board_bytes ? mb(p.board_bytes) : '';
}

function newTile() {
  const t = el('div', 'tile');
  const name = el('div', 'name');
  name.append(document.createTextNode(''), el('small'));
  const pr = el('div', 'progress');
  pr.setAttribute('role', 'progressbar');
  pr.append(el('div', 'bar'));
  const l1 = el('div', 'line');
  l1.append(el('span', 'rate'), el('span', 'bytes'));
  const l2 = el('div', 'line');
  l2.append(el('span', 'uid'), el('span', 'elapsed'));
  t.append(name, el('div', 'state'), el('div', 'step'), pr, l1, l2, el('div', 'reason'));
  return t;
}

function renderTiles() {
  const box = $('tiles');
  const ports = [...state.ports.values()].sort(order);
  const have = new Map([...box.children].map((t) => [t.dataset.port, t]));
  ports.forEach((p, i) => {
    let t = have.get(p.port);
    if (!t) t = newTile();
    have.delete(p.port);
    fillTile(t, p);
    if (box.children[i] !== t) box.insertBefore(t, box.children[i] || null);
  });
  have.forEach((t) => t.remove());
  renderAlarm();
}

function renderAlarm() {
  const bad = [...state.ports.values()].filter((p) => p.state === 'failed' || p.state === 'boot-loop')
    .sort(order).map((p) => (p.slot || p.port) + ' ' + p.state.toUpperCase());
  const a = $('alarm');
  a.hidden = bad.length === 0;
  a.textContent = bad.length ? '⚠ ' + bad.join(' · ') : '';
}

function renderJournal(j) {
  const b = $('journal');
  const alarm = j && (!j.writable || j.backlog > 0);
  b.hidden = !alarm;
  b.textContent = alarm ? '⚠ Results journal: ' + (j.reason || 'not writable') +
    (j.backlog ? ' (' + j.backlog + ' waiting)' : '') : '';
}

function renderResults(results) {
  const ul = $('results');
  ul.replaceChildren(...results.slice().reverse().map((r) => {
    const li = el('li');
    li.dataset.result = r.result;
    li.dataset.port = r.port;
    li.append(el('span', 'r', r.result), el('span', 'p', (r.slot || r.port) + ' '),
      el('span', 't', r.end_ms ? clock(r.end_ms) : ''));
    if (r.result !== 'ok' && (r.failed_step || r.reason))
      li.append(el('div', 'reason', why(r.failed_step, r.reason)));
    return li;
  }));
}

function renderSummary(s) {
  if ('plan' in s) $('plan').textContent = s.plan || '–';
  if ('paused' in s) $('paused').hidden = !s.paused;
  $('boards-ok').textContent = s.today ? s.today.ok : 0;
  $('boards-failed').textContent = s.today ? s.today.failed : 0;
  $('yield').textContent = s.today && s.today.yield !== null ? s.today.yield.toFixed(1) + ' %' : '–';
  if (s.results) renderResults(s.results);
}

function renderStation(s) {
  $('plan').textContent = s.plan || '–';
  $('paused').hidden = !s.paused;
  renderLoading(s.loading);
  renderJournal(s.journal);
}

function renderLoading(l) {
  const e = $('loading');
  e.hidden = !l;
  e.textContent = l ? 'loading ' + (l.file || l.path) +
    (l.total ? ' ' + Math.floor(100 * l.bytes / l.total) + ' %' : '') : '';
}

function renderConn(s, live) {
  const c = $('conn');
  c.classList.remove('resynced');
  if (!live) {
    c.dataset.connected = 'false';
    c.textContent = 'Dashboard offline: reconnecting to flashd-web…';
  } else if (!s.connected) {
    c.dataset.connected = 'false';
    c.textContent = 'Not connected to flashd' + (s.lost_ms ? ' since ' + clock(s.lost_ms) : '') +
      ': the data below is stale';
  } else {
    c.dataset.connected = 'true';
    // said for ten minutes after flashd-web took the station's state anew
    // (flashd restarted, or events were lost)
    if (s.resynced_ms && (s.resyncs > 0 || state.wasLost) &&
        Date.now() - s.resynced_ms < RESYNC_SHOWN_MS) {
      c.classList.add('resynced');
      c.textContent = 'Resynchronised with flashd at ' + clock(s.resynced_ms);
    }
  }
  if (!live || !s.connected) state.wasLost = true;
}

function onSnapshot(s) {
  state.snapshot = s;
  state.ports.clear();
  const now = Date.now();
  for (const p of s.ports || []) {
    state.ports.set(p.port, p);
    state.received.set(p.port, now);
  }
  renderConn(s, true);
  renderStation(s);
  renderSummary(s);
  renderTiles();
}

function onPort(p) {
  state.ports.set(p.port, p);
  state.received.set(p.port, Date.now());
  renderTiles();
}

function onProgress(ev) {
  const p = state.ports.get(ev.port);
  if (!p) return;
  for (const k of ['step', 'step_index', 'bytes', 'total', 'board_bytes', 'rate'])
    if (k in ev) p[k] = ev[k];
  const t = document.querySelector('.tile[data-port="' + CSS.escape(ev.port) + '"]');
  if (t) fillTile(t, p);
}

function connect() {
  const es = new EventSource('/events');
  const on = (type, fn) => es.addEventListener(type, (e) => fn(JSON.parse(e.data)));
  on('snapshot', onSnapshot);
  on('station', renderSummary);
  on('port', onPort);
  on('progress', onProgress);
  on('journal', (e) => renderJournal(e.journal));
  on('plan', (e) => renderLoading(e.loading));
  // results come with a station event (counters, the list) right after
  on('result', () => {});
  es.onerror = () => renderConn({}, false);
}

// elapsed time of running boards, once a second (no request to the server)
setInterval(() => {
  for (const t of document.querySelectorAll('.tile')) {
    const p = state.ports.get(t.dataset.port);
    if (p && ACTIVE.has(p.state)) t.querySelector('.elapsed').textContent = duration(elapsed(p));
  }
}, 1000);

connect();
