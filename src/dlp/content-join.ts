/**
 * The text a reader makes of one result's `content` (red team C10): a model reads every text-bearing
 * item of a result as one text, in order — text items and embedded resources' `text` — whatever
 * non-text items (images, audio, links) lie between them. A value cut over three items, or with a
 * separator item or an image between its halves, or half in a text and half in a resource, is whole
 * there. Each unit of the joined text knows its item and its offset in that item's text, so that a
 * finding can be masked in every piece it came from.
 *
 * Bounds: an item longer than `2 * seam` contributes only its first and last `seam` characters, with a
 * break between them (a value cut at an item's edge lies within `seam` of it); so the joined text is at
 * most `2 * seam + 1` per item (and `between`). Not joined: resource links (a URI is not prose), blobs.
 */
import { isObject } from '../protocol/jsonrpc.ts';

export interface JoinedContent {
  text: string;
  /** For each unit: the content item it came from, or -1 for a break. */
  item: Int32Array;
  /** For each unit: its offset in that item's text. */
  offset: Int32Array;
}

/** Where an item's text lives: a text item's `text`, an embedded resource's `resource.text`. */
export function itemText(item: unknown): string | undefined {
  if (!isObject(item)) return undefined;
  if (item.type === 'text' && typeof item.text === 'string') return item.text;
  if (item.type === 'resource' && isObject(item.resource) && typeof item.resource.text === 'string') return item.resource.text;
  return undefined;
}

/** `content`'s text-bearing items joined with nothing between them; undefined when fewer than two. */
export function joinedContent(content: readonly unknown[], seam: number): JoinedContent | undefined {
  return joinedTexts(content.map(itemText), seam);
}

/**
 * The texts of a list's items (undefined: an item without text, skipped), joined in order with
 * `between` (mapped to no item) between two items: the one join the secret and the injection readers
 * share (red team M, M8). Secrets are joined with nothing between the pieces (a value cut in two);
 * injected phrases with a line break (words cut apart stay words). Undefined when fewer than two.
 */
export function joinedTexts(texts: readonly (string | undefined)[], seam: number, between = ''): JoinedContent | undefined {
  const parts: Array<[number, string, number]> = [];
  let length = 0;
  let count = 0;
  for (let i = 0; i < texts.length; i++) {
    const text = texts[i];
    if (text === undefined || text.length === 0) continue;
    if (count > 0 && between !== '') {
      parts.push([-1, between, 0]);
      length += between.length;
    }
    count++;
    if (text.length <= 2 * seam) {
      parts.push([i, text, 0]);
      length += text.length;
    } else {
      parts.push([i, text.slice(0, seam), 0], [-1, '\n', 0], [i, text.slice(-seam), text.length - seam]);
      length += 2 * seam + 1;
    }
  }
  if (count < 2) return undefined;
  const item = new Int32Array(length);
  const offset = new Int32Array(length);
  let at = 0;
  for (const [index, text, from] of parts) {
    for (let k = 0; k < text.length; k++, at++) {
      item[at] = index;
      offset[at] = from + k;
    }
  }
  return { text: parts.map((p) => p[1]).join(''), item, offset };
}
