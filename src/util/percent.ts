/** Strict percent-decoding, shared by the checks that judge what a server decodes. */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes every `%XX` run as UTF-8; throws a TypeError when the bytes are not UTF-8 (overlong `%C0%AE`). */
export function percentDecodeUtf8(text: string): string {
  return text.replace(/(?:%[0-9a-f]{2})+/gi, (run) => UTF8.decode(Buffer.from(run.replace(/%/g, ''), 'hex')));
}
