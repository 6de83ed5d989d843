/**
 * The views' text-and-map builder (src/dlp/mapped.ts) and the views rewritten on it: the same text and
 * the same map as writing the pieces one by one into a string and two arrays, lone surrogates and
 * all; and a hostile 1 MB text given up on (too many findings) still gives the findings it had.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MappedBuilder, unitsText } from '../../src/dlp/mapped.ts';
import { despacedViews } from '../../src/dlp/normalize.ts';
import { detectDeep } from '../../src/dlp/views.ts';

let seed = 99;
const random = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
const UNITS = ['a', 'Z', '7', ' ', '\n', '\t', '\ud800', '\udc00', 'é', '\u200b', '"', '-'];
const randomText = (length: number): string => Array.from({ length }, () => UNITS[Math.floor(random() * UNITS.length)]).join('');

describe('MappedBuilder', () => {
  it('writes what a string and two arrays written piece by piece hold', () => {
    for (let round = 0; round < 500; round++) {
      const source = randomText(1 + Math.floor(random() * 300));
      const builder = new MappedBuilder();
      let text = '';
      const starts: number[] = [];
      const ends: number[] = [];
      for (let piece = Math.floor(random() * 40); piece > 0; piece--) {
        const from = Math.floor(random() * source.length);
        const to = Math.min(source.length, from + Math.floor(random() * 20));
        if (random() < 0.3) {
          const units = randomText(Math.floor(random() * 4));
          builder.mark(units, from, to);
          text += units;
          for (let k = 0; k < units.length; k++) {
            starts.push(from);
            ends.push(to);
          }
        } else {
          builder.copy(source, from, to);
          text += source.slice(from, to);
          for (let i = from; i < to; i++) {
            starts.push(i);
            ends.push(i + 1);
          }
        }
      }
      const view = builder.view();
      assert.equal(builder.length, text.length);
      assert.equal(view.text, text);
      assert.deepEqual([...view.starts], starts);
      assert.deepEqual([...view.ends], ends);
      if (text.length > 0) assert.equal(builder.lastEnd, ends[ends.length - 1]);
    }
  });

  it('makes strings of any length unit for unit, lone surrogates kept', () => {
    for (const length of [0, 1, 8191, 8192, 8193, 70_000]) {
      const units = Uint16Array.from({ length }, (_, k) => [0xd800, 0xdc00, 0x41, 0xffff, 0][k % 5]!);
      const text = unitsText(units, 0, length);
      assert.equal(text.length, length);
      for (let k = 0; k < length; k += 997) assert.equal(text.charCodeAt(k), units[k]);
    }
  });
});

describe('despacedViews on typed arrays', () => {
  it('reads every other unit of a spaced run, and the run without its ends, mapped to the source', () => {
    const text = `key: ${'g h p _ a b c d e f g h '.repeat(3)}end`;
    const views = despacedViews(text);
    assert.ok(views.length >= 2);
    const [whole, inner] = views;
    for (let k = 0; k < whole!.text.length; k++) {
      assert.equal(whole!.text[k], text[whole!.starts[k]!]);
      assert.equal(whole!.ends[k], whole!.starts[k]! + 1);
    }
    assert.equal(inner!.text, ` ${whole!.text.slice(1, -1)} `);
    assert.equal(inner!.starts[0], whole!.starts[1]);
    assert.equal(inner!.ends[inner!.ends.length - 1], whole!.starts[whole!.starts.length - 2]! + 1);
  });
});

describe('a hostile text given up on', () => {
  it('is uninspectable past the findings cap with the views made one at a time', () => {
    const aws = ['AK', 'IA'].join('');
    // `"AKIA" + ` chained 100,000 times: the concatenated view reads AKIAAKIA…, which the AWS rule
    // finds past the cap; the text fails closed instead of cutting out every glued value first.
    const report = detectDeep(`"${aws}" + `.repeat(100_000), { secrets: true, pii: true, injection: true, patterns: true }, undefined);
    assert.match(report.uninspectable ?? '', /more than 1000 findings/);
  });
});
