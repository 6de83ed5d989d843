/**
 * RFC 6570 expansion of a resource template with a completion's values: the URI a later resources/read
 * would carry, so a completion of a template variable is judged like that read (red team L5). Levels 1–3
 * (operators `+ # . / ; ? &`); the level-4 modifiers (`:n` prefix, `*` explode) are read as the plain
 * variable — the whole value, which a prefix would only shorten. Undefined variables are left out, as the
 * RFC says (section 3.2.1). Facts from RFC 6570 sections 3.2.2–3.2.9 (operators, separators, encoding).
 */

interface Operator {
  first: string;
  sep: string;
  named: boolean;
  ifEmpty: string;
  allowReserved: boolean;
}

const OPERATORS: Readonly<Record<string, Operator>> = {
  '': { first: '', sep: ',', named: false, ifEmpty: '', allowReserved: false },
  '+': { first: '', sep: ',', named: false, ifEmpty: '', allowReserved: true },
  '#': { first: '#', sep: ',', named: false, ifEmpty: '', allowReserved: true },
  '.': { first: '.', sep: '.', named: false, ifEmpty: '', allowReserved: false },
  '/': { first: '/', sep: '/', named: false, ifEmpty: '', allowReserved: false },
  ';': { first: ';', sep: ';', named: true, ifEmpty: '', allowReserved: false },
  '?': { first: '?', sep: '&', named: true, ifEmpty: '=', allowReserved: false },
  '&': { first: '&', sep: '&', named: true, ifEmpty: '=', allowReserved: false },
};

/** Unreserved characters kept, the rest percent-encoded (UTF-8); reserved ones and `%XX` kept too when allowed. Throws on a lone surrogate. */
function encode(value: string, allowReserved: boolean): string {
  const strict = (text: string): string => encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  if (!allowReserved) return strict(value);
  return value
    .split(/(%[0-9A-Fa-f]{2})/)
    .map((part, i) => (i % 2 === 1 ? part : strict(part).replace(/%(3A|2F|3F|23|5B|5D|40|21|24|26|27|28|29|2A|2B|2C|3B|3D)/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)))))
    .join('');
}

/** `template` expanded with `values` (non-strings as their JSON text); throws when a value cannot be encoded. */
export function expandTemplate(template: string, values: Readonly<Record<string, unknown>>): string {
  return template.replace(/\{([^}]*)\}/g, (_, expression: string) => {
    const op = OPERATORS[expression[0] ?? ''] ? expression[0]! : '';
    const spec = OPERATORS[op]!;
    const parts: string[] = [];
    for (const raw of expression.slice(op.length).split(',')) {
      const name = raw.replace(/(:\d+|\*)$/, '');
      const value = values[name];
      if (value === undefined || value === null) continue;
      const text = encode(typeof value === 'string' ? value : JSON.stringify(value), spec.allowReserved);
      parts.push(spec.named ? (text === '' ? `${name}${spec.ifEmpty}` : `${name}=${text}`) : text);
    }
    return parts.length === 0 ? '' : spec.first + parts.join(spec.sep);
  });
}
