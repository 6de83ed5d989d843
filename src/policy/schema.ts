/**
 * The `policy` section of the configuration: ordered rules (allow / deny / approve; deny overrides;
 * default deny), the scopes and attested annotations of tools, rate limits, concurrency and size limits.
 * What the schema cannot see (CEL syntax and types, attributes a rule's phase cannot have, servers that do
 * not exist) is checked by `compilePolicy`, which reports problems with the same kind of path.
 */
import * as z from 'zod';
import { OWN_ISSUER } from '../auth/principal.ts';
import { DAYS } from './days.ts';
import { ruleApprovalSchema } from '../approvals/schema.ts';

const glob = z.string().min(1).max(256).describe('A name or a glob (* any run, ? one character)');
const globs = z.array(glob).min(1);

export const RULE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;

const annotationFlags = {
  readOnly: z.boolean().optional().describe('readOnlyHint'),
  destructive: z.boolean().optional().describe('destructiveHint'),
  idempotent: z.boolean().optional().describe('idempotentHint'),
  openWorld: z.boolean().optional().describe('openWorldHint'),
  egress: z.boolean().optional().describe('Can send data outside (default: openWorld); attested true, secret-shaped arguments are refused even when the server says openWorldHint: false (dlp.arguments)'),
  private: z.boolean().optional().describe('Reads private data (default: false): a toxic-flow label (docs/monitor.md)'),
  untrusted: z.boolean().optional().describe('Brings in outside content (default: openWorld): a toxic-flow label (docs/monitor.md)'),
};


const valueConstraint = z.strictObject({
  type: z.enum(['string', 'number', 'integer', 'boolean']).optional(),
  required: z.boolean().default(false),
  enum: z.array(z.union([z.string(), z.number(), z.boolean()])).min(1).optional(),
  pattern: z.string().min(1).optional().describe('Regular expression (ECMAScript syntax, run in linear time: no backreferences or lookaround) the whole string must match'),
  minLength: z.number().int().min(0).optional(),
  maxLength: z.number().int().min(0).optional(),
  min: z.number().optional(),
  max: z.number().optional(),
});

export const guardsSchema = z
  .strictObject({
    paths: z
      .strictObject({
        args: z.array(z.string().min(1)).min(1).describe('Arguments holding a path or a list of paths (missing ones are skipped)'),
        roots: z.array(z.string().min(1)).min(1).describe('Directories the paths must stay in (after .., ~ and symlinks are resolved; relative roots are taken from the gateway\'s working directory, like a server\'s own arguments)'),
        allowRelative: z.boolean().default(false).describe('Resolve relative paths against the first root instead of refusing them'),
        forward: z
          .enum(['as-sent', 'resolved'])
          .default('as-sent')
          .describe('resolved: the server receives the canonical path the guard judged (absolute, no .., no symlink) instead of what the caller sent'),
      })
      .optional(),
    urls: z
      .strictObject({
        args: z.array(z.string().min(1)).min(1),
        schemes: z.array(z.string().regex(/^[a-z][a-z0-9+.-]*$/, 'must be a lower-case URL scheme like https')).default(['https']),
        hosts: z.array(glob).optional().describe('Allowed host names (globs); absent: any host with a public address'),
        allowPrivate: z
          .boolean()
          .default(false)
          .describe('Allow loopback, private, link-local and metadata addresses (refused by default, after DNS resolution)'),
        allowUserinfo: z.boolean().default(false).describe('Accept URLs carrying user information (user:password@host); refused by default, since parsers disagree on them'),
      })
      .optional(),
    values: z.record(z.string().min(1), valueConstraint).optional().describe('Per-argument constraints'),
    maxBytes: z.number().int().min(2).optional().describe('Largest JSON size of the arguments'),
  })
  .describe('Argument guards: an allow or approve rule matches only if every guard passes');

