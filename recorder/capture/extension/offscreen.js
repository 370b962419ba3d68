// @ts-check
// The offscreen document: records the tab stream with MediaRecorder and streams it to the recorder.
// One WebSocket carries everything: binary messages are chunks (in order), text messages are JSON
// control. From the recorder: {type: pause|resume|stop}. To it: frame (first frame's size), paused,
// resumed, stopped (after the last chunk), error, log.
/* global chrome, MediaStreamTrackProcessor */

/** @type {MediaRecorder | null} */ let recorder = null;
/** @type {MediaStream | null} */ let stream = null;
/** @type {WebSocket | null} */ let ws = null;
/** When the first frame was reported (performance.now()), or null before it. */
/** @type {number | null} */ let firstFrameAt = null;
/** Once a frame was reported as recorded, the file gets at least this much: the encoder needs a moment to output it. */
const MIN_RECORDED_MS = 400;

function send(msg) {
  if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg));
}

async function start(streamId, o) {
  if (recorder) throw new Error('already recording');
  stream = await navigator.mediaDevices.getUserMedia({
    audio: { mandatory: { chromeMediaSource: 'tab', chromeMediaSourceId: streamId } },
    video: {
      mandatory: {
        chromeMediaSource: 'tab',
        chromeMediaSourceId: streamId,
        minWidth: o.width, maxWidth: o.width, minHeight: o.height, maxHeight: o.height,
        minFrameRate: o.fps, maxFrameRate: o.fps,
      },
    },
  });
  ws = new WebSocket(o.wsUrl);
  ws.binaryType = 'arraybuffer';
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = () => reject(new Error('cannot reach the recorder at ' + o.wsUrl));
  });
  const rec = new MediaRecorder(stream, {
    mimeType: o.mimeType,
    videoBitsPerSecond: o.videoBitsPerSecond,
    audioBitsPerSecond: o.audioBitsPerSecond,
    // @ts-ignore Chromium's option: a keyframe at least this often, so segments can be cut anywhere.
    videoKeyFrameIntervalDuration: o.keyFrameIntervalMs,
  });
  recorder = rec;
  rec.ondataavailable = (e) => {
    if (e.data.size && ws && ws.readyState === WebSocket.OPEN) ws.send(e.data);
  };
  rec.onpause = () => send({ type: 'paused' });
  rec.onresume = () => send({ type: 'resumed' });
  rec.onerror = (e) => send({ type: 'error', message: String((/** @type {any} */ (e)).error?.message || e) });
  rec.onstop = () => {
    send({ type: 'stopped' });
    for (const t of stream ? stream.getTracks() : []) t.stop();
    closeWhenDrained();
  };
  ws.onmessage = (m) => {
    const c = JSON.parse(String(m.data));
    if (c.type === 'pause' && rec.state === 'recording') rec.pause();
    else if (c.type === 'resume' && rec.state === 'paused') rec.resume();
    else if (c.type === 'stop' && rec.state !== 'inactive') {
      const wait = firstFrameAt === null ? 0 : Math.max(0, firstFrameAt + MIN_RECORDED_MS - performance.now());
      setTimeout(() => rec.state !== 'inactive' && rec.stop(), wait);
    }
  };
  // If the recorder goes away, stop capturing rather than record into nothing.
  ws.onclose = () => {
    if (rec.state !== 'inactive') rec.stop();
  };
  const video = stream.getVideoTracks()[0];
  if (video) video.onended = () => send({ type: 'log', message: 'video track ended' });
  reportFirstFrame(video);
  rec.start(o.timesliceMs);
  return { ok: true, mimeType: rec.mimeType };
}

/** Tells the recorder when the first frame arrives and its exact size (not the window's). */
function reportFirstFrame(track) {
  try {
    const clone = track.clone();
    const reader = new MediaStreamTrackProcessor({ track: clone }).readable.getReader();
    reader.read().then(({ value }) => {
      firstFrameAt = performance.now();
      send({ type: 'frame', width: value ? value.displayWidth : 0, height: value ? value.displayHeight : 0, at: Date.now() });
      if (value) value.close();
      reader.cancel();
      clone.stop();
    });
  } catch (e) {
    send({ type: 'frame', width: 0, height: 0, at: Date.now(), error: String(e) });
  }
}

function closeWhenDrained() {
  const s = ws;
  if (!s) return;
  const tick = () => (s.bufferedAmount === 0 ? s.close(1000, 'done') : setTimeout(tick, 20));
  tick();
}

chrome.runtime.onMessage.addListener((m, _sender, reply) => {
  if (m.target !== 'offscreen' || m.type !== 'start') return;
  start(m.streamId, m.opts).then(reply, (e) => reply({ error: String((e && e.message) || e) }));
  return true;
});
