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

function taskRow(t) {
  const tr = document.createElement('tr');
  tr.dataset.task = t.TaskID;
  tr.dataset.status = t.Status;
  if (t.TaskID === selected) tr.className = 'selected';
  cell(tr, t.TaskID.slice(0, 8), 'id').title = t.TaskID;
  const status = cell(tr, t.Status, 'status');
  if (t.Result.ErrorCode) {
    status.textContent = t.Status + ' (' + t.Result.ErrorCode + ')';
    status.title = t.Result.ErrorMessage || '';
    status.classList.add('failed');
  }
  cell(tr, when(t.CreateTime));
  cell(tr, when(t.StartTime));
  cell(tr, when(t.StopTime === undefined ? t.CancelTime : t.StopTime));
  cell(tr, recorded(t), 'recorded');
  const warnings = t.Warnings || [];
  const w = cell(tr, warnings.length ? warnings.length + ': ' + warnings[warnings.length - 1].Message : '', 'warnings');
  w.title = warnings.map((x) => when(x.Time) + '  ' + x.Message).join('\n');
  const acts = cell(tr, '', 'acts');
  if (t.Status === 'recording') acts.append(button('Pause', 'Pause'));
  if (t.Status === 'paused') acts.append(button('Resume', 'Resume'));
  if (LIVE.includes(t.Status)) acts.append(button('Refresh', 'Refresh'), button('Stop', 'Stop'));
  if (t.Result.Videos.length) acts.append(button('watch', t.Status === 'finished' ? 'Play' : 'Watch live'));
  return tr;
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

/** What the player shows for the selected task: its live playlist while recording, its file once finished. */
function updatePlayer(tasks) {
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
    $('task-rows').replaceChildren(...list.Tasks.map(taskRow));
    $('task-count').textContent = list.Tasks.length ? '' : 'No tasks' + (status ? ' ' + status : '') + '.';
    $('recorder-rows').replaceChildren(...recorders.Recorders.map(recorderRow));
    $('recorder-count').textContent = recorders.Recorders.length ? '' : 'No recorder is alive.';
    updatePlayer(list.Tasks);
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
    showError(err);
  }
  refresh();
});

for (const id of ['filter-status', 'filter-limit']) $(id).addEventListener('change', () => refresh());

loop();
`;