export const ruleSchema = z.strictObject({
  name: z.string().regex(RULE_NAME, 'must be 1-64 characters of A-Z a-z 0-9 _ . : - starting with a letter or digit'),
  effect: z.enum(['allow', 'deny', 'approve']),
  description: z.string().max(1000).optional(),
  on: z
    .array(z.enum(['call', 'list']))
    .min(1)
    .default(['call', 'list'])
    .describe('call: tools/call, prompts/get, resources/read; list: which items tools/list, prompts/list and resources/list show'),
  servers: globs.default(['*']),
  tools: globs.optional().describe('Tool names; absent with prompts/resources also absent: everything on the servers'),
  prompts: globs.optional(),
  resources: globs.optional().describe('Resource URIs'),
  methods: globs
    .optional()
    .describe('Custom JSON-RPC methods (not defined by MCP) this rule lets through on /mcp/<server>; only rules that name a method here match it'),
  principal: z
    .strictObject({
      subjects: globs.optional(),
      agents: globs.optional(),
      issuers: z
        .array(z.string().min(1))
        .min(1)
        .optional()
        .describe(`Who vouched for the subject and agent names: an external issuer's \`iss\`, exactly, or "${OWN_ISSUER}" (the gateway's own names: embedded sign-in, API keys, local callers). Required on allow and approve rules that select by subjects or agents while names come from more than one of these`),
      roles: z.array(z.string().min(1)).min(1).optional().describe('Any of these roles'),
      scopes: z.array(z.string().min(1)).min(1).optional().describe('All of these scopes'),
    })
    .optional(),
  tasks: globs.optional().describe('Task labels the agent declared (_meta "dev.portcullis/task" or the Portcullis-Task header); self-declared, so an allow or approve rule needs a principal selector too'),
  annotations: z.strictObject(annotationFlags).optional().describe('Tool annotations (the admin\'s attestation in policy.tools wins over the server\'s)'),
  time: z
    .strictObject({
      days: z.array(z.enum(DAYS)).min(1).optional(),
      hours: z
        .string()
        .regex(/^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-4]):[0-5]\d$/, 'must be HH:MM-HH:MM')
        .optional(),
      timezone: z.string().min(1).default('UTC'),
    })
    .optional(),
  when: z.string().min(1).max(4096).optional().describe('CEL condition over args, principal, tool, task: an allow or approve rule matches only if it is exactly true; a deny rule denies unless it is exactly false'),
  guards: guardsSchema.optional(),
  reason: z.string().max(500).optional().describe('Told to the caller when this rule decides'),
  approval: ruleApprovalSchema.optional(),
});

export const policySchema = z
  .strictObject({
    mode: z.enum(['enforce', 'monitor']).default('enforce').describe('monitor: decide and record, but do not block (for rollout)'),
    rules: z.array(ruleSchema).default([]),
    tools: z
      .array(
        z.strictObject({
          server: glob.default('*'),
          tool: glob,
          scopes: z.array(z.string().min(1)).default([]).describe('Scopes a caller needs for these tools (403 insufficient_scope otherwise; hidden from lists)'),
          annotations: z.strictObject(annotationFlags).optional().describe('Annotations the admin attests; they win over what the server declares'),
        }),
      )
      .default([]),
    limits: z
      .array(
        z.strictObject({
          name: z.string().regex(RULE_NAME, 'must be 1-64 characters of A-Z a-z 0-9 _ . : -'),
          per: z.enum(['principal', 'agent', 'tool', 'server']),
          servers: globs.default(['*']),
          tools: globs.optional(),
          rate: z
            .string()
            .regex(/^\d+(\.\d+)?\/(s|m|h)$/, 'must be like 10/s, 600/m or 1000/h')
            .describe('Sustained rate'),
          burst: z.number().int().min(1).max(1_000_000).optional().describe('Bucket size (default: the per-period count, at least 1)'),
        }),
      )
      .default([]),
    concurrency: z.record(z.string(), z.number().int().min(1).max(100_000)).default({}).describe('Calls in flight per server'),
    maxArgumentBytes: z.number().int().min(64).max(64 * 1024 * 1024).default(1024 * 1024),
  })
  .describe('Runtime policy; without this section every call is denied');

export type PolicyConfig = z.output<typeof policySchema>;
export type RuleConfig = z.output<typeof ruleSchema>;
export type GuardsConfig = z.output<typeof guardsSchema>;
