/**
 * Injected instructions in what servers return: the definition scanner's signals (src/inspect/scanner.ts
 * — "ignore previous instructions", model-addressed framing, secrecy, credential grabbing, exfiltration,
 * argument tampering, pre-invocation orders), run here on the linear-time engine because results can be
 * large and hostile; two signals of tool-call requests (markup like `<tool_call>` or `<invoke …>`, and
 * "call the X tool"); and hidden Unicode (tag characters, bidirectional controls, zero-width characters
 * inside words, runs of two or more variation selectors), found by a hand-written pass; and addresses a
 * client fetches by itself when it renders the text, carrying data (src/dlp/fetch-sinks.ts).
 *
 * Left out on results, where they are ordinary: HTML comments (web pages) and long base64 blobs (data).
 */
import { RULES } from '../inspect/rules.ts';
import { compileLinearSource } from './linear-source.ts';
import type { LinearRegex } from './regex/automaton.ts';
import { RuleScanner, type TextRule } from './rule-scan.ts';
import { findFetchSinks } from './fetch-sinks.ts';

export interface InjectionMatch {
  signal: string;
  start: number;
  end: number;
}

const NOT_ON_RESULTS: ReadonlySet<string> = new Set(['instruction.html-comment', 'exfiltration.encoded-blob']);

/**
 * Signals of results the definition scanner has no reason to carry (a tool definition is not a chat
 * turn): tool-call requests; role-play jailbreaks; the chat-template markup
 * of open models (a turn boundary inside data); and "ignore the previous instructions" in the languages
 * models follow as well as English. Each is matched structurally where it can be (URL shape, markup),
 * by phrase where it cannot.
 */
const OWN_SIGNALS: ReadonlyArray<{ id: string; source: string; flags: string }> = [
  { id: 'tool-call.markup', source: String.raw`<\s*\/?\s*(?:tool_call|tool_use|function_calls?|invoke|antml:invoke|function)\b`, flags: 'i' },
  { id: 'tool-call.request', source: String.raw`\b(?:now\s+)?(?:call|invoke|run|execute|use)\s+(?:the\s+)?[\x60'"]?[A-Za-z][\w.-]{2,63}[\x60'"]?\s+(?:tool|function)\b(?:\s+(?:with|to|and))`, flags: 'i' },
  { id: 'instruction.role-play', source: String.raw`\b(?:act|acting|behave|pretend|role-?play)\s+(?:as|like|to\s+be)\s+(?:DAN|STAN|DUDE|AIM|an?\s+(?:unrestricted|unfiltered|uncensored|jailbroken|evil)\s+(?:AI|assistant|model|chatbot))\b|\bDo\s+Anything\s+Now\b|\b(?:developer|jailbreak|god)\s+mode\s+(?:enabled|activated|on)\b|\bfrom\s+now\s+on,?\s+you\s+(?:will|are|must|shall)\s+(?:act|be|behave|pretend|respond|answer|follow|obey|ignore)\b`, flags: 'i' },
  { id: 'instruction.chat-template', source: String.raw`\[\/?INST\]|<<\/?SYS>>|<\|(?:im_start|im_end|im_sep|system|user|assistant|endoftext|eot_id|start_header_id|end_header_id|begin_of_text)\|>|<\/?(?:start_of_turn|end_of_turn)>|^#{2,3}\s*(?:System|Instruction)\s*:`, flags: 'im' },
  {
    id: 'instruction.override-translated',
    source: [
      String.raw`\b(?:ignora|ignore|ignorez|ignorer|ignoriere|ignorieren)\s+(?:(?:todas|tutte|toutes|alle|all[ea]s?)\s+)?(?:(?:as|le|les|las|los|die|gli|os)\s+)?(?:instruções|instrucoes|istruzioni|instructions|instrucciones|anweisungen|indicazioni|orientações)\s+(?:anteriores|precedenti|précédentes|precedentes|vorherigen|bisherigen|früheren)`,
      // The engine folds case in ASCII only: a Cyrillic capital is spelled out.
      String.raw`(?:[Ии]гнорируй|[Ии]гнорируйте|[Зз]абудь|[Зз]абудьте|[Пп]роигнорируй)\s+(?:все\s+)?(?:предыдущие|прежние|предшествующие|прошлые)\s+(?:инструкции|указания|команды|правила)`,
      String.raw`(?:これまで|以前|前|先|上記)の(?:すべての|全ての)?(?:指示|命令|指令|ルール)(?:は|を)(?:すべて|全て)?(?:無視|忘れ)`,
      String.raw`(?:忽略|无视|忘记|忘掉)(?:之前|以前|先前|上面|上述)(?:的)?(?:所有|全部)?(?:的)?(?:指令|指示|说明|规则)`,
    ].join('|'),
    flags: 'i',
  },
];

