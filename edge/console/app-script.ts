// The console's behaviour, as a browser module (/console/app.js): it calls the API like any client
// (signed when the service has keys), shows the newest tasks and the recorders every 2 s, starts
// recordings, sends the commands, and plays a task's video — the live HLS playlist while it records,
// the published file once finished. Everything a task or a page said is put in as text, never as HTML.
// Plain JS in a string (no build step); no `${` or backquote inside (this is a template literal).
export const APP_SCRIPT = String.raw`// webrecord console
import { signedHeaders } from './sign.js';

const STORE = 'webrecord.console.credentials';
const EVERY_MS = 2000;
const $ = (id) => document.getElementById(id);

let creds = readCreds();
let waitingForKey = false;
let selected = null;
let showing = '';
let refreshing = false;
let again = false;

class ApiError extends Error {
  constructor(code, message, status) {
    super(code + ': ' + message);
    this.code = code;
    this.detail = message;
    this.status = status;
  }
}

function readCreds() {
  try {
    const c = JSON.parse(sessionStorage.getItem(STORE) || 'null');
    return c && typeof c.key === 'string' && typeof c.secret === 'string' ? c : null;
  } catch {
    return null;
  }
}

/** One Action, signed when a key is given; answers the envelope or throws its ErrorCode. */
async function call(action, data) {
  const body = JSON.stringify({ Action: action, Data: data || {} });
  const headers = creds ? await signedHeaders(creds, '/', body) : { Accept: 'application/json', 'Content-Type': 'application/json' };
  const res = await fetch('/', { method: 'POST', headers, body, cache: 'no-store', credentials: 'omit' });
  let answer;
  try {
    answer = await res.json();
  } catch {
    throw new ApiError('BadAnswer', 'HTTP ' + res.status + ' without a JSON body', res.status);
  }
  if (answer.ErrorCode) throw new ApiError(answer.ErrorCode, answer.ErrorMessage || '', res.status);
  return answer;
}

function showError(err) {
  const box = $('error');
  if (!err) {
    box.hidden = true;
    box.textContent = '';
    return;
  }
  if (err instanceof ApiError && err.code === 'AuthFailure') return askForKey(err);
  box.hidden = false;
  box.textContent = err instanceof ApiError ? err.code + ': ' + err.detail : String(err.message || err);
}

/** The service wants a (valid) key: calls stop until one is given. */
function askForKey(err) {
  waitingForKey = true;
  $('auth').hidden = false;
  $('main').hidden = true;
  $('sign-out').hidden = !creds;
  const missing = !creds && /Authorization header missing/.test(err.detail);
  $('auth-error').textContent = missing ? '' : 'AuthFailure: ' + err.detail;
  $('mode').textContent = 'signed calls (API_KEYS)';
}

function signedIn() {
  waitingForKey = false;
  $('auth').hidden = true;
  $('main').hidden = false;
  $('sign-out').hidden = !creds;
  $('mode').textContent = creds ? 'signed as ' + creds.key : 'open mode: no API keys configured';
}

const pad = (n) => String(n).padStart(2, '0');
function clock(seconds) {
  const s = Math.floor(seconds);
  const h = Math.floor(s / 3600);
  return (h ? h + ':' + pad(Math.floor((s % 3600) / 60)) : Math.floor(s / 60)) + ':' + pad(s % 60);
}
const when = (t) => (t === undefined ? '' : new Date(t * 1000).toLocaleString());
const recorded = (t) => {
  if (t.Progress) return clock(t.Progress.RecordedSeconds);
  const total = t.Result.Videos.reduce((sum, v) => sum + v.FileDuration, 0);
  return t.Result.Videos.length ? clock(total) : '';
};

function cell(row, text, className) {
  const td = document.createElement('td');
  td.textContent = text;
  if (className) td.className = className;
  row.append(td);
  return td;
}

function button(act, label) {
  const b = document.createElement('button');
  b.type = 'button';
  b.dataset.act = act;
  b.textContent = label;
  return b;
}

const LIVE = ['normal', 'recording', 'paused'];
const COLUMNS = ['id', 'status', 'created', 'started', 'stopped', 'recorded', 'warnings', 'acts'];
/** The rows shown, by TaskID: updated in place, so a button stays the same element while it applies. */
const rows = new Map();

function put(td, text, title) {
  if (td.textContent !== text) td.textContent = text;
  if (title !== undefined && td.title !== title) td.title = title;
}

function taskRow(t) {
  let tr = rows.get(t.TaskID);
  if (!tr) {
    tr = document.createElement('tr');
    tr.dataset.task = t.TaskID;
    for (const name of COLUMNS) cell(tr, '', name);
    put(tr.children[0], t.TaskID.slice(0, 8), t.TaskID);
    rows.set(t.TaskID, tr);
  }
  const [, status, created, started, stopped, rec, warn, acts] = tr.children;
  tr.dataset.status = t.Status;
  tr.classList.toggle('selected', t.TaskID === selected);
  put(status, t.Status + (t.Result.ErrorCode ? ' (' + t.Result.ErrorCode + ')' : ''), t.Result.ErrorMessage || '');
  status.classList.toggle('failed', !!t.Result.ErrorCode);
  put(created, when(t.CreateTime));
  put(started, when(t.StartTime));
  put(stopped, when(t.StopTime === undefined ? t.CancelTime : t.StopTime));
  put(rec, recorded(t));
  const warnings = t.Warnings || [];
  put(warn, warnings.length ? warnings.length + ': ' + warnings[warnings.length - 1].Message : '', warnings.map((x) => when(x.Time) + '  ' + x.Message).join('\n'));
  const wanted = [];
  if (t.Status === 'recording') wanted.push(['Pause', 'Pause']);
  if (t.Status === 'paused') wanted.push(['Resume', 'Resume']);
  if (LIVE.includes(t.Status)) wanted.push(['Refresh', 'Refresh'], ['Stop', 'Stop']);
  if (t.Result.Videos.length) wanted.push(['watch', t.Status === 'finished' ? 'Play' : 'Watch live']);
  const key = wanted.map((w) => w[1]).join(' ');
  if (tr.dataset.acts !== key) {
    tr.dataset.acts = key;
    acts.replaceChildren(...wanted.map((w) => button(w[0], w[1])));
  }
  return tr;
}

function showTasks(tasks) {
  const body = $('task-rows');
  const shown = tasks.map(taskRow);
  const ids = new Set(tasks.map((t) => t.TaskID));
  for (const id of [...rows.keys()]) if (!ids.has(id)) rows.delete(id);
  const now = [...body.children];
  if (now.length !== shown.length || now.some((tr, i) => tr !== shown[i])) body.replaceChildren(...shown);
}

function recorderRow(r) {
  const tr = document.createElement('tr');
  tr.dataset.recorder = r.RecorderId;
  cell(tr, r.RecorderId, 'id');
  cell(tr, r.Host || '');
  cell(tr, r.Version);
  cell(tr, r.Running + ' of ' + r.Slots + ' (' + r.SlotsFree + ' free)', 'slots');
  cell(tr, r.Accepting ? 'yes' : 'no');
  const l = r.Load;
  cell(tr, l.BusyCores.toFixed(2) + ' of ' + l.Cores + ' cores busy; a recording ≈ ' + l.RecordingCores.toFixed(2) + ' cores; ' + (l.AvailableMemoryBytes / 1073741824).toFixed(1) + ' GiB free', 'load');
  cell(tr, Math.max(0, Math.round(Date.now() / 1000 - r.LastSeen)) + ' s ago');
  return tr;
}

/**
 * Chromium's own HLS player starts a live playlist three segments behind its end and fails on a
 * shorter one (DEMUXER_ERROR_COULD_NOT_PARSE, seen on Chromium 156), so the live view waits for them.
 */
const LIVE_MIN_SEGMENTS = 3;

async function liveReady(url) {
  try {
    const res = await fetch(url, { cache: 'no-store', credentials: 'omit' });
    if (!res.ok) return false;
    return ((await res.text()).match(/^#EXTINF:/gm) || []).length >= LIVE_MIN_SEGMENTS;
  } catch {
    return false;
  }
}

/** What the player shows for the selected task: its live playlist while recording, its file once finished. */
async function updatePlayer(tasks) {
  const t = tasks.find((x) => x.TaskID === selected);
  if (!t) return;
  const box = $('player-box');
  const video = $('player');
  const v = t.Result.Videos[0];
  const mode = t.Status === 'finished' ? 'file' : 'live';
  box.hidden = false;
  $('player-title').textContent = (mode === 'live' ? 'Live: ' : 'Recording ') + t.TaskID;
  if (!v) {
    $('player-note').textContent = mode === 'live' ? 'Nothing to watch yet: an HLS recording can be watched once its first segment is written (MP4 once finished).' : 'Nothing to play' + (t.Result.ErrorCode ? ': ' + t.Result.ErrorCode : '.');
    return;
  }
  const what = mode + ' ' + v.FileURL;
  if (what === showing) return;
  if (mode === 'live' && !(await liveReady(v.FileURL))) {
    $('player-note').textContent = 'The live view starts once the playlist holds ' + LIVE_MIN_SEGMENTS + ' segments.';
    return;
  }
  showing = what;
  video.dataset.task = t.TaskID;
  video.dataset.mode = mode;
  video.src = v.FileURL;
  $('player-note').textContent = mode === 'live' ? 'Live while it records (' + v.Filename + ').' : v.Filename + ', ' + clock(v.FileDuration) + '.';
  video.play().catch(() => undefined);
}

async function refresh() {
  if (waitingForKey) return;
  // One at a time; one asked for meanwhile (after a command) runs right after.
  if (refreshing) {
    again = true;
    return;
  }
  refreshing = true;
  try {
    const status = $('filter-status').value;
    const query = { Limit: Number($('filter-limit').value) };
    if (status) query.Status = status;
    const [list, recorders] = await Promise.all([call('ListTasks', query), call('DescribeRecorders')]);
    signedIn();
    showTasks(list.Tasks);
    $('task-count').textContent = list.Tasks.length ? '' : 'No tasks' + (status ? ' ' + status : '') + '.';
    $('recorder-rows').replaceChildren(...recorders.Recorders.map(recorderRow));
    $('recorder-count').textContent = recorders.Recorders.length ? '' : 'No recorder is alive.';
    await updatePlayer(list.Tasks);
    $('updated').textContent = 'updated ' + new Date().toLocaleTimeString();
  } catch (err) {
    showError(err);
  } finally {
    refreshing = false;
  }
  if (again) {
    again = false;
    return refresh();
  }
}

function loop() {
  refresh().finally(() => setTimeout(loop, EVERY_MS));
}

$('auth-form').addEventListener('submit', (e) => {
  e.preventDefault();
  creds = { key: $('auth-key').value.trim(), secret: $('auth-secret').value };
  $('auth-secret').value = '';
  sessionStorage.setItem(STORE, JSON.stringify(creds));
  waitingForKey = false;
  $('auth-error').textContent = '';
  refresh();
});

$('sign-out').addEventListener('click', () => {
  sessionStorage.removeItem(STORE);
  creds = null;
  refresh();
});

$('start-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const int = (id) => Number($(id).value || 0);
  const data = {
    RecordURL: $('start-url').value.trim(),
    Width: int('start-width'),
    Height: int('start-height'),
    MaxDurationLimit: int('start-max'),
    Output: { Video: { Muxer: $('start-muxer').value } },
  };
  try {
    const started = await call('Start', data);
    showError(null);
    $('start-result').textContent = 'Started ' + started.TaskID;
    selected = started.TaskID;
    refresh();
  } catch (err) {
    $('start-result').textContent = '';
    showError(err);
  }
});

$('task-rows').addEventListener('click', async (e) => {
  const b = e.target.closest('button[data-act]');
  const row = b && b.closest('tr[data-task]');
  if (!row) return;
  const id = row.dataset.task;
  if (b.dataset.act === 'watch') {
    selected = id;
    showing = '';
    return refresh();
  }
  b.disabled = true;
  try {
    await call(b.dataset.act, { TaskID: id });
    showError(null);
  } catch (err) {
    b.disabled = false;
    showError(err);
  }
  refresh();
});

// A live view that fails (the playlist changed under it, the network) is tried again at the next refresh.
$('player').addEventListener('error', () => {
  const video = $('player');
  if (video.dataset.mode === 'live') showing = '';
  $('player-note').textContent = 'The player failed: ' + ((video.error && video.error.message) || 'unknown error') + (video.dataset.mode === 'live' ? '; trying again.' : '.');
});

// Chromium's own HLS player stops for good at a hole in what it has buffered (seen: 0.1 to 0.3 s
// between the audio and the video of two segments); as hls.js does, the console steps over a hole
// shorter than a second, and over the last one before the end.
const GAP_S = 1;
let lastTime = -1;
let stuckSince = 0;
setInterval(() => {
  const v = $('player');
  if (v.paused || v.ended || !v.currentSrc) return void (stuckSince = 0);
  if (v.currentTime !== lastTime) {
    lastTime = v.currentTime;
    stuckSince = 0;
    return;
  }
  if (!stuckSince) stuckSince = Date.now();
  if (Date.now() - stuckSince < 500) return;
  stuckSince = 0;
  for (let i = 0; i < v.buffered.length; i++) {
    const start = v.buffered.start(i);
    if (start > v.currentTime && start - v.currentTime < GAP_S) return void (v.currentTime = start + 0.01);
  }
  if (Number.isFinite(v.duration) && v.duration - v.currentTime < GAP_S) v.currentTime = v.duration;
}, 250);

for (const id of ['filter-status', 'filter-limit']) $(id).addEventListener('change', () => refresh());

loop();
`;
