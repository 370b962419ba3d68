// The console's one page (/console) and its style sheet. No inline script or style: the
// Content-Security-Policy (routes.ts) allows only the service's own files.
import { TASK_STATUSES } from '../../protocol/task.js';

const statusOptions = TASK_STATUSES.map((s) => `<option value="${s}">${s}</option>`).join('');

export const CONSOLE_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>webrecord console</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/console/console.css">
<script type="module" src="/console/app.js"></script>
</head>
<body>
<header>
  <h1>webrecord</h1>
  <span id="mode"></span>
  <span id="updated"></span>
  <button type="button" id="sign-out" hidden>Forget the key</button>
</header>
<p id="error" role="alert" hidden></p>

<section id="auth" hidden>
  <h2>API key</h2>
  <p>This service takes signed calls only. Give a key pair of its <code>API_KEYS</code>: it stays in this tab
  (sessionStorage) and is never sent; each call carries a signature made with it.</p>
  <form id="auth-form" autocomplete="off">
    <label>Key id <input id="auth-key" required pattern="[A-Za-z0-9_.\\-]{1,128}" autocomplete="off" spellcheck="false"></label>
    <label>Secret <input id="auth-secret" type="password" required autocomplete="off"></label>
    <button type="submit" id="auth-submit">Use this key</button>
  </form>
  <p id="auth-error" role="alert"></p>
</section>

<main id="main" hidden>
  <section id="start">
    <h2>Start a recording</h2>
    <form id="start-form">
      <label class="wide">RecordURL <input id="start-url" type="url" required placeholder="https://example.com/"></label>
      <label>Width <input id="start-width" type="number" min="0" max="2560" value="1280"></label>
      <label>Height <input id="start-height" type="number" min="0" max="2560" value="720"></label>
      <label>Output <select id="start-muxer"><option value="mp4">MP4</option><option value="hls">HLS</option></select></label>
      <label>MaxDurationLimit (s, 0: 6 h) <input id="start-max" type="number" min="0" max="36000" value="0"></label>
      <button type="submit" id="start-submit">Start</button>
    </form>
    <p id="start-result"></p>
  </section>

  <section id="player-box" hidden>
    <h2 id="player-title"></h2>
    <video id="player" controls muted playsinline></video>
    <p id="player-note"></p>
  </section>

  <section id="tasks">
    <h2>Tasks</h2>
    <div class="filters">
      <label>Status <select id="filter-status"><option value="">any</option>${statusOptions}</select></label>
      <label>Show <select id="filter-limit"><option>20</option><option>50</option><option>100</option></select></label>
    </div>
    <table>
      <thead><tr><th>TaskID</th><th>Status</th><th>Created</th><th>Started</th><th>Stopped</th><th>Recorded</th><th>Warnings</th><th></th></tr></thead>
      <tbody id="task-rows"></tbody>
    </table>
    <p id="task-count"></p>
  </section>

  <section id="recorders">
    <h2>Recorders</h2>
    <table>
      <thead><tr><th>RecorderId</th><th>Host</th><th>Version</th><th>Recordings</th><th>Taking jobs</th><th>Load</th><th>Last seen</th></tr></thead>
      <tbody id="recorder-rows"></tbody>
    </table>
    <p id="recorder-count"></p>
  </section>
</main>
</body>
</html>
`;

export const CONSOLE_CSS = `[hidden] { display: none !important; }
body { font: 14px/1.4 system-ui, sans-serif; margin: 0 1.5em 2em; color: #222; }
header { display: flex; gap: 1em; align-items: baseline; border-bottom: 1px solid #ddd; }
header h1 { font-size: 1.3em; margin: 0.5em 0; }
#mode, #updated { color: #666; }
h2 { font-size: 1.1em; margin: 1.2em 0 0.4em; }
form, .filters { display: flex; flex-wrap: wrap; gap: 0.6em 1em; align-items: end; }
label { display: flex; flex-direction: column; font-size: 0.9em; color: #444; }
label.wide { flex: 1 1 24em; }
input, select, button { font: inherit; padding: 0.2em 0.4em; }
#error, #auth-error { color: #a00; }
table { border-collapse: collapse; width: 100%; margin-top: 0.5em; }
th, td { text-align: left; padding: 0.25em 0.6em; border-bottom: 1px solid #eee; vertical-align: top; }
td.id { font-family: ui-monospace, monospace; }
td.failed { color: #a00; }
tr.selected { background: #f2f6ff; }
td.acts button { margin-right: 0.3em; }
td.warnings { max-width: 24em; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; color: #a60; }
#player { width: 100%; max-width: 960px; background: #000; }
`;
