/**
 * A view's text and its map back to the source (normalize.ts `MappedText`), written piece by piece.
 * The units and the map go into typed arrays that double as they fill, and the text is made from the
 * units once, at the end: the views that join many pieces (the dechunked, concatenated, rejoined and
 * destrided views) pushed two numbers per unit onto JavaScript arrays and appended each slice to a
 * string, which on a 1 MB hostile text (`"AKIA" + ` repeated, a key id cut by a blank over and over)
 * was most of the inspection's time, in growing arrays, short strings and collection. The result is
 * the same text and the same map.
 */
import type { MappedText } from './normalize.ts';

const NONE16 = new Uint16Array(0);
const NONE32 = new Int32Array(0);

export class MappedBuilder {
  /** Units written so far. */
  length = 0;
  #units: Uint16Array = NONE16;
  #starts: Int32Array = NONE32;
  #ends: Int32Array = NONE32;

  /** Room for `more` units (no array until the first unit: most builders of ordinary text write nothing). */
  #room(more: number): void {
    const need = this.length + more;
    if (need <= this.#units.length) return;
    const size = Math.max(need, 2 * this.#units.length, 256);
    const units = new Uint16Array(size);
    const starts = new Int32Array(size);
    const ends = new Int32Array(size);
    units.set(this.#units.subarray(0, this.length));
    starts.set(this.#starts.subarray(0, this.length));
    ends.set(this.#ends.subarray(0, this.length));
    this.#units = units;
    this.#starts = starts;
    this.#ends = ends;
  }

  /** `units` written as they are, every one mapped to the source span [start, end). */
  mark(units: string, start: number, end: number): void {
    this.#room(units.length);
    const at = this.length;
    for (let k = 0; k < units.length; k++) {
      this.#units[at + k] = units.charCodeAt(k);
      this.#starts[at + k] = start;
      this.#ends[at + k] = end;
    }
    this.length += units.length;
  }

  /** `source[from, to)`, every unit mapped to itself. */
  copy(source: string, from: number, to: number): void {
    if (to <= from) return;
    this.#room(to - from);
    const units = this.#units;
    const starts = this.#starts;
    const ends = this.#ends;
    for (let i = from, k = this.length; i < to; i++, k++) {
      units[k] = source.charCodeAt(i);
      starts[k] = i;
      ends[k] = i + 1;
    }
    this.length += to - from;
  }

  /** The source end of the last unit written. */
  get lastEnd(): number {
    return this.#ends[this.length - 1]!;
  }

  view(): MappedText {
    return { text: unitsText(this.#units, 0, this.length), starts: this.#starts.slice(0, this.length), ends: this.#ends.slice(0, this.length) };
  }
}

/** `units[from, to)` as a string, unit for unit (lone surrogates kept), in native calls of 8 K units. */
export function unitsText(units: Uint16Array, from: number, to: number): string {
  if (to - from <= 8192) return String.fromCharCode.apply(null, units.subarray(from, to) as unknown as number[]);
  const parts: string[] = [];
  for (let at = from; at < to; at += 8192) parts.push(String.fromCharCode.apply(null, units.subarray(at, Math.min(to, at + 8192)) as unknown as number[]));
  return parts.join('');
}
