/**
 * The `dlp` section of the configuration (names fixed by issue 15, so operators and tooling can rely
 * on them):
 *
 *   dlp:
 *     results:   { secrets: mask, pii: mask, injection: flag }   # mask | block | alert | off (injection: flag | wrap | block | off)
 *     arguments: { secrets: block, pii: off, fields: [password] } # block | alert | off
 *     patterns:  [ { name: canary, regex: "CANARY-[0-9]{6}", action: block } ]
 *     servers:   { files: { results: { pii: off }, tools: { read_file: { results: { secrets: block } } } } }
 *
 * Absent, the defaults in `DLP_DEFAULTS` (./actions.ts) hold: secrets in results are masked and secret-shaped values
 * sent to tools that can reach outside are refused; personal data and injected instructions are not
 * looked for until configured.
 */
import * as z from 'zod';
import { ARGUMENT_ACTIONS, INJECTION_ACTIONS, RESULT_ACTIONS } from './actions.ts';
import { PII_KINDS } from './pii.ts';


const resultAction = z.enum(RESULT_ACTIONS);
const injectionAction = z.enum(INJECTION_ACTIONS);
const argumentAction = z.enum(ARGUMENT_ACTIONS);

const results = z.strictObject({
  secrets: resultAction.optional().describe('Credentials, keys and tokens (gitleaks and Nosey Parker rules)'),
  pii: resultAction.optional().describe('Personal data: e-mail, phone, payment card (Luhn), IBAN (mod 97), US SSN, national ids with checksums'),
  injection: injectionAction.optional().describe('Instructions aimed at the model, tool-call requests, hidden Unicode'),
  patterns: resultAction.optional().describe('Overrides the action of every administrator pattern (per server or tool)'),
});

const argumentsSection = z.strictObject({
  secrets: argumentAction.optional().describe('Secret-shaped values (and the configured fields) in the arguments of a tool that can reach outside'),
  pii: argumentAction.optional().describe('Personal data (the piiKinds) in the arguments of a tool that can reach outside (default off)'),
  fields: z.array(z.string().min(1)).optional().describe('Argument names whose values are sensitive whatever they look like (matched at any depth, ignoring case, invisible characters, look-alikes and surrounding spaces)'),
});

const override = z.strictObject({ results: results.optional(), arguments: argumentsSection.optional() });

export const PATTERN_NAME = /^[a-z0-9][a-z0-9_.-]{0,63}$/;

const pattern = z
  .strictObject({
    name: z.string().regex(PATTERN_NAME, 'must be 1-64 characters of a-z 0-9 _ . - starting with a letter or digit (it is the mask label)'),
    regex: z.string().min(1).max(4096).optional().describe('ECMAScript regular expression, run in linear time (no backreferences or lookaround)'),
    flags: z.string().regex(/^[imsu]*$/, 'only the flags i, m, s, u').optional(),
    value: z.string().min(1).optional().describe('An exact value (a canary), or env:NAME / file:/path to read it from'),
    values: z.array(z.string().min(1)).min(1).optional().describe('Several exact values (each may be env:/file:)'),
    action: resultAction.default('block'),
    arguments: z.boolean().default(true).describe('Also refuse this pattern in the arguments of tools that can reach outside (with arguments.secrets)'),
  })
  .refine((p) => [p.regex, p.value, p.values].filter((v) => v !== undefined).length === 1, { message: 'give exactly one of regex, value or values' });

export const dlpSchema = z
  .strictObject({
    results: results.prefault({}),
    arguments: argumentsSection.prefault({}),
    patterns: z.array(pattern).default([]),
    piiKinds: z.array(z.enum(PII_KINDS)).min(1).optional().describe(`Which kinds of personal data count (default: all of ${PII_KINDS.join(', ')})`),
    servers: z
      .record(z.string(), override.extend({ tools: z.record(z.string().min(1), override).optional().describe('Per tool (names or globs) of this server') }))
      .default({})
      .describe('Per-server overrides'),
  })
  .describe('Data-loss prevention on everything between clients and servers (docs/dlp.md)');

export type DlpConfig = z.output<typeof dlpSchema>;
export type DlpPatternConfig = DlpConfig['patterns'][number];
