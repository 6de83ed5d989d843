import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { holdsBuiltInSecret } from '../../src/dlp/create.ts';
import { LinearRegex } from '../../src/dlp/regex/automaton.ts';
import { OWN_SECRET_RULES } from '../../src/dlp/rules/own-secret-rules.ts';
import { SECRET_RULES } from '../../src/dlp/rules/secret-rules.ts';
import { secretShapes } from '../helpers/secrets.ts';

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const pick = (n: number, alphabet = ALNUM): string => Array.from(randomBytes(n), (b) => alphabet[b % alphabet.length]).join('');

/** Each shape the audit trail's own list once held (src/audit/redact.ts before 0.2), at the edges of its range. */
const SHAPE_MAKERS: Record<string, Array<() => string>> = {
  'AWS access key id': [() => `AKIA${pick(16, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789')}`],
  'GitHub token': ['p', 'o', 'u', 's', 'r'].map((c) => () => `gh${c}_${pick(36)}`),
  'GitHub fine-grained token': [() => `github_pat_${pick(22, `${ALNUM}_`)}`, () => `github_pat_${pick(82, `${ALNUM}_`)}`],
  'Slack token': ['b', 'a', 'p', 'r', 's'].flatMap((c) => [() => `xox${c}-${pick(10, `${ALNUM}-`)}`, () => `xox${c}-${pick(30)}`]),
  'Stripe key': ['sk_live_', 'sk_test_', 'rk_live_', 'rk_test_'].map((p) => () => `${p}${pick(16)}`),
  'sk- key': [() => `sk-${pick(20, `${ALNUM}_-`)}`, () => `sk-ant-api03-${pick(80, `${ALNUM}_-`)}`, () => `sk-proj-${pick(60, `${ALNUM}_-`)}`, () => `sk-${pick(48)}`],
  'Google API key': [() => `AIza${pick(35, `${ALNUM}_-`)}`],
  JWT: [() => `eyJ${pick(8, `${ALNUM}_-`)}.eyJ${pick(8, `${ALNUM}_-`)}.${pick(8, `${ALNUM}_-`)}`, () => `eyJ${pick(36)}.eyJ${pick(80)}.${pick(43)}`],
  'private key header': ['', 'RSA ', 'EC ', 'OPENSSH ', 'ENCRYPTED '].map((kind) => () => `-----BEGIN ${kind}${['PRIVATE', 'KEY-----'].join(' ')}`),
  'bearer token': [() => `Bearer ${pick(16)}`, () => `bearer  ${pick(40, `${ALNUM}._~+/-`)}==`],
  'URL credentials': [() => `https://user:${pick(8)}@example.com/`, () => `ftp://bob:${pick(12)}@files.example/`, () => `redis://default:${pick(20)}@cache:6379`],
};

describe('the project’s own secret rules', () => {
  it('give the anchors and reach src/dlp/regex computes for each pattern, with ids of their own', () => {
    const generated = new Set(SECRET_RULES.map((r) => r.id));
    for (const rule of OWN_SECRET_RULES) {
      assert.match(rule.id, /^portcullis:[a-z0-9-]+$/);
      assert.ok(!generated.has(rule.id));
      const regex = new LinearRegex(rule.pattern);
      regex.compile();
      assert.deepEqual({ anchors: rule.anchors, before: rule.before, after: rule.after }, { anchors: regex.anchors?.literals, before: Number.isFinite(regex.anchors?.before) ? regex.anchors?.before : null, after: Number.isFinite(regex.anchors?.after) ? regex.anchors?.after : null }, rule.id);
      assert.ok(rule.group <= regex.captures, rule.id);
    }
  });

  it('let DLP find every shape the audit trail’s own list found, alone and inside text', () => {
    const missed: string[] = [];
    for (const [shape, makers] of Object.entries(SHAPE_MAKERS)) {
      for (const make of makers) {
        for (let k = 0; k < 25; k++) {
          const value = make();
          for (const text of [value, `config = "${value}"; next`, `${value}\n`]) if (!holdsBuiltInSecret(text)) missed.push(`${shape}: ${value.slice(0, 12)}…`);
        }
      }
    }
    for (const [name, { text }] of Object.entries(secretShapes())) if (!holdsBuiltInSecret(text)) missed.push(name);
    assert.deepEqual(missed, []);
  });

  it('leave ordinary text alone', () => {
    for (const text of ['ask-me-anything about the task-management project', 'see https://example.com/path?x=1 and ftp://files.example/pub', 'the Bearer scheme (RFC 6750)', '-----BEGIN PUBLIC KEY-----', 'xoxo hugs', 'eyJ.eyJ.x']) {
      assert.equal(holdsBuiltInSecret(text), false, text);
    }
  });
});
