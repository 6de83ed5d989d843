/**
 * A view's text and its map back to the source (normalize.ts `MappedText`), written piece by piece.
 * The map goes into typed arrays that double as they fill, the text into a list of slices joined once:
 * the views that join many pieces (the dechunked, concatenated, rejoined and destrided views) pushed two
 * numbers per unit onto JavaScript arrays and appended each slice to a string, which on a 1 MB hostile
 * text (`"AKIA" + ` repeated, a key id cut by a blank over and over) was most of the inspection's
 * time, in growing arrays and collection. The result is the same text and the same map.
 */
import type { MappedText } from './normalize.ts';

const NONE = new Int32Array(0);

export class MappedBuilder {
  /** Units written so far. */
  length = 0;
  #parts: string[] = [];
  #starts: Int32Array;
  #ends: Int32Array;

  /** No array until the first unit (most builders of ordinary text write nothing). */
  constructor() {
    this.#starts = this.#ends = NONE;
  }

  #room(units: number): void {
    const need = this.length + units;
    if (need <= this.#starts.length) return;
    const size = Math.max(need, 2 * this.#starts.length, 256);
    const starts = new Int32Array(size);
    const ends = new Int32Array(size);
    starts.set(this.#starts.subarray(0, this.length));
    ends.set(this.#ends.subarray(0, this.length));
    this.#starts = starts;
    this.#ends = ends;
  }

  /** `units` written as they are, every one mapped to the source span [start, end). */
  mark(units: string, start: number, end: number): void {
    this.#room(units.length);
    this.#parts.push(units);
    const at = this.length;
    this.#starts.fill(start, at, at + units.length);
    this.#ends.fill(end, at, at + units.length);
    this.length += units.length;
  }

  /** `source[from, to)`, every unit mapped to itself. */
  copy(source: string, from: number, to: number): void {
    if (to <= from) return;
    this.#room(to - from);
    this.#parts.push(source.slice(from, to));
    const starts = this.#starts;
    const ends = this.#ends;
    for (let i = from, k = this.length; i < to; i++, k++) {
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
    return { text: this.#parts.join(''), starts: this.#starts.slice(0, this.length), ends: this.#ends.slice(0, this.length) };
  }
}
