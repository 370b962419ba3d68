import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FrameRateWatch } from '../../recorder/frame-rate-watch.js';

/** Feeds one report a second of media time at `fps`, from `from` to `to` seconds. */
function feed(w: FrameRateWatch, state: { frames: number }, from: number, to: number, fps: number) {
  for (let t = from + 1; t <= to; t++) {
    state.frames += fps;
    w.add(state.frames, t);
  }
}

describe('frame rate watch', () => {
  it('says nothing at full rate, and knows the rate once a whole window was seen', () => {
    const lows: number[] = [];
    const w = new FrameRateWatch(25, (fps) => lows.push(fps));
    const s = { frames: 0 };
    w.add(0, 0);
    feed(w, s, 0, 5, 30);
    assert.equal(w.fps, null, 'no rate before 10 s');
    feed(w, s, 5, 60, 30);
    assert.equal(w.fps, 30);
    assert.deepEqual(lows, []);
  });

  it('warns once when the rate stays under the threshold for a whole window, and again after it recovered', () => {
    const lows: number[] = [];
    const w = new FrameRateWatch(25, (fps) => lows.push(fps));
    const s = { frames: 0 };
    w.add(0, 0);
    feed(w, s, 0, 20, 30);
    feed(w, s, 20, 25, 10); // 5 s low: the 10 s window still averages 20 fps → warns
    assert.equal(lows.length, 1);
    assert.ok(lows[0]! < 25);
    feed(w, s, 25, 40, 10);
    assert.equal(lows.length, 1, 'one warning for one low stretch');
    feed(w, s, 40, 60, 30);
    feed(w, s, 60, 80, 5);
    assert.equal(lows.length, 2);
  });

  it('a short dip that keeps the window average above the threshold is not warned of', () => {
    const lows: number[] = [];
    const w = new FrameRateWatch(25, (fps) => lows.push(fps));
    const s = { frames: 0 };
    w.add(0, 0);
    feed(w, s, 0, 20, 30);
    feed(w, s, 20, 21, 0);
    feed(w, s, 21, 40, 30);
    assert.deepEqual(lows, []);
  });

  it('a threshold of 0 never warns', () => {
    const lows: number[] = [];
    const w = new FrameRateWatch(0, (fps) => lows.push(fps));
    const s = { frames: 0 };
    feed(w, s, 0, 30, 1);
    assert.deepEqual(lows, []);
  });
});
