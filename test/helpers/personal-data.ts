/**
 * Personal-data test values with valid checksums (and near misses with invalid ones), computed at run
 * time from seeds so that no real person's data is committed.
 */
import { luhn } from '../../src/dlp/pii.ts';

/** Appends the Luhn check digit to `body`. */
export function withLuhn(body: string): string {
  for (let d = 0; d <= 9; d++) if (luhn(body + d)) return body + d;
  throw new Error('unreachable');
}

/** An IBAN for `country` and `bban` with its mod-97 check digits. */
export function iban(country: string, bban: string): string {
  const numeric = (bban + country + '00').replace(/[A-Z]/g, (c) => String(c.charCodeAt(0) - 55));
  let remainder = 0;
  for (const c of numeric) remainder = (remainder * 10 + Number(c)) % 97;
  return `${country}${String(98 - remainder).padStart(2, '0')}${bban}`;
}

/** Changes the last digit of a numbered value so that its checksum fails. */
export function breakCheck(value: string): string {
  const last = value.at(-1)!;
  return value.slice(0, -1) + (last === '9' ? '8' : String(Number(last) + 1));
}

export interface PersonalData {
  email: string;
  phone: string;
  card: string;
  iban: string;
  ssn: string;
}

export function fakePersonalData(seed = 7): PersonalData {
  const digits = (n: number) => Array.from({ length: n }, (_, i) => String((i * seed + 3) % 10)).join('');
  const card = withLuhn(`4${digits(14)}`);
  return {
    email: `jo.tester${seed}@example.org`,
    phone: `+1 415 555 ${2600 + (seed % 100)}`,
    card: `${card.slice(0, 4)} ${card.slice(4, 8)} ${card.slice(8, 12)} ${card.slice(12)}`,
    iban: iban('DE', `3704004405320${digits(5)}`),
    ssn: `${String(123 + seed).padStart(3, '0')}-${String(45 + seed).padStart(2, '0').slice(0, 2)}-${String(6789 + seed).slice(0, 4)}`,
  };
}
