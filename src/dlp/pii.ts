/**
 * Personal data in text, found by hand-written scanners (one pass each, no regular expressions) and
 * confirmed by the checksum or validity rule each kind has, so that random digits are not personal
 * data:
 *   email            local@domain.tld
 *   payment-card     13–19 digits (spaces or dashes between groups), a known card prefix, Luhn
 *   iban             ISO 13616: country, check digits, the country's length, mod 97 = 1
 *   us-ssn           AAA-GG-SSSS (or spaces), never-issued areas, groups and serials refused
 *   phone            libphonenumber-js (full metadata) valid numbers: international (+CC …) in any
 *                    layout, national ones in the North American layouts (AAA-BBB-CCCC, (AAA) BBB-CCCC…)
 *   ca-sin           AAA-BBB-CCC (or spaces), Luhn
 *   br-cpf           AAA.BBB.CCC-DD, both check digits
 *   in-aadhaar       AAAA BBBB CCCC (or dashes), Verhoeff
 *   uk-nhs           AAA BBB CCCC (or dashes), mod 11
 *   es-dni           8 digits and the control letter (mod 23); NIE with X/Y/Z
 *   cn-resident-id   17 digits and the ISO 7064 MOD 11-2 check character, with a plausible birth date
 *
 * Not detected: numbers written without any separator where the kind needs one (a bare 9-digit SSN
 * is any number), names, addresses, dates of birth.
 */
import { createRequire } from 'node:module';
import { countSet, longStretches, nextSet, type CharClasses } from './char-classes.ts';

type ParsePhone = (text: string, country: string) => { isValid(): boolean } | undefined;
let parsePhone: ParsePhone | undefined;
/** libphonenumber-js with its full metadata (~150 KB) is loaded when a phone number is first checked, not at start. */
function phoneParser(): ParsePhone {
  parsePhone ??= (createRequire(import.meta.url)('libphonenumber-js/max') as { parsePhoneNumberFromString: ParsePhone }).parsePhoneNumberFromString;
  return parsePhone;
}

export type PiiKind = 'email' | 'payment-card' | 'iban' | 'us-ssn' | 'phone' | 'ca-sin' | 'br-cpf' | 'in-aadhaar' | 'uk-nhs' | 'es-dni' | 'cn-resident-id';

export const PII_KINDS: readonly PiiKind[] = ['email', 'payment-card', 'iban', 'us-ssn', 'phone', 'ca-sin', 'br-cpf', 'in-aadhaar', 'uk-nhs', 'es-dni', 'cn-resident-id'];

export interface PiiMatch {
  kind: PiiKind;
  start: number;
  end: number;
}

const isDigit = (u: number): boolean => u >= 0x30 && u <= 0x39;
const isUpper = (u: number): boolean => u >= 0x41 && u <= 0x5a;
const isAlnum = (u: number): boolean => isDigit(u) || isUpper(u) || (u >= 0x61 && u <= 0x7a);