function toRule(id: string, regex: LinearRegex): TextRule | undefined {
  const anchors = regex.anchors;
  if (!anchors || Math.min(...anchors.literals.map((l) => l.length)) < 2) return undefined;
  return {
    id,
    regex: () => regex,
    anchors: anchors.literals,
    before: Number.isFinite(anchors.before) ? anchors.before : null,
    after: Number.isFinite(anchors.after) ? anchors.after : null,
    group: 0,
  };
}

let scanner: RuleScanner | undefined;
let phraseRules: TextRule[] | undefined;

/** The phrase signals, compiled once per process. Signals the linear engine cannot run are listed in `skippedSignals`. */
export const skippedSignals: Array<{ id: string; reason: string }> = [];

function phraseScanner(): RuleScanner {
  scanner ??= new RuleScanner(injectionRules());
  return scanner;
}

/** The phrase signals as text rules (compiled once per process). */
export function injectionRules(): readonly TextRule[] {
  if (phraseRules) return phraseRules;
  const rules: TextRule[] = [];
  const sources = [
    ...RULES.filter((r) => r.fields !== 'name' && !r.id.startsWith('unicode.') && !NOT_ON_RESULTS.has(r.id)).map((r) => ({ id: r.id, source: r.pattern.source, flags: r.pattern.flags.replace(/[gyu]/g, '') })),
    ...OWN_SIGNALS,
  ];
  for (const { id, source, flags } of sources) {
    try {
      const rule = toRule(id, compileLinearSource(source, flags));
      if (rule) rules.push(rule);
      else skippedSignals.push({ id, reason: 'no literal to look for first' });
    } catch (error) {
      skippedSignals.push({ id, reason: (error as Error).message });
    }
  }
  phraseRules = rules;
  return rules;
}

const isAsciiLetter = (u: number): boolean => (u >= 0x41 && u <= 0x5a) || (u >= 0x61 && u <= 0x7a);

/** Invisible characters that hide or reorder text, found unit by unit (U+DB40–DBFF: planes 14 to 16). */
const MAYBE_HIDDEN = /[\u200B-\u200D\u2060\uFEFF\u202A-\u202E\u2066-\u2069\uDB40-\uDBFF\uFE00-\uFE0F\uE000-\uF8FF\uFDD0-\uFDEF\uFFFE\uFFFF]/;

const isAsciiAlnum = (u: number): boolean => isAsciiLetter(u) || (u >= 0x30 && u <= 0x39);

/**
 * The code point at `at` if it renders as nothing and is neither a tag character nor a variation
 * selector (read above): its length in units, and whether it hides text wherever it is (`always`) or
 * only inside a word. Plane 14's other code points are Default_Ignorable and unassigned (Unicode's
 * DerivedCoreProperties.txt: `E0080..E00FF`, `E01F0..E0FFF`): nothing writes them. Private use
 * (U+E000–F8FF, planes 15 and 16) and noncharacters (U+FDD0–FDEF, U+xxFFFE/FFFF) draw nothing
 * without a font that gives them one — icon fonts do, beside words, never inside one (red team M, M1).
 */
