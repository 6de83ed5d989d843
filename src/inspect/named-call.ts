/**
 * Calls a definition writes out for the model (issue 14): evidence read from identifiers, literals and the
 * tool's own parameter names — the parts of a text that stay the same whatever language its prose is in.
 *
 * A tool identifier (a verb and an object: `create_payment`, `paybridge.get_balance`, `readInbox`,
 * `read_inbox(folder='Inbox')`) that is not this tool, not a tool of the same server and not a word of its
 * own schema is a call to something else. In one sentence with it, two things are what poisoning does and
 * documentation does not:
 *
 * - **fixed arguments** for that call — `payee_id='PY-77120'`, `amount=1.00`, `vendor_id 设为 'V-88231'`, an
 *   IBAN: the text decides what another tool is called with (a hijack or a fake prerequisite). Documentation
 *   points to the other tool ("use list_projects to get the id") and leaves the values to the user;
 * - **one of this tool's own parameters** that is not a slot for an identifier — `roster`, `session_seed`,
 *   `account_snapshot`: the other tool's output routed into this call. A lookup ("deal_id must come from
 *   list_deals", "call list_channels to find the channel") fills an id, a reference, a version or the very
 *   thing the other tool lists, and is not counted.
 *
 * Not judged: calls written without an identifier ("the payment tool"), calls of the server's own tools
 * (their documentation is the server's business), and tools whose subject is such text (a detector of
 * poisoning quoting what it looks for, a translator): the caller passes `quoting` for those.
 */
import { toolShaped } from './signals.ts';
import { sentences } from './words.ts';

/** A call that a sentence writes out, with the evidence it carries. */
export interface NamedCall {
  /** The identifier of the tool called. */
  tool: string;
  /** `arguments`: fixed values for the call; `routed`: its output routed into this tool's parameter. */
  kind: 'arguments' | 'routed';
  field: string;
  span: string;
}

/**
 * A tool identifier, optionally prefixed by its server (`paybridge.create_transfer`, `fs:mount`): snake_case
 * or camelCase words of which the first is a verb. Identifiers are written in English whatever the prose.
 */
const IDENTIFIER = /(?<![\w./@\\$-])(?:[a-z][a-z0-9-]{1,30}[.:/])?([a-z][a-z0-9]*(?:_[a-z0-9]+)+|[a-z]+(?:[A-Z][a-z0-9]+)+)(?![\w/@\\-]|\.\w)/g;
const HAS_IDENTIFIER = new RegExp(IDENTIFIER.source);
/**
 * A value fixed for a call: `key=value`, `key: 'value'`, `key 设为 'value'`, a quoted value after a word (`with query
 * "password"`, `set to 'main'`), a keyword argument inside a call, an IBAN.
 */
const QUOTED = String.raw`['"‘“「«][^'"’”」»\n]{1,80}['"’”」»]`;
const FIXED_VALUE = new RegExp(
  [
    // key=value, key: value, key 设为 value (a short word of another script than Latin: "deleted after 30 days" fixes nothing)
    String.raw`\b[a-z][a-z0-9]*(?:_[a-z0-9]+)*\s{0,2}(?:=|:|[^\s\w'"‘“「«.,;()]{1,4}|\s[^\s\x00-\x7F'"‘“「«]{1,6}\s)\s{0,2}(?:${QUOTED}|-?\d+(?:[.,]\d+)?\b|true\b|false\b|\[\s*[{'"]|\{\s*['"])`,
    // a quoted value after a word and at most two short ones: with query "…", set to 'main', is to be "writer"
    String.raw`\b[a-z][a-z0-9_]*(?:\s[a-z]{1,6}){0,2}\s{1,2}${QUOTED}`,
    // a keyword argument inside the call; an account number
    String.raw`\(\s*[a-z_][a-z0-9_]*\s*=|\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b`,
  ].join('|'),
  'u',
);
/** A parameter that holds a reference to something another tool lists: an id, a key, a version, a cursor, a path. */
const REFERENCE_SLOT = /(?:^|[_-]|[a-z](?=[A-Z]))(?:id|ids|ref|refs|key|keys|version|versions|name|names|number|no|num|code|url|uri|path|cursor|slug|handle|sku|hash|sha|date|time|index)$/i;

