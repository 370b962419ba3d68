// @ts-check
// The offscreen document: records the tab stream with MediaRecorder and streams it to the recorder.
// One WebSocket carries everything: binary messages are chunks (in order), text messages are JSON
// control. From the recorder: {type: pause|resume|stop}. To it: frame (first frame's size), paused,
// resumed, stopped (after the last chunk), pictures (whether the picture changed, sampled), error, log.
/* global chrome, MediaStreamTrackProcessor */

/** @type {MediaRecorder | null} */ let recorder = null;
/** @type {MediaStream | null} */ let stream = null;
/** @type {WebSocket | null} */ let ws = null;
/** When the first frame was reported (performance.now()), or null before it. */
/** @type {number | null} */ let firstFrameAt = null;
/** Once a frame was reported as recorded, the file gets at least this much: the encoder needs a moment to output it. */
const MIN_RECORDED_MS = 400;
/** How long a Stop waits for the encoder's first frame (a loaded machine's first encode can take seconds). */
const MAX_FIRST_DATA_MS = 5000;
/** Whether a chunk with a frame in it (a Matroska Cluster) has gone to the recorder. */
let framesSent = false;
const CLUSTER_ID = [0x1f, 0x43, 0xb6, 0x75];
/** Clones of the video track the picture sampler reads; stopped with the recording. */
/** @type {MediaStreamTrack[]} */ const sampledTracks = [];

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
    if (!e.data.size || !ws || ws.readyState !== WebSocket.OPEN) return;
    ws.send(e.data);
    if (!framesSent) void e.data.arrayBuffer().then((b) => { if (holds(new Uint8Array(b), CLUSTER_ID)) framesSent = true; });
  };
  rec.onpause = () => send({ type: 'paused' });
  rec.onresume = () => send({ type: 'resumed' });
  rec.onerror = (e) => send({ type: 'error', message: String((/** @type {any} */ (e)).error?.message || e) });
  rec.onstop = () => {
    send({ type: 'stopped' });
    for (const t of stream ? stream.getTracks() : []) t.stop();
    for (const t of sampledTracks.splice(0)) t.stop();
    closeWhenDrained();
  };
  ws.onmessage = (m) => {
    const c = JSON.parse(String(m.data));
    if (c.type === 'pause' && rec.state === 'recording') rec.pause();
    else if (c.type === 'resume' && rec.state === 'paused') rec.resume();
    else if (c.type === 'stop' && rec.state !== 'inactive') stopOnceRecorded(rec);
  };
  // If the recorder goes away, stop capturing rather than record into nothing.
  ws.onclose = () => {
    if (rec.state !== 'inactive') rec.stop();
  };
  const video = stream.getVideoTracks()[0];
  if (video) video.onended = () => send({ type: 'log', message: 'video track ended' });
  reportFirstFrame(video);
  rec.start(o.timesliceMs);
  if (o.pictureSampleMs > 0 && video) void samplePictures(video, o.pictureSampleMs, () => rec.state);
  return { ok: true, mimeType: rec.mimeType };
}

/**
 * A frame reported as recorded must be in the file: Stop waits until a chunk holding frames went out
 * (asking the encoder for what it has every 100 ms), and at least MIN_RECORDED_MS after the first frame;
 * never more than MAX_FIRST_DATA_MS. Before the first frame nothing was reported: it stops at once.
 */
function stopOnceRecorded(rec) {
  if (firstFrameAt === null) return rec.stop();
  const until = performance.now() + MAX_FIRST_DATA_MS;
  const check = () => {
    if (rec.state === 'inactive') return;
    const now = performance.now();
    if ((framesSent && now >= firstFrameAt + MIN_RECORDED_MS) || now >= until) return rec.stop();
    if (!framesSent) rec.requestData();
    setTimeout(check, 100);
  };
  check();
}

/** Whether `bytes` holds `seq`. */
function holds(bytes, seq) {
  outer: for (let i = 0; i + seq.length <= bytes.length; i++) {
    for (let j = 0; j < seq.length; j++) if (bytes[i + j] !== seq[j]) continue outer;
    return true;
  }
  return false;
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

/**
 * For the quality report: every `everyMs` of recorded time, whether the picture differs from the
 * previous sample. The capture repeats an unchanged picture at the full frame rate, so frame timing
 * cannot tell a frozen page; and the encoder's packet sizes vary with resolution and its own
 * refinements. The captured frame itself can: a clone of the track, cut to the sampling rate by the
 * track (frames dropped before they reach this script), has each frame's pixels copied out and
 * compared exactly with the last (a still page's frames are identical). Times are of the recording
 * (paused stretches left out, as MediaRecorder leaves them out), in ms since its first frame; sent in
 * batches of about a second.
 */
async function samplePictures(track, everyMs, state) {
  let reader;
  try {
    const clone = track.clone();
    sampledTracks.push(clone);
    await clone.applyConstraints({ frameRate: { max: 1000 / everyMs } });
    reader = new MediaStreamTrackProcessor({ track: clone, maxBufferSize: 1 }).readable.getReader();
  } catch (e) {
    return send({ type: 'log', message: 'pictures cannot be sampled: ' + String(e) });
  }
  /** @type {Uint32Array | null} */ let last = null;
  /** @type {Uint32Array | null} */ let spare = null;
  let mediaUs = 0, prevTs = -1;
  /** @type {number[]} */ let at = [];
  /** @type {number[]} */ let changed = [];
  let sentAt = performance.now();
  for (;;) {
    const { value: frame, done } = await reader.read();
    if (done || !frame) break;
    const s = state();
    if (s === 'inactive') { frame.close(); break; }
    if (s === 'paused') { prevTs = -1; frame.close(); continue; }
    // Recorded time advances by the gaps between frames, not over a pause.
    if (prevTs >= 0) mediaUs += Math.max(0, frame.timestamp - prevTs);
    prevTs = frame.timestamp;
    const words = Math.ceil(frame.allocationSize() / 4);
    const px = spare && spare.length === words ? spare : new Uint32Array(words);
    try {
      await frame.copyTo(px);
    } catch (e) {
      frame.close();
      send({ type: 'log', message: 'a picture could not be sampled: ' + String(e) });
      continue;
    }
    frame.close();
    at.push(Math.round(mediaUs / 1000));
    changed.push(last === null || !same(px, last) ? 1 : 0);
    spare = last;
    last = px;
    if (performance.now() - sentAt >= 1000) {
      send({ type: 'pictures', at, changed });
      at = []; changed = []; sentAt = performance.now();
    }
  }
  if (at.length) send({ type: 'pictures', at, changed });
  reader.cancel().catch(() => {});
}

function same(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
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
