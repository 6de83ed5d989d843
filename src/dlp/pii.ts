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

/** The kind of a cluster of digits and separators, when it is personal data. */
function classifyCluster(cluster: string, digits: string, sameSeparators: boolean): PiiKind | undefined {
  const n = digits.length;
  if (n >= 13 && n <= 19 && sameSeparators && /^[\d -]+$/.test(cluster) && cardBrand(digits) && luhn(digits)) return 'payment-card';
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

const SEPARATORS = ' -./()';
const NUMBER_KINDS: readonly PiiKind[] = ['payment-card', 'us-ssn', 'phone', 'ca-sin', 'br-cpf', 'in-aadhaar', 'uk-nhs'];

/*
 * Where to look, found by fixed native expressions of a shape that cannot backtrack more than a few
 * units (one class run, or fixed lengths): the scanners below then work only there.
 */
const NUMBER_RUN = /[+(]?\d[\d ().\/-]{7,}/g;
const IBAN_START = /[A-Z]{2}\d{2}/g;
const LETTER_ID = /[0-9XYZ]\d{7}[A-Z]|\d{17}[\dX]/g;

function findNumbers(text: string, out: PiiMatch[]): void {
  NUMBER_RUN.lastIndex = 0;
  for (let m = NUMBER_RUN.exec(text); m; m = NUMBER_RUN.exec(text)) scanNumbers(text, m.index, m.index + m[0].length, out);
}

function scanNumbers(text: string, from: number, to: number, out: PiiMatch[]): void {
  const n = to;
  for (let i = from; i < n; i++) {
    const u = text.charCodeAt(i);
    const opener = u === 0x2b /* + */ || u === 0x28; /* ( */
    if (!isDigit(u) && !(opener && isDigit(text.charCodeAt(i + 1)))) continue;
    const before = i > 0 ? text.charCodeAt(i - 1) : 0;
    if (i > 0 && (isAlnum(before) || (isDigit(u) && (before === 0x2e || before === 0x2d || before === 0x2b)))) {
      // Inside a longer token (an id, a version, a decimal): skip the rest of it.
      while (i + 1 < n && (isAlnum(text.charCodeAt(i + 1)) || SEPARATORS.includes(text[i + 1]!))) i++;
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
      } else if (SEPARATORS.includes(text[end]!) && gap < 2) gap++;
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
    let cluster = text.slice(i, last + 1);
    if (u === 0x28 && !cluster.includes(')')) cluster = cluster.slice(1);
    const start = last + 1 - cluster.length;
    const digits = cluster.replace(/\D/g, '');
    const seps = cluster.replace(/[\d+()]/g, '');
    const sameSeparators = seps.length === 0 || [...seps].every((c) => c === seps[0]);
    const kind = digits.length >= 9 ? classifyCluster(cluster, digits, sameSeparators) : undefined;
    if (kind) out.push({ kind, start, end: last + 1 });
    i = last;
  }
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
    // user:password@host in a URL is a credential (the secret rules' business), not an address;
    // a bare user@host after `//` (mem://jo@example.org) is an address like any other.
    if (s === at || text[s] === '.' || text[at - 1] === '.' || text[s - 1] === ':') continue;
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

function findIbans(text: string, out: PiiMatch[]): void {
  const n = text.length;
  IBAN_START.lastIndex = 0;
  for (let m = IBAN_START.exec(text); m; m = IBAN_START.exec(text)) {
    const i = m.index;
    IBAN_START.lastIndex = i + 1;
    if (i > 0 && isAlnum(text.charCodeAt(i - 1))) continue;
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
      IBAN_START.lastIndex = k;
    }
  }
}

function findLetterIds(text: string, out: PiiMatch[]): void {
  const n = text.length;
  LETTER_ID.lastIndex = 0;
  for (let m = LETTER_ID.exec(text); m; m = LETTER_ID.exec(text)) {
    const i = m.index;
    LETTER_ID.lastIndex = i + 1;
    if (i > 0 && isAlnum(text.charCodeAt(i - 1))) continue;
    // es-dni / NIE: 8 units then a letter, alone.
    const dni = text.slice(i, i + 9);
    if (/^[0-9XYZ]\d{7}[A-Z]$/.test(dni) && !(i + 9 < n && isAlnum(text.charCodeAt(i + 9))) && dniValid(dni)) {
      out.push({ kind: 'es-dni', start: i, end: i + 9 });
      LETTER_ID.lastIndex = i + 9;
      continue;
    }
    // cn-resident-id: 17 digits and a digit or X, alone.
    const cn = text.slice(i, i + 18);
    if (/^\d{17}[\dX]$/.test(cn) && !(i + 18 < n && isAlnum(text.charCodeAt(i + 18))) && cnIdValid(cn)) {
      out.push({ kind: 'cn-resident-id', start: i, end: i + 18 });
      LETTER_ID.lastIndex = i + 18;
    }
  }
}

/** Personal data of the `kinds` asked for, in text order. */
export function findPii(text: string, kinds: ReadonlySet<PiiKind>): PiiMatch[] {
  const out: PiiMatch[] = [];
  if (kinds.has('email') && text.includes('@')) findEmails(text, out);
  if (kinds.has('iban')) findIbans(text, out);
  if (kinds.has('es-dni') || kinds.has('cn-resident-id')) findLetterIds(text, out);
  if (NUMBER_KINDS.some((k) => kinds.has(k))) findNumbers(text, out);
  return out.filter((m) => kinds.has(m.kind)).sort((a, b) => a.start - b.start);
}