const VALUE_BEFORE = /[(,:=|{[]\s*['"`‘“]?$/u;
const VALUE_AFTER = /^['"`’”]?\s*(?:[,.):|}\]]|$)/u;
const QUOTE_BEFORE = /['"`‘“]$/u;
const QUOTE_AFTER = /^['"`’”]/u;
/** Letters of scripts other than Latin: an ASCII word among them stands out as an identifier (`放入 roster 参数`). */
const OTHER_SCRIPT = /[^\p{Script=Latin}\p{Script=Common}\p{Script=Inherited}]/u;

/** The words of an identifier, lower case and without a plural `s` (`list_channels` → list, channel). */
function words(identifier: string): string[] {
  return identifier
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .split(/[_.:/-]+/)
    .filter(Boolean)
    .map((w) => (w.length > 3 && w.endsWith('s') ? w.slice(0, -1) : w));
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export interface NamedCallInput {
  /** The definition's own name. */
  name: string;
  /** The tool names of its server (its siblings). */
  siblings: ReadonlySet<string>;
  /** Every key and listed value of its schemas (property names at any depth, enum members): its own vocabulary. */
  vocabulary: ReadonlySet<string>;
  /** The tool's own parameter names (at any depth of its input schema). */
  parameters: readonly string[];
  /** The texts to read (descriptions, titles, defaults …), each with its field. */
  texts: ReadonlyArray<{ field: string; text: string }>;
}

/** The calls of other tools that the texts write out with fixed arguments or route into this tool's parameters. */
export function namedCalls(input: NamedCallInput): NamedCall[] {
  const out: NamedCall[] = [];
  const routable = input.parameters.filter((p) => p.length >= 3 && !REFERENCE_SLOT.test(p));
  // A parameter of one plain word ("host") is also a word of prose: it counts when it is quoted, or among letters of another script.
  const parameterPatterns = routable.map((p) => ({
    name: p,
    plain: !/[_\d]|[a-z][A-Z]/.test(p),
    pattern: new RegExp(`(?<![\\p{L}\\p{N}_])${escape(p)}(?![\\p{L}\\p{N}_])`, 'u'),
    quoted: new RegExp(`['"\`‘“]${escape(p)}['"\`’”]`, 'u'),
  }));
  for (const { field, text } of input.texts) {
    if (!HAS_IDENTIFIER.test(text)) continue;
    for (const sentence of sentences(text)) {
      for (const m of sentence.matchAll(IDENTIFIER)) {
        const tool = m[1]!;
        if (!(toolShaped(tool) || toolShaped(tool.replace(/^[a-z0-9]+_/, ''))) || tool === input.name || input.siblings.has(tool) || input.vocabulary.has(tool) || input.vocabulary.has(tool.toLowerCase())) continue;
        const at = m.index!;
        const before = sentence.slice(Math.max(0, at - 3), at);
        const after = sentence.slice(at + m[0].length, at + m[0].length + 3);
        // A value in a list or an assignment ("e.g. 'title_slide', 'text_with_image'", `default = "startTime"`,
        // `{"operation_id": "getOrder"}`) is a value of this tool's own, not a call.
        if (VALUE_BEFORE.test(before) && VALUE_AFTER.test(after)) continue;
        // The values are read in the sentence without the call's own name and its quotes (`create_payment` has no value of its own).
        const quoted = QUOTE_BEFORE.test(before) && QUOTE_AFTER.test(after);
        const start = quoted ? at - 1 : at;
        const end = at + m[0].length + (quoted ? 1 : 0);
        const rest = sentence.slice(0, start) + ' '.repeat(end - start) + sentence.slice(end);
        const fixed = FIXED_VALUE.exec(rest);
        if (fixed) {
          out.push({ tool, kind: 'arguments', field, span: trim(sentence) });
          return out;
        }
        const toolWords = new Set(words(tool));
        const routed = parameterPatterns.find(({ name, plain, pattern, quoted }) => pattern.test(rest) && (!plain || quoted.test(rest) || OTHER_SCRIPT.test(rest)) && !words(name).some((w) => toolWords.has(w)));
        if (routed) {
          out.push({ tool, kind: 'routed', field, span: trim(sentence) });
          return out;
        }
      }
    }
  }
  return out;
}

function trim(s: string): string {
  return s.length > 160 ? `${s.slice(0, 157)}...` : s;
}
