import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isoTime } from '../../src/util/iso-time.ts';

describe('isoTime', () => {
  it('writes what Date#toISOString writes, for every millisecond of a second and across seconds, days and years', () => {
    const starts = [Date.UTC(2026, 11, 7, 22, 59, 59), Date.UTC(1999, 11, 31, 23, 59, 59), Date.UTC(2024, 1, 29, 0, 0, 0), 0, -1000, Date.UTC(9999, 11, 31, 23, 59, 59)];
    for (const start of starts) {
      for (let ms = start - 3; ms < start + 2004; ms++) assert.equal(isoTime(ms), new Date(ms).toISOString(), `at ${ms}`);
    }
  });

  it('gives the same text whatever the order of the times (the kept second is replaced, not trusted)', () => {
    const times = [1_796_682_839_087, 1_796_682_839_999, 1_796_682_840_000, 1_796_682_839_001, 5, -5, 1_796_682_840_010];
    for (const ms of [...times, ...times.reverse()]) assert.equal(isoTime(ms), new Date(ms).toISOString());
  });

  it('leaves what is not an integer millisecond in range to the builtin: the same text, or the same error', () => {
    assert.equal(isoTime(1_796_682_839_087.6), new Date(1_796_682_839_087.6).toISOString());
    assert.equal(isoTime(8.64e15), new Date(8.64e15).toISOString());
    assert.equal(isoTime(-8.64e15), new Date(-8.64e15).toISOString());
    assert.equal(isoTime(Date.UTC(10000, 0, 1)), '+010000-01-01T00:00:00.000Z');
    assert.throws(() => isoTime(8.64e15 + 1), RangeError);
    assert.throws(() => isoTime(Number.NaN), RangeError);
  });
});