function invisibleAt(text: string, at: number): { units: number; always: boolean } | undefined {
  const u = text.charCodeAt(at);
  if (u >= 0xdb40 && u <= 0xdbff) {
    const low = text.charCodeAt(at + 1);
    if (!(low >= 0xdc00 && low <= 0xdfff)) return undefined;
    if (u === 0xdb40 && (low <= 0xdc7f || (low >= 0xdd00 && low <= 0xddef))) return undefined;
    return { units: 2, always: u <= 0xdb43 };
  }
  if ((u >= 0xe000 && u <= 0xf8ff) || (u >= 0xfdd0 && u <= 0xfdef) || u >= 0xfffe) return { units: 1, always: false };
  return undefined;
}

/** The length (in units) of the variation selector at `at` (U+FE00–FE0F, U+E0100–E01EF), or 0. */
function variationSelector(text: string, at: number): number {
  const u = text.charCodeAt(at);
  if (u >= 0xfe00 && u <= 0xfe0f) return 1;
  if (u === 0xdb40) {
    const low = text.charCodeAt(at + 1);
    if (low >= 0xdd00 && low <= 0xddef) return 2;
  }
  return 0;
}

export function findHiddenUnicode(text: string): InjectionMatch[] {
  const out: InjectionMatch[] = [];
  // One native character-class test decides whether the unit-by-unit pass is needed at all.
  if (!MAYBE_HIDDEN.test(text)) return out;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const u = text.charCodeAt(i);
    if (u < 0x200b) continue;
    let signal: string | undefined;
    let end = i + 1;
    const tagLow = (at: number): boolean => text.charCodeAt(at) >= 0xdc00 && text.charCodeAt(at) <= 0xdc7f;
    const vs = variationSelector(text, i);
    if (vs > 0) {
      // One selector picks a glyph (an emoji's VS16, a CJK variant); a run of them carries bytes
      // only a model decodes ("variation-selector smuggling").
      end = i + vs;
      let count = 1;
      for (let w = variationSelector(text, end); w > 0; w = variationSelector(text, end)) {
        end += w;
        count++;
      }
      if (count >= 2) signal = 'unicode.variation-selectors';
    } else if (u === 0xdb40 && tagLow(i + 1)) {
      // U+E0000–U+E007F (tag characters) as surrogate pairs: ASCII smuggling.
      end = i + 2;
      while (text.charCodeAt(end) === 0xdb40 && tagLow(end + 1)) end += 2;
      signal = 'unicode.tag-characters';
    } else if ((u >= 0x202a && u <= 0x202e) || (u >= 0x2066 && u <= 0x2069)) signal = 'unicode.bidi-control';
    else if (u === 0x200b || u === 0x200c || u === 0x2060 || (u === 0xfeff && i > 0)) signal = 'unicode.zero-width';
    else if (u === 0x200d && isAsciiLetter(text.charCodeAt(i - 1)) && isAsciiLetter(text.charCodeAt(i + 1))) signal = 'unicode.zero-width';
    else {
      const first = invisibleAt(text, i);
      if (first) {
        let always = first.always;
        end = i + first.units;
        for (let next = invisibleAt(text, end); next; next = invisibleAt(text, end)) {
          end += next.units;
          always ||= next.always;
        }
        if (always || (isAsciiAlnum(text.charCodeAt(i - 1)) && isAsciiAlnum(text.charCodeAt(end)))) signal = 'unicode.zero-width';
      }
    }
    if (signal) {
      out.push({ signal, start: i, end });
      i = end - 1;
    }
  }
  return out;
}

/** Hidden characters a `wrap` removes (they carry text only a model reads). */
export function stripHiddenUnicode(text: string): string {
  const hidden = findHiddenUnicode(text);
  if (hidden.length === 0) return text;
  let out = '';
  let at = 0;
  for (const h of hidden) {
    out += text.slice(at, h.start);
    at = h.end;
  }
  return out + text.slice(at);
}

export function findInjection(text: string): InjectionMatch[] {
  const out: InjectionMatch[] = [...findHiddenUnicode(text), ...findFetchSinks(text)];
  const outcome = phraseScanner().scan(text);
  for (const m of outcome.matches) out.push({ signal: m.rule.id, start: m.start, end: m.end });
  if (outcome.uninspectable) out.push({ signal: 'structure.uninspectable', start: 0, end: 0 });
  return out.sort((a, b) => a.start - b.start);
}