export function luhn(digits: string): boolean {
  let sum = 0;
  for (let k = 0; k < digits.length; k++) {
    let d = digits.charCodeAt(digits.length - 1 - k) - 48;
    if (k % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/** Issuer prefixes of the card networks (ISO/IEC 7812 IIN ranges in public use) and their lengths. */
function cardBrand(d: string): boolean {
  const n = d.length;
  const p2 = Number(d.slice(0, 2));
  const p3 = Number(d.slice(0, 3));
  const p4 = Number(d.slice(0, 4));
  const p6 = Number(d.slice(0, 6));
  if (d[0] === '4') return n === 13 || n === 16 || n === 19; // Visa
  if ((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720)) return n === 16; // Mastercard
  if (p2 === 34 || p2 === 37) return n === 15; // American Express
  if (p4 === 6011 || p2 === 65 || (p3 >= 644 && p3 <= 649) || (p6 >= 622126 && p6 <= 622925)) return n >= 16 && n <= 19; // Discover
  if (p4 >= 3528 && p4 <= 3589) return n >= 16 && n <= 19; // JCB
  if ((p3 >= 300 && p3 <= 305) || p2 === 36 || p2 === 38 || p2 === 39 || p4 === 3095) return n >= 14 && n <= 19; // Diners
  if (p2 === 62) return n >= 16 && n <= 19; // UnionPay
  if (['50', '56', '57', '58', '63', '67'].includes(d.slice(0, 2)) || p2 === 60) return n >= 12 && n <= 19; // Maestro
  return false;
}

/** IBAN lengths by country (ISO 13616 registry). */
const IBAN_LENGTH: Readonly<Record<string, number>> = {
  AD: 24, AE: 23, AL: 28, AT: 20, AZ: 28, BA: 20, BE: 16, BG: 22, BH: 22, BI: 27, BR: 29, BY: 28, CH: 21, CR: 22, CY: 28, CZ: 24,
  DE: 22, DJ: 27, DK: 18, DO: 28, EE: 20, EG: 29, ES: 24, FI: 18, FK: 18, FO: 18, FR: 27, GB: 22, GE: 22, GI: 23, GL: 18, GR: 27,
  GT: 28, HR: 21, HU: 28, IE: 22, IL: 23, IQ: 23, IS: 26, IT: 27, JO: 30, KW: 30, KZ: 20, LB: 28, LC: 32, LI: 21, LT: 20, LU: 20,
  LV: 21, LY: 25, MC: 27, MD: 24, ME: 22, MK: 19, MN: 20, MR: 27, MT: 31, MU: 30, NI: 28, NL: 18, NO: 15, OM: 23, PK: 24, PL: 28,
  PS: 29, PT: 25, QA: 29, RO: 24, RS: 22, RU: 33, SA: 24, SC: 31, SD: 18, SE: 24, SI: 19, SK: 24, SM: 27, SO: 23, ST: 25, SV: 28,
  TL: 23, TN: 24, TR: 26, UA: 29, VA: 22, VG: 24, XK: 20, YE: 30,
};

export function ibanValid(iban: string): boolean {
  if (IBAN_LENGTH[iban.slice(0, 2)] !== iban.length) return false;
  const moved = iban.slice(4) + iban.slice(0, 4);
  let remainder = 0;
  for (const c of moved) {
    const u = c.charCodeAt(0);
    const value = isDigit(u) ? u - 48 : u - 55;
    remainder = value > 9 ? (remainder * 100 + value) % 97 : (remainder * 10 + value) % 97;
  }
  return remainder === 1;
}

const VERHOEFF_D = [
  [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 2, 3, 4, 0, 6, 7, 8, 9, 5], [2, 3, 4, 0, 1, 7, 8, 9, 5, 6], [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
  [4, 0, 1, 2, 3, 9, 5, 6, 7, 8], [5, 9, 8, 7, 6, 0, 4, 3, 2, 1], [6, 5, 9, 8, 7, 1, 0, 4, 3, 2], [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
  [8, 7, 6, 5, 9, 3, 2, 1, 0, 4], [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
];
const VERHOEFF_P = [
  [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 5, 7, 6, 2, 8, 3, 0, 9, 4], [5, 8, 0, 3, 7, 9, 6, 1, 4, 2], [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
  [9, 4, 5, 3, 1, 2, 6, 8, 7, 0], [4, 2, 8, 6, 5, 7, 3, 9, 0, 1], [2, 7, 9, 3, 8, 0, 6, 4, 1, 5], [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
];

export function verhoeff(digits: string): boolean {
  let c = 0;
  for (let k = 0; k < digits.length; k++) c = VERHOEFF_D[c]![VERHOEFF_P[k % 8]![digits.charCodeAt(digits.length - 1 - k) - 48]!]!;
  return c === 0;
}

export function cpfValid(d: string): boolean {
  if ([...d].every((c) => c === d[0])) return false;
  const check = (length: number): number => {
    let sum = 0;
    for (let k = 0; k < length; k++) sum += (d.charCodeAt(k) - 48) * (length + 1 - k);
    const r = (sum * 10) % 11;
    return r === 10 ? 0 : r;
  };
  return check(9) === d.charCodeAt(9) - 48 && check(10) === d.charCodeAt(10) - 48;
}

export function nhsValid(d: string): boolean {
  let sum = 0;
  for (let k = 0; k < 9; k++) sum += (d.charCodeAt(k) - 48) * (10 - k);
  const check = 11 - (sum % 11);
  const expected = check === 11 ? 0 : check;
  return expected !== 10 && expected === d.charCodeAt(9) - 48;
}

export function ssnValid(d: string): boolean {
  const area = Number(d.slice(0, 3));
  return area !== 0 && area !== 666 && area < 900 && d.slice(3, 5) !== '00' && d.slice(5) !== '0000';
}

const DNI_LETTERS = 'TRWAGMYFPDXBNJZSQVHLCKE';

export function dniValid(id: string): boolean {
  const nie = 'XYZ'.indexOf(id[0]!);
  const digits = nie >= 0 ? String(nie) + id.slice(1, 8) : id.slice(0, 8);
  return DNI_LETTERS[Number(digits) % 23] === id[8];
}

export function cnIdValid(id: string): boolean {
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  let sum = 0;
  for (let k = 0; k < 17; k++) sum += (id.charCodeAt(k) - 48) * weights[k]!;
  if ('10X98765432'[sum % 11] !== id[17]) return false;
  const year = Number(id.slice(6, 10));
  const month = Number(id.slice(10, 12));
  const day = Number(id.slice(12, 14));
  return year >= 1900 && year <= 2100 && month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

/** `groups` digits per group with one separator from `seps` between groups, e.g. [3,2,4] for an SSN. */
function shaped(text: string, groups: readonly number[], seps: string): boolean {
  let k = 0;
  for (let g = 0; g < groups.length; g++) {
    for (let j = 0; j < groups[g]!; j++) if (!isDigit(text.charCodeAt(k++))) return false;
    if (g < groups.length - 1) {
      if (!seps.includes(text[k] ?? '')) return false;
      k++;
    }
  }
  return k === text.length;
}

const NANP = /^(?:\+?1[ .-]?)?(?:\(\d{3}\) ?|\d{3}[ .-])\d{3}[ .-]\d{4}$/;
/** The same layout where a number starts in a longer cluster (`phoneWindows`), without a country code. */
const NANP_AT = /(?:\(\d{3}\) ?|\d{3}[ .-])\d{3}[ .-]\d{4}/y;
/** A card's groups with spaces and dashes mixed (`4539 1488-0343-6467`): fours (the last 1–4), or Amex's 4-6-5. */
const CARD_GROUPS = /^(?:\d{4}[ -]){2,4}\d{1,4}$|^\d{4}[ -]\d{6}[ -]\d{4,5}$/;

/** The kind of a cluster of digits and separators, when it is personal data. */
function classifyCluster(cluster: string, digits: string, sameSeparators: boolean): PiiKind | undefined {
  const n = digits.length;
  if (n >= 13 && n <= 19 && (sameSeparators || CARD_GROUPS.test(cluster)) && /^[\d -]+$/.test(cluster) && cardBrand(digits) && luhn(digits)) return 'payment-card';
  if (shaped(cluster, [3, 2, 4], '- ') && sameSeparators && ssnValid(digits)) return 'us-ssn';
  if (shaped(cluster, [3, 3, 3], '- ') && sameSeparators && digits[0] !== '0' && digits[0] !== '8' && luhn(digits)) return 'ca-sin';
  if (/^\d{3}\.\d{3}\.\d{3}-\d{2}$/.test(cluster) && cpfValid(digits)) return 'br-cpf';
  if (shaped(cluster, [4, 4, 4], '- ') && sameSeparators && digits[0] !== '0' && digits[0] !== '1' && verhoeff(digits)) return 'in-aadhaar';
  if (shaped(cluster, [3, 3, 4], '- ') && sameSeparators && nhsValid(digits)) return 'uk-nhs';
  if (n >= 8 && n <= 15 && (cluster.startsWith('+') || NANP.test(cluster))) {
    const phone = phoneParser()(cluster, 'US');
    if (phone?.isValid()) return 'phone';
  }
  return undefined;
}

/** Separators within a number: space - . / ( ). */
const isSeparator = (u: number): boolean => u === 0x20 || u === 0x2d || u === 0x2e || u === 0x2f || u === 0x28 || u === 0x29;
const NUMBER_KINDS: readonly PiiKind[] = ['payment-card', 'us-ssn', 'phone', 'ca-sin', 'br-cpf', 'in-aadhaar', 'uk-nhs'];

/*
 * Where to look: one pass over the text's Latin-1 bytes (shared with the secret rules' anchor pass)
 * marks runs of digits and separators of eight units or more (numbers), runs of seven digits or more
 * (national ids) and the "AA00" start of an IBAN; the scanners below then work only there. A unit
 * past Latin-1 is seen by its low byte, which can only make a run look longer or add a start that is
 * not one: every region is checked again on the text itself.
 */
/** Per byte: bit 0 a digit, bit 1 a separator, bits 2–3 the IBAN shape code (2 digit, 1 upper-case letter). */
const CODE: Uint8Array = (() => {
  const table = new Uint8Array(256);
  for (let u = 0x30; u <= 0x39; u++) table[u] = 1 | (2 << 2);
  for (const c of ' ().\\/-') table[c.charCodeAt(0)] = 2;
  for (let u = 0x41; u <= 0x5a; u++) table[u] = 1 << 2;
  return table;
})();
/** Shape codes of the last four units: upper, upper, digit, digit. */
const IBAN_SHAPE = (1 << 6) | (1 << 4) | (2 << 2) | 2;
const NUMBER_RUN = 8;
const MIN_NUMBER_DIGITS = 9;
const DIGIT_RUN = 7;

export interface Regions {
  /** [start, end) of runs of digits and separators that start with a digit, 8+ units, 9+ digits. */
  numbers: number[];
  /** [start, end) of runs of 7+ digits. */
  digitRuns: number[];
  /** Where "AA00" starts. */
  ibans: number[];
}

/** The number-like units (digits and the separator-like units before them) at the end and at the start of a word. */
const tailOf = (mask: number): number => Math.clz32(~mask & 0x80808080) >>> 3;
const headOf = (mask: number): number => {
  const inv = ~mask & 0x80808080;
  return inv === 0 ? 4 : (31 - Math.clz32(inv & -inv)) >>> 3;
};

/**
 * The first of `words[k…end)` that may hold part of what `regions` looks for (`end` when none): a word
 * with a capital letter (an IBAN starts with two), or one made only of digits and separator-like units
 * with a digit among them whose neighbours carry the run on for three more units (seven digits in a
 * row, or eight units of a number, always cover such an aligned word: four of its units are the
 * word's, the other three its neighbours'). A word of hex digits alone is common in ids and hashes;
 * without the neighbours' test, each one sent the pass back to reading byte by byte. Four bytes are
 * tested at once with carry-free byte arithmetic (each byte's low seven bits plus an offset cannot
 * carry into the next).
 */
function skipQuiet(words: Uint32Array, k: number, end: number): number {
  for (; k < end; k++) {
    const x = words[k]!;
    const low = x & 0x7f7f7f7f;
    const ascii = ~x & 0x80808080;
    const atLeastA = (low + 0x3f3f3f3f) | 0; // per byte: high bit set when ≥ "A"
    const pastZ = (low + 0x25252525) | 0; // ≥ "["
    if ((atLeastA & ~pastZ & ascii) !== 0) return k;
    const atLeastSpace = (low + 0x60606060) | 0; // ≥ " "
    const atLeast0 = (low + 0x50505050) | 0; // ≥ "0"
    const past9 = (low + 0x46464646) | 0; // ≥ ":"
    const digit = atLeast0 & ~past9 & ascii;
    const numberLike = atLeastSpace & ~past9 & ascii;
    if (digit === 0 || numberLike !== (0x80808080 | 0)) continue;
    const before = k > 0 ? tailOf(numberLikeMask(words[k - 1]!)) : 0;
    const after = k + 1 < end ? headOf(numberLikeMask(words[k + 1]!)) : 4;
    if (before + after >= 3) return k;
  }
  return end;
}

/** Per byte of a word: the high bit set when the byte is a digit or a unit between " " and "/". */
function numberLikeMask(x: number): number {
  const low = x & 0x7f7f7f7f;
  return ((low + 0x60606060) & ~(low + 0x46464646) & ~x & 0x80808080) | 0;
}

/**
 * The pass keeps three counters and tests them together once per unit (rarely true, so the branch is
 * predicted); where a run reaches its length, its start is known and its end is found afterwards.
 */
export function regions(bytes: Uint8Array, n: number): Regions {
  // Made before the loop: an object literal first met after it, in code the compiler optimised while
  // the loop ran (on-stack replacement), has no type feedback yet, and threw the optimised code away
  // on most calls (223 deoptimisations in 5,000 inspections of JSON records).
  const found: Regions = { numbers: [], digitRuns: [], ibans: [] };
  const { numbers, digitRuns, ibans } = found;
  // Whole words of four bytes can be skipped while no run is open (the buffer is aligned when Node
  // made it for this text; otherwise, and for short texts, every byte is read).
  const words = n >= 64 && bytes.byteOffset % 4 === 0 ? new Uint32Array(bytes.buffer, bytes.byteOffset, n >>> 2) : undefined;
  let run = 0;
  let digits = 0;
  let shape = 0;
  for (let i = 0; i < n; i++) {
    // Not right after a capital: it may start an IBAN whose check digits open the next word (the
    // skip below would forget the capitals it has seen).
    if (run === 0 && (i & 3) === 0 && words && (shape & 3) !== 1) {
      const next = skipQuiet(words, i >>> 2, words.length);
      if (next > (i >>> 2) + 1) {
        // The words skipped hold nothing that starts a region except, perhaps, the tail of the last
        // one (digits just before a run, a capital just before an IBAN's digits): that tail is read
        // again, from the unit after its last one that is no digit, separator or capital (such a
        // unit ends every count, so starting after it with none is what reading up to it gives).
        let from = 4 * next;
        while (from > 4 * next - 4 && CODE[bytes[from - 1]!]! !== 0) from--;
        shape = 0;
        digits = 0;
        i = from - 1;
        continue;
      }
    }
    const code = CODE[bytes[i]!]!;
    const digit = (code & 1) !== 0;
    digits = digit ? digits + 1 : 0;
    run = digit || ((code & 2) !== 0 && run !== 0) ? run + 1 : 0;
    shape = ((shape << 2) | (code >> 2)) & 0xff;
    if (digits === DIGIT_RUN || run === NUMBER_RUN || shape === IBAN_SHAPE) {
      if (digits === DIGIT_RUN) {
        let end = i + 1;
        while (end < n && (CODE[bytes[end]!]! & 1) !== 0) end++;
        digitRuns.push(i + 1 - DIGIT_RUN, end);
      }
      if (run === NUMBER_RUN) {
        let end = i + 1;
        let count = 0;
        for (let k = i + 1 - NUMBER_RUN; k <= i; k++) count += CODE[bytes[k]!]! & 1;
        for (; end < n && (CODE[bytes[end]!]! & 3) !== 0; end++) count += CODE[bytes[end]!]! & 1;
        // Every number looked for has nine digits or more (`scanNumbers`, the views' card clusters):
        // a run with fewer is a date, a time or a version, and nothing is made for it.
        if (count >= MIN_NUMBER_DIGITS) numbers.push(i + 1 - NUMBER_RUN, end);
      }
      if (shape === IBAN_SHAPE) ibans.push(i - 3);
    }
  }
  return found;
}

/**
 * `regions` from the text's character classes (src/dlp/char-classes.ts): the same regions, found 32
 * units a word. A digit run of `DIGIT_RUN` and a number run of `NUMBER_RUN` each cover an aligned
 * group of four set bits of their class, so only the words with such a group are looked at; an IBAN
 * start is where the upper-case bits of two units and the digit bits of the next two are all set.
 */
export function regionsInClasses(classes: CharClasses): Regions {
  const found: Regions = { numbers: [], digitRuns: [], ibans: [] };
  const { digit, number, upper } = classes;
  const words = digit.length;
  longStretches(digit, words, DIGIT_RUN, 4, found.digitRuns);
  // A number run starts at its first digit and goes on over digits and separators (so its digits are
  // those of the whole stretch: most stretches, dates and times, are turned down on that count alone).
  const stretches = longStretches(number, words, NUMBER_RUN, 4);
  for (let k = 0; k < stretches.length; k += 2) {
    const end = stretches[k + 1]!;
    if (countSet(digit, stretches[k]!, end) < MIN_NUMBER_DIGITS) continue;
    const start = nextSet(digit, stretches[k]!, end);
    if (end - start >= NUMBER_RUN) found.numbers.push(start, end);
  }
  for (let w = 0; w + 1 < words; w++) {
    const u = upper[w]!;
    if (u === 0) continue;
    const d = digit[w]!;
    const nextD = digit[w + 1]!;
    let starts = u & ((u >>> 1) | (upper[w + 1]! << 31)) & ((d >>> 2) | (nextD << 30)) & ((d >>> 3) | (nextD << 29));
    while (starts !== 0) {
      found.ibans.push((w << 5) + 31 - Math.clz32(starts & -starts));
      starts &= starts - 1;
    }
  }
  return found;
}

function findNumbers(text: string, numbers: readonly number[], out: PiiMatch[]): void {
  for (let k = 0; k < numbers.length; k += 2) {
    // A leading "+" or "(" belongs to the number.
    const start = numbers[k]!;
    const from = start > 0 && (text.charCodeAt(start - 1) === 0x2b || text.charCodeAt(start - 1) === 0x28) ? start - 1 : start;
    scanNumbers(text, from, numbers[k + 1]!, out);
  }
}

function scanNumbers(text: string, from: number, to: number, out: PiiMatch[]): void {
  const n = to;
  for (let i = from; i < n; i++) {
    const u = text.charCodeAt(i);
    const opener = u === 0x2b /* + */ || u === 0x28; /* ( */
    if (!isDigit(u) && !(opener && isDigit(text.charCodeAt(i + 1)))) continue;
    const before = i > 0 ? text.charCodeAt(i - 1) : 0;
    // A sign where a token starts (`-4111…`, ` +4111…`) starts a number; after a word, a digit or a dot
    // (`ref-4539…` an id, `1-2` a range, `0.-4`) it is part of a longer token.
    const ahead = i > 1 ? text.charCodeAt(i - 2) : 0;
    const signed = isDigit(u) && (before === 0x2d || before === 0x2b) && !isAlnum(ahead) && ahead !== 0x2e;
    if (i > 0 && !signed && (isAlnum(before) || (isDigit(u) && (before === 0x2e || before === 0x2d || before === 0x2b)))) {
      // Inside a longer token (an id, a version, a decimal): skip the rest of it, up to a blank (what
      // follows one is a number of its own: `v1.2 4539…`, red team M, M9).
      while (i + 1 < n && (isAlnum(text.charCodeAt(i + 1)) || (isSeparator(text.charCodeAt(i + 1)) && text.charCodeAt(i + 1) !== 0x20))) i++;
      continue;
    }
    // Cluster: digits, with runs of at most two separators between them.
    let end = i + 1;
    let last = isDigit(u) ? i : -1;
    let gap = 0;
    while (end < n && end - i < 40) {
      const c = text.charCodeAt(end);
      if (isDigit(c)) {
        last = end;
        gap = 0;
      } else if (isSeparator(c) && gap < 2) gap++;
      else break;
      end++;
    }
    if (last < 0) continue;
    const stop = text.charCodeAt(last + 1);
    // A digit cluster glued to letters is an identifier, not a number.
    if (last + 1 < n && (isUpper(stop) || (stop >= 0x61 && stop <= 0x7a))) {
      i = last;
      continue;
    }
    // Every kind needs nine digits or more: count them before building anything.
    let digitCount = 0;
    for (let k = i; k <= last; k++) if (isDigit(text.charCodeAt(k))) digitCount++;
    if (digitCount < 9) {
      i = last;
      continue;
    }
    let cluster = text.slice(i, last + 1);
    if (u === 0x28 && !cluster.includes(')')) cluster = cluster.slice(1);
    const start = last + 1 - cluster.length;
    const digits = cluster.replace(/\D/g, '');
    const seps = cluster.replace(/[\d+()]/g, '');
    const sameSeparators = seps.length === 0 || [...seps].every((c) => c === seps[0]);
    const kind = digits.length >= 9 ? classifyCluster(cluster, digits, sameSeparators) : undefined;
    if (kind) out.push({ kind, start, end: last + 1 });
    else if (!scanWindows(text, start, last + 1, out)) phoneWindows(text, start, last + 1, out);
    i = last;
  }
}

/** Separators a window may start after: a blank, `/`, `(`, `)`. */
const WINDOW_OPENERS: ReadonlySet<number> = new Set([0x20, 0x2f, 0x28, 0x29]);
/** At most this many groups in a window: a 19-digit card in groups of four. */
const MAX_WINDOW_GROUPS = 5;

/** Whether the Verhoeff check of the digits of text[from, to) holds (separators skipped). */
function verhoeffAt(text: string, from: number, to: number): boolean {
  let c = 0;
  let k = 0;
  for (let i = to - 1; i >= from; i--) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) continue;
    c = VERHOEFF_D[c]![VERHOEFF_P[k++ % 8]![d]!]!;
  }
  return c === 0;
}

/**
 * Prefix sums of a cluster's digits for the Luhn check of any run of them in constant time: per parity
 * of the digit's index, the sums of the digits as they are and doubled (Luhn's doubling, 2d − 9 past 9).
 * A run's rightmost digit is never doubled, so the digits of its parity count plain, the others doubled.
 */
const PLAIN_EVEN = new Int32Array(41);
const PLAIN_ODD = new Int32Array(41);
const DOUBLED_EVEN = new Int32Array(41);
const DOUBLED_ODD = new Int32Array(41);

/** Fills the prefix sums for the digits of text[from, to) (at most 40). */
function luhnPrefixes(text: string, from: number, to: number): void {
  let t = 0;
  for (let k = from; k < to && t < 40; k++) {
    const d = text.charCodeAt(k) - 48;
    if (d < 0 || d > 9) continue;
    const twice = d > 4 ? 2 * d - 9 : 2 * d;
    const even = (t & 1) === 0;
    PLAIN_EVEN[t + 1] = PLAIN_EVEN[t]! + (even ? d : 0);
    PLAIN_ODD[t + 1] = PLAIN_ODD[t]! + (even ? 0 : d);
    DOUBLED_EVEN[t + 1] = DOUBLED_EVEN[t]! + (even ? twice : 0);
    DOUBLED_ODD[t + 1] = DOUBLED_ODD[t]! + (even ? 0 : twice);
    t++;
  }
}

/** Whether the Luhn check holds for the cluster's digits [i, j] (indices among its digits, j the rightmost). */
function luhnOfDigits(i: number, j: number): boolean {
  const sum = (j & 1) === 0
    ? PLAIN_EVEN[j + 1]! - PLAIN_EVEN[i]! + DOUBLED_ODD[j + 1]! - DOUBLED_ODD[i]!
    : PLAIN_ODD[j + 1]! - PLAIN_ODD[i]! + DOUBLED_EVEN[j + 1]! - DOUBLED_EVEN[i]!;
  return sum % 10 === 0;
}

/** A cluster's digit groups: start, end and index of the first digit among the cluster's digits (at most 20 groups in 40 units). */
const GROUP_START = new Int32Array(21);
const GROUP_END = new Int32Array(21);
const GROUP_DIGIT = new Int32Array(21);

/**
 * The values inside a cluster that did not classify whole, at their own boundaries: a card followed by
 * its expiry or another number (`4111111111111111 12/27`, two cards in a row), an SSN followed by a
 * year. Windows of whole digit groups (a value is never cut out of a run of digits) in the shapes the
 * kinds have — one 13–19 digit group or groups of 4–6 digits adding up to 13–19 (a card), 3-2-4 (SSN),
 * 3-3-3 (SIN), 3-3-4 (NHS), 4-4-4 (Aadhaar) — with one and the same separator between groups. Shapes
 * are told from the group lengths and the checksums computed in place, so a string is built only for a
 * window whose checksum holds (about one in ten); `classifyCluster` then decides.
 */
function scanWindows(text: string, start: number, end: number, out: PiiMatch[]): boolean {
  const before = out.length;
  windows(text, start, end, out);
  return out.length > before;
}

/**
 * A North American phone number beside other numbers in one cluster (`room 12 (415) 555-2671`, `(415)
 * 555-2671 12`, red team M, M9): each group after a blank (or a `(` that opens one) is tried as the
 * start of the number's layout, up to its end. Read only where the cluster held nothing else.
 */
function phoneWindows(text: string, start: number, end: number, out: PiiMatch[]): void {
  for (let from = start; from < end; from++) {
    const u = text.charCodeAt(from);
    if (!(isDigit(u) || u === 0x28) || (from > start && text.charCodeAt(from - 1) !== 0x20)) continue;
    NANP_AT.lastIndex = from;
    const m = NANP_AT.exec(text);
    if (!m || m.index + m[0].length > end || isDigit(text.charCodeAt(m.index + m[0].length))) continue;
    if (from === start && m[0].length === end - start) continue;
    if (phoneParser()(m[0], 'US')?.isValid()) {
      out.push({ kind: 'phone', start: from, end: from + m[0].length });
      from += m[0].length;
    }
  }
}

function windows(text: string, start: number, end: number, out: PiiMatch[]): void {
  let count = 0;
  let longest = 0;
  let t = 0;
  for (let k = start; k < end && count < 20; ) {
    if (!isDigit(text.charCodeAt(k))) {
      k++;
      continue;
    }
    const g = k;
    while (k < end && isDigit(text.charCodeAt(k))) k++;
    GROUP_START[count] = g;
    GROUP_END[count] = k;
    GROUP_DIGIT[count] = t;
    t += k - g;
    count++;
    if (k - g > longest) longest = k - g;
  }
  // Every shape opens with, or holds, a group of three digits or more.
  if (longest < 3) return;
  let prefixes = false;
  // One group is the cluster itself unless a sign or bracket opened it (`+4111…`).
  if (count < 2 && isDigit(text.charCodeAt(start))) return;
  for (let a = 0; a < count; a++) {
    // A window starts after a blank, `/` or a bracket, never after `.` or `-` (`0.4111…` is a decimal,
    // `1-4111…` a range or an id), and ends anywhere but before `.`.
    const from = GROUP_START[a]!;
    if (a > 0 && !WINDOW_OPENERS.has(text.charCodeAt(from - 1))) continue;
    // What the first digit allows: a card network's prefix (2–6), an Aadhaar number (2–9), a SIN (not 0
    // or 8), an SSN's area (not 9), an NHS number (any). A start that allows only NHS needs a 3-digit group.
    const first = text.charCodeAt(from) - 48;
    if (first < 2 && GROUP_END[a]! - from !== 3) continue;
    const sep = a + 1 < count && GROUP_START[a + 1]! - GROUP_END[a]! === 1 ? text.charCodeAt(GROUP_END[a]!) : -1;
    let digits = 0;
    let allCardGroups = true;
    let shape = 0; // the group lengths so far, one decimal digit each (3-2-4 is 324)
    for (let b = a; b < count && b - a < MAX_WINDOW_GROUPS; b++) {
      const len = GROUP_END[b]! - GROUP_START[b]!;
      digits += len;
      if (digits > 19) break;
      if (b > a && (GROUP_START[b]! - GROUP_END[b - 1]! !== 1 || text.charCodeAt(GROUP_END[b - 1]!) !== sep)) break;
      allCardGroups &&= len >= 4 && len <= 6;
      shape = shape * 10 + Math.min(len, 9);
      const to = GROUP_END[b]!;
      const card = digits >= 13 && first >= 2 && first <= 6 && (b === a || allCardGroups);
      const shaped = (shape === 324 && first !== 9) || (shape === 333 && first !== 0 && first !== 8) || shape === 334 || (shape === 444 && first >= 2);
      // A number whose fraction is zeros is its whole part (`4539…6467.00`, a float's `.0`): that card.
      const whole = card && b === a && b + 2 === count && text.charCodeAt(to) === 0x2e && GROUP_START[b + 1] === to + 1 && /^0+$/.test(text.slice(to + 1, GROUP_END[b + 1]));
      if ((!card && !shaped) || (b < count - 1 && text.charCodeAt(to) === 0x2e && !whole)) continue;
      // Which checksum each candidate needs first: Luhn for a card and a SIN, Verhoeff for Aadhaar; an
      // SSN and an NHS number are checked by classifyCluster alone.
      if ((card || shape === 333) && !prefixes) {
        luhnPrefixes(text, start, end);
        prefixes = true;
      }
      const luhnOk = (card || shape === 333) && luhnOfDigits(GROUP_DIGIT[a]!, GROUP_DIGIT[b]! + (to - GROUP_START[b]!) - 1);
      const worth = (card && luhnOk) || (shape === 333 && luhnOk) || (shape === 444 && verhoeffAt(text, from, to)) || shape === 324 || shape === 334;
      if (!worth) continue;
      const cluster = text.slice(from, to);
      const kind = classifyCluster(cluster, cluster.replace(/\D/g, ''), true);
      if (kind) {
        out.push({ kind, start: from, end: to });
        a = b;
        break;
      }
    }
  }
}

/** Whether the `:` at `colon` separates a URL's user from its password (`//user:password@host`). */
function userInfo(text: string, colon: number): boolean {
  let k = colon;
  while (k > 0 && colon - k < 256) {
    const u = text.charCodeAt(k - 1);
    if (u === 0x2f /* / */) return k >= 2 && text.charCodeAt(k - 2) === 0x2f;
    if (u === 0x40 /* @ */ || u === 0x3a /* : */ || u <= 0x20) return false;
    k--;
  }
  return false;
}

function findEmails(text: string, out: PiiMatch[]): void {
  const local = (u: number): boolean => isAlnum(u) || u === 0x2e || u === 0x5f || u === 0x25 || u === 0x2b || u === 0x2d;
  const domain = (u: number): boolean => isAlnum(u) || u === 0x2e || u === 0x2d;
  let from = 0;
  let floor = 0;
  for (;;) {
    const at = text.indexOf('@', from);
    if (at < 0) return;
    from = at + 1;
    let s = at;
    while (s > floor && at - s < 64 && local(text.charCodeAt(s - 1))) s--;
    let e = at + 1;
    while (e < text.length && e - at < 254 && domain(text.charCodeAt(e))) e++;
    while (e > at + 1 && (text[e - 1] === '.' || text[e - 1] === '-')) e--;
    // user:password@host in a URL (after `//`) is a credential (the secret rules' business), not an
    // address; after any other `word:` — `mailto:`, `sip:`, `From:` — it is an address, as is a bare
    // user@host after `//` (mem://jo@example.org).
    if (s === at || text[s] === '.' || text[at - 1] === '.' || (text[s - 1] === ':' && userInfo(text, s - 1))) continue;
    const host = text.slice(at + 1, e);
    const dot = host.lastIndexOf('.');
    if (dot <= 0 || host.includes('..')) continue;
    const tld = host.slice(dot + 1);
    if (tld.length < 2 || !/^[A-Za-z]+$/.test(tld)) continue;
    out.push({ kind: 'email', start: s, end: e });
    floor = e;
    from = e;
  }
}

const IBAN_START = /^[A-Z]{2}\d{2}/;

function findIbans(text: string, starts: readonly number[], out: PiiMatch[]): void {
  const n = text.length;
  let floor = 0;
  for (const i of starts) {
    if (i < floor || (i > 0 && isAlnum(text.charCodeAt(i - 1))) || !IBAN_START.test(text.slice(i, i + 4))) continue;
    const length = IBAN_LENGTH[text.slice(i, i + 2)];
    if (length === undefined) continue;
    // Compact, or in groups of four separated by single spaces.
    let compact = '';
    let k = i;
    while (k < n && compact.length < length) {
      const c = text.charCodeAt(k);
      if (isAlnum(c)) compact += text[k]!.toUpperCase();
      else if (c === 0x20 && compact.length % 4 === 0 && k + 1 < n && isAlnum(text.charCodeAt(k + 1))) {
        // a group separator
      } else break;
      k++;
    }
    if (compact.length !== length || (k < n && isAlnum(text.charCodeAt(k)))) continue;
    if (ibanValid(compact)) {
      out.push({ kind: 'iban', start: i, end: k });
      floor = k;
    }
  }
}

function findLetterIds(text: string, digitRuns: readonly number[], out: PiiMatch[]): void {
  const n = text.length;
  let floor = 0;
  for (let k = 0; k < digitRuns.length; k += 2) {
    // An id starts at the run or one unit before it (the NIE letter); only a start not glued to a
    // letter or digit counts, so within a run only its first unit can start one.
    const end = digitRuns[k + 1]!;
    for (let i = Math.max(floor, digitRuns[k]! - 1); i < end; i++) {
      if (i > 0 && isAlnum(text.charCodeAt(i - 1))) continue;
      // es-dni / NIE: 8 units then a letter, alone.
      const dni = text.slice(i, i + 9);
      if (/^[0-9XYZ]\d{7}[A-Z]$/.test(dni) && !(i + 9 < n && isAlnum(text.charCodeAt(i + 9))) && dniValid(dni)) {
        out.push({ kind: 'es-dni', start: i, end: i + 9 });
        floor = i + 9;
        break;
      }
      // cn-resident-id: 17 digits and a digit or X, alone.
      const cn = text.slice(i, i + 18);
      if (/^\d{17}[\dX]$/.test(cn) && !(i + 18 < n && isAlnum(text.charCodeAt(i + 18))) && cnIdValid(cn)) {
        out.push({ kind: 'cn-resident-id', start: i, end: i + 18 });
        floor = i + 18;
        break;
      }
    }
  }
}

/**
 * Personal data of the `kinds` asked for, in text order. `bytes`: the text as Latin-1 bytes, when the
 * caller has them already (`Buffer.from(text, 'latin1')`); `found`: their `regions`, likewise.
 */
export function findPii(text: string, kinds: ReadonlySet<PiiKind>, bytes: Uint8Array = Buffer.from(text, 'latin1'), found: Regions = regions(bytes, text.length)): PiiMatch[] {
  const out: PiiMatch[] = [];
  if (kinds.has('email') && text.includes('@')) findEmails(text, out);
  if (kinds.has('iban')) findIbans(text, found.ibans, out);
  if (kinds.has('es-dni') || kinds.has('cn-resident-id')) findLetterIds(text, found.digitRuns, out);
  if (NUMBER_KINDS.some((k) => kinds.has(k))) findNumbers(text, found.numbers, out);
  return out.filter((m) => kinds.has(m.kind)).sort((a, b) => a.start - b.start);
}
