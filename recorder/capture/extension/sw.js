// @ts-check
// The capture extension's service worker. The recorder drives it over CDP (worker.evaluate):
// pageTabId() once at launch, then startCapture() turns the tab into a stream id and hands it to the
// offscreen document, which records it and streams the chunks to the recorder over a WebSocket.
/* global chrome */

const OFFSCREEN_URL = 'offscreen.html';

async function ensureOffscreen() {
  const contexts = await chrome.runtime.getContexts({ contextTypes: ['OFFSCREEN_DOCUMENT'] });
  if (contexts.length) return;
  await chrome.offscreen.createDocument({
    url: OFFSCREEN_URL,
    reasons: ['USER_MEDIA'],
    justification: 'record the tab for the webrecord service',
  });
}

/** Readies the capture document ahead of the capture. */
self.prepare = ensureOffscreen;

/** The id of the browser's only page tab (each recording has a browser of its own). */
self.pageTabId = async () => {
  const tabs = (await chrome.tabs.query({})).filter((t) => !(t.url || t.pendingUrl || '').startsWith('chrome-extension://'));
  if (tabs.length !== 1) throw new Error(`expected one page tab, found ${tabs.length}`);
  return tabs[0].id;
};

/**
 * @param {{tabId: number, wsUrl: string, width: number, height: number, fps: number,
 *   mimeType: string, videoBitsPerSecond: number, audioBitsPerSecond: number,
 *   keyFrameIntervalMs: number, timesliceMs: number}} opts
 */
self.startCapture = async (opts) => {
  const streamId = await chrome.tabCapture.getMediaStreamId({ targetTabId: opts.tabId });
  await ensureOffscreen();
  const answer = await chrome.runtime.sendMessage({ target: 'offscreen', type: 'start', streamId, opts });
  if (!answer || answer.error) throw new Error(answer ? answer.error : 'offscreen document did not answer');
  return answer;
};
