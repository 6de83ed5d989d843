/**
 * The configuration schema: strict (unknown keys are errors, so a typo never silently does nothing),
 * with defaults filled in at parse time. `schema/config.json` is generated from this file
 * (`portcullis config schema`), never edited by hand.
 */
import { dlpSchema } from '../dlp/schema.ts';
import * as z from 'zod';
import { policySchema } from '../policy/schema.ts';
import { identitySchema } from '../auth/schema.ts';
import { approvalsSectionSchema } from '../approvals/schema.ts';
import { monitorSchema } from '../monitor/schema.ts';
import { RUN_AS_PATTERN, SECRET_REF, SERVER_NAME } from './names.ts';


const valueOrRef = z.string().describe('A literal value, or a secret reference: env:NAME or file:/absolute/path');

const timeoutMs = z.number().int().min(100).max(3_600_000);

const MIB = 1024 * 1024;
const maxMessageBytes = z
  .number()
  .int()
  .min(64 * 1024)
  .max(1024 * MIB)
  .describe(
    'Largest single message taken from a server (a JSON body, an SSE event, a stdout line), in bytes. ' +
      'Past it the call fails with PC_UPSTREAM_TOO_LARGE and the connection is dropped; repeats mark the server unhealthy for 30 s',
  );

const restartSchema = z
  .strictObject({
    initialDelayMs: z.number().int().min(10).max(60_000).default(500),
    maxDelayMs: z.number().int().min(100).max(600_000).default(30_000),
    maxRestarts: z.number().int().min(0).max(1_000_000).default(100),
  })
  .describe('Restart policy for a crashed stdio server: exponential backoff from initialDelayMs to maxDelayMs');

const rootsSchema = z
  .union([z.literal('client'), z.array(z.string().min(1))])
  .describe(
    'MCP roots for this server. Absent: the gateway does not offer roots (a client cannot widen a server sandbox). ' +
      'A list of URIs: the gateway answers roots/list with exactly these. "client": roots/list during a call is relayed to the calling client.',
  );

const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2}))?$/, 'must be a date: YYYY-MM-DD or an ISO 8601 time')
  .refine((v) => !Number.isNaN(new Date(v).getTime()), 'must be a real date');

/** What the credential register knows of an upstream secret (`portcullis credentials`). */
export const credentialMetaSchema = z.strictObject({
  owner: z.string().min(1).max(200).optional().describe('Who answers for this secret (a person or team)'),
  rotatedAt: isoDate.optional().describe('When it was last issued or rotated: its age is counted from here'),
  expiresAt: isoDate.optional().describe('When it stops working'),
  scopes: z.array(z.string().min(1)).optional().describe('What it grants upstream, as the provider names it'),
  note: z.string().max(500).optional(),
});


const common = {
  credentials: z
    .record(z.string().min(1), credentialMetaSchema)
    .optional()
    .describe('Metadata of the secrets this server uses, by env variable or header name: owner, rotatedAt, expiresAt (for `portcullis credentials`)'),
  timeoutMs: timeoutMs.optional().describe('Per-call timeout in ms (default: defaults.timeoutMs)'),
  maxMessageBytes: maxMessageBytes.optional().describe('Largest single message taken from this server, in bytes (default: defaults.maxMessageBytes)'),
  namespace: z
    .union([z.boolean(), z.string().regex(SERVER_NAME)])
    .default(true)
    .describe('On the aggregated /mcp endpoint: true prefixes names with the server name, a string with that prefix, false keeps them bare'),
  roots: rootsSchema.optional(),
  disabled: z.boolean().default(false),
  pinning: z
    .enum(['quarantine', 'warn', 'allow'])
    .default('quarantine')
    .describe('New, changed or poisoned tool definitions: quarantine (hidden and refused until approved), warn (log only), allow'),
  auditArguments: z
    .enum(['redacted', 'hash', 'full', 'off'])
    .default('redacted')
    .describe('What the audit trail keeps of call arguments: redacted copy + hash (default), hash only, full copy, or nothing'),
  // Optional without a parse-time default (see PER_PRINCIPAL_DEFAULTS) so that a server entry built in
  // code needs none of them.
  upstreamSession: z
    .enum(['shared', 'per-principal'])
    .optional()
    .describe(
      'Legacy-era servers: one upstream session shared by every caller (shared, the default), or one per principal, for servers that keep ' +
        'per-session state or ask clients things mid-call (server messages are then always attributed to their caller). Modern servers are stateless and ignore it',
    ),
  perPrincipal: z
    .strictObject({
      maxSessions: z.number().int().min(1).max(10_000).optional().describe('Principal sessions at most (default 32); the least recently used idle one is closed for a new one'),
      idleMs: z.number().int().min(1000).max(86_400_000).optional().describe('A principal session unused this long is closed (default 600000)'),
    })
    .optional()
    .describe('Bounds of upstreamSession: per-principal'),
};

export const stdioServerSchema = z.strictObject({
  command: z.string().min(1).describe('Executable to start (found on PATH or absolute)'),
  args: z.array(z.string()).default([]),
  cwd: z.string().min(1).optional().describe('Working directory (default: an empty directory of its own, made at each start)'),
  runAs: z
    .string()
    .regex(RUN_AS_PATTERN, 'must be user[:group], names or numeric ids')
    .optional()
    .describe('The user (and group) the server runs as, no supplementary groups; the gateway needs root or CAP_SETUID+CAP_SETGID. Default: supply.runAs, else the gateway\'s own user (same trust domain)'),
  env: z
    .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name'), valueOrRef)
    .default({})
    .describe('Variables the child gets on top of a minimal safe environment (PATH, HOME, USER, LANG, …)'),
  restart: restartSchema.prefault({}),
  pin: z
    .strictObject({
      sha256: z.string().regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hex characters').optional(),
      file: z.string().min(1).optional().describe('File to hash for sha256 (default: the command on PATH)'),
      npm: z.string().regex(/^(@[a-z0-9._-]+\/)?[a-z0-9._-]+@[^\s@]+$/, 'must be name@version').optional(),
      integrity: z.string().regex(/^sha(256|384|512)-[A-Za-z0-9+/=]+$/, 'must be an SRI hash like sha512-…').optional(),
      image: z.string().min(1).optional().describe('Container image by digest: registry/name@sha256:…'),
      pypi: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*==[^\s=]+$/, 'must be name==version').optional().describe('A Python package installed in a virtualenv'),
      venv: z.string().min(1).optional().describe('pypi: the virtualenv it is installed in (default: two levels above the command, venv/bin/x)'),
      record: z.string().regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hex characters').optional().describe('pypi: SHA-256 of the installed RECORD file'),
    })
    .optional()
    .describe('What must run: a file hash, an npm package version + integrity, or an image digest'),
  ...common,
});

export const httpServerSchema = z.strictObject({
  url: z.string().describe('Streamable HTTP (or legacy HTTP+SSE) endpoint; https, or http on a loopback host'),
  transport: z
    .enum(['auto', 'streamable-http', 'sse'])
    .default('auto')
    .describe('auto tries the modern era, then legacy Streamable HTTP, then legacy HTTP+SSE (2024-11-05)'),
  era: z.enum(['auto', 'modern', 'legacy']).default('auto'),
  headers: z.record(z.string().regex(/^[A-Za-z0-9-]+$/, 'must be an HTTP header name'), valueOrRef).default({}),
  ...common,
});

export const serverSchema = z.union([stdioServerSchema, httpServerSchema]);

/** The definition scanner's statistical layer: on or off, and the probabilities it rates high and warns at. */
const scannerSchema = z
  .strictObject({
    signals: z.boolean().default(true).describe('Weigh the wording-independent signals with the trained model (off: only the phrase rules)'),
    highAt: z.number().min(0.05).max(0.99).optional().describe('Probability at or above which a definition is rated high and quarantined (default: the trained threshold, 0.5)'),
    warnAt: z.number().min(0.01).max(0.98).optional().describe('Probability at or above which a definition is warned about (default: the trained threshold, 0.25)'),
  })
  .refine((s) => s.highAt === undefined || s.warnAt === undefined || s.warnAt < s.highAt, { message: 'warnAt must be below highAt', path: ['warnAt'] })
  .prefault({});

export const configSchema = z
  .strictObject({
    listen: z
      .strictObject({
        host: z.string().min(1).default('127.0.0.1'),
        port: z.number().int().min(0).max(65_535).default(8787),
        allowedOrigins: z
          .array(z.string())
          .default([])
          .describe('Extra browser Origins allowed (exact, e.g. https://app.example.com); localhost origins are always allowed'),
        allowedHosts: z
          .array(z.string())
          .default([])
          .describe('Extra Host header values allowed (DNS-rebinding guard); loopback names are always allowed'),
        metrics: z
          .enum(['credential', 'loopback', 'open'])
          .default('credential')
          .describe('With identity on, whom GET /metrics answers: credential (a token or API key holding metricsScope, from any address: an agent on this host must not read the monitor\'s counters), loopback (also callers on a loopback address without one), open (anyone). Without identity it answers every caller, like every path'),
        metricsScope: z.string().min(1).default('portcullis:metrics').describe('Scope a token or API key needs for GET /metrics (listen.metrics: credential or loopback)'),
        maxBodyBytes: z.number().int().min(1024).max(64 * 1024 * 1024).default(4 * 1024 * 1024),
        sessionIdleMs: z.number().int().min(1000).max(86_400_000).default(30 * 60_000),
        headersTimeoutMs: z
          .number()
          .int()
          .min(1000)
          .max(300_000)
          .default(10_000)
          .describe('Time a client has to send a request\'s headers; slower connections get 408 and are closed (Slowloris)'),
        requestTimeoutMs: z
          .number()
          .int()
          .min(1000)
          .max(3_600_000)
          .default(30_000)
          .describe('Time a client has to send a whole request, headers and body, on every route; responses (long SSE streams) are not limited'),
        maxSessions: z.number().int().min(1).max(1_000_000).default(10_000).describe('Legacy-era sessions open at once; past it the least recently used is ended'),
        maxSessionsPerPrincipal: z
          .number()
          .int()
          .min(1)
          .max(1_000_000)
          .default(256)
          .describe('Legacy-era sessions one principal may have open (identity off: all callers are one principal); past it its least recently used is ended'),
        maxListenStreams: z.number().int().min(1).max(1_000_000).default(10_000).describe('Modern-era subscriptions/listen streams open at once; past it the oldest is ended'),
        maxListenStreamsPerPrincipal: z
          .number()
          .int()
          .min(1)
          .max(1_000_000)
          .default(32)
          .describe('subscriptions/listen streams one principal may have open (identity off: all callers are one principal); past it its oldest is ended'),
        maxResumeBytesPerSession: z
          .number()
          .int()
          .min(64 * 1024)
          .max(1024 * MIB)
          .default(16 * MIB)
          .describe('Bytes of cut SSE streams one legacy session keeps for resumption (Last-Event-ID); past it its oldest streams are forgotten'),
        maxResumeBytes: z
          .number()
          .int()
          .min(64 * 1024)
          .max(16 * 1024 * MIB)
          .default(128 * MIB)
          .describe('Bytes of cut SSE streams all sessions together keep for resumption; past it the oldest streams are forgotten'),
        maxStreamQueueBytes: z
          .number()
          .int()
          .min(16 * 1024)
          .max(1024 * MIB)
          .default(1 * MIB)
          .describe(
            'Bytes waiting to be sent on one SSE stream to a client that does not read; past it notifications on a call\'s stream are dropped ' +
              '(the answer never is) and a notification stream (GET, subscriptions/listen) is closed',
          ),
      })
      .refine((listen) => listen.headersTimeoutMs <= listen.requestTimeoutMs, {
        message: 'headersTimeoutMs must not exceed requestTimeoutMs',
        path: ['headersTimeoutMs'],
      })
      .refine((listen) => listen.maxSessionsPerPrincipal <= listen.maxSessions, {
        message: 'maxSessionsPerPrincipal must not exceed maxSessions',
        path: ['maxSessionsPerPrincipal'],
      })
      .refine((listen) => listen.maxListenStreamsPerPrincipal <= listen.maxListenStreams, {
        message: 'maxListenStreamsPerPrincipal must not exceed maxListenStreams',
        path: ['maxListenStreamsPerPrincipal'],
      })
      .refine((listen) => listen.maxResumeBytesPerSession <= listen.maxResumeBytes, {
        message: 'maxResumeBytesPerSession must not exceed maxResumeBytes',
        path: ['maxResumeBytesPerSession'],
      })
      .prefault({}),
    routing: z
      .strictObject({
        separator: z
          .string()
          .regex(/^[A-Za-z0-9_.-]{1,4}$/, 'must be 1-4 characters from A-Z a-z 0-9 _ . -')
          .default('__'),
        pageSize: z.number().int().min(1).max(10_000).default(100),
        inputRequired: z
          .strictObject({
            ttlMs: z.number().int().min(1000).max(3_600_000).default(300_000).describe('How long a parked call (or a requestState handle) waits for the client\'s retry before it is cancelled (forgotten)'),
            maxPerPrincipal: z.number().int().min(1).max(10_000).default(16).describe('Parked calls (and, counted apart, requestState handles) one principal may hold at once; more are refused'),
            maxTotal: z.number().int().min(1).max(1_000_000).default(1024).describe('Parked calls (and, counted apart, requestState handles) the gateway holds at once; more are refused'),
          })
          .prefault({})
          .describe('A legacy server asking mid-call while a modern (2026-07-28) client calls: the call is parked until the client retries with its answer. A modern server\'s own requestState is held likewise while the client holds the gateway\'s handle for it'),
        tasks: z
          .strictObject({
            maxPerPrincipal: z.number().int().min(1).max(100_000).default(256).describe('Live tasks one principal may hold; a task-augmented call beyond is refused'),
            maxTotal: z.number().int().min(1).max(10_000_000).default(65_536).describe('Live tasks the gateway tracks at once'),
            maxTtlMs: z.number().int().min(1000).max(30 * 86_400_000).default(86_400_000).describe('Ownership of a task is kept for its ttl, at most this long; then it is unknown to everyone'),
          })
          .prefault({})
          .describe('Task ownership (2025-11-25 tasks): each task is reachable only by the principal whose call created it'),
        subscriptions: z
          .strictObject({
            maxPerSession: z.number().int().min(1).max(100_000).default(256).describe('Resource URIs one client session may be subscribed to at once; a subscribe beyond is refused'),
            maxTotal: z.number().int().min(1).max(10_000_000).default(65_536).describe('Subscriptions (session and URI) the gateway holds at once; a subscribe beyond is refused'),
          })
          .prefault({})
          .describe('resources/subscribe (legacy era): how many subscriptions a session, and the gateway, may hold'),
      })
      .prefault({}),
    defaults: z.strictObject({ timeoutMs: timeoutMs.default(60_000), maxMessageBytes: maxMessageBytes.default(16 * MIB) }).prefault({}),
    logging: z
      .strictObject({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') })
      .prefault({}),
    audit: z
      .strictObject({
        store: z
          .enum(['sqlite', 'postgres', 'jsonl', 'stdout', 'off'])
          .default('sqlite')
          .describe('sqlite (default, in the data dir), postgres (audit.url), jsonl file, stdout, or off'),
        path: z.string().min(1).optional().describe('File for sqlite/jsonl (default: <dataDir>/audit.db or audit.jsonl)'),
        url: z.string().min(1).optional().describe('PostgreSQL connection URL for store: postgres; with a password, write it as env:NAME or file:/path'),
        instance: z
          .string()
          .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1-64 characters of A-Z a-z 0-9 _ . -')
          .optional()
          .describe('Base name of this gateway\'s hash chains (default: the host name): serve writes <instance>, stdio <instance>.stdio, and further live processes on the host .2, .3 …'),
        redact: z.strictObject({ fields: z.array(z.string().min(1)).default([]) }).prefault({}).describe('Extra argument names to mask'),
        signingKey: z
          .string()
          .regex(SECRET_REF, 'must be a reference: file:/path/to/ed25519.pem or env:NAME')
          .optional()
          .describe('Ed25519 private key (PKCS#8 PEM) that signs checkpoints; make one with `portcullis audit keygen`'),
        verifyKey: z.string().min(1).optional().describe('Public key (PEM, or file:/path) to check checkpoint signatures where the private key is not'),
        sinks: z
          .array(
            z.discriminatedUnion('type', [
              z.strictObject({ type: z.literal('otlp'), url: z.string().url(), headers: z.record(z.string(), valueOrRef).default({}) }),
              z.strictObject({ type: z.literal('jsonl'), path: z.string().min(1) }),
              z.strictObject({ type: z.literal('stdout') }),
            ]),
          )
          .default([])
          .describe('Copies of each record, best effort (the store is authoritative): OTLP/HTTP logs, a JSON Lines file, stdout'),
        rotateBytes: z.number().int().min(4096).default(100 * 1024 * 1024).describe('jsonl store: start a new file past this size'),
        checkpointEvery: z.number().int().min(1).max(10_000_000).default(1000).describe('Records between signed checkpoints'),
        witness: z
          .string()
          .min(1)
          .optional()
          .describe('File outside the store that every signed checkpoint is also appended to (JSON Lines); `audit verify --witness FILE` then catches records cut off together with their checkpoints'),
        retentionDays: z.number().int().min(0).max(36_500).default(90).describe('Records older than this are pruned (after a checkpoint); 0 keeps everything'),
        budget: z
          .strictObject({
            bytesPerPrincipal: z
              .number()
              .int()
              .min(0)
              .max(Number.MAX_SAFE_INTEGER)
              .default(256 * MIB)
              .describe('Bytes of audit records one principal (issuer and subject) may cause per window; past it, its calls are refused (PC_AUDIT_BUDGET). 0: no budget'),
            windowSeconds: z.number().int().min(1).max(31 * 86_400).default(3600).describe('Length of the budget window'),
          })
          .prefault({})
          .describe('Per-caller share of the audit trail, so one caller cannot fill the store at every caller\'s cost'),
      })
      .prefault({}),
    reload: z
      .strictObject({
        watch: z.boolean().default(true).describe('serve -c: watch the file and put a changed policy section in force without a restart'),
        settleMs: z
          .number()
          .int()
          .min(50)
          .max(600_000)
          .default(5000)
          .describe('A changed file is read only once it stayed unchanged this long (two reads that agree), so a file written in steps is never applied half-written'),
      })
      .prefault({})
      .describe('Hot reload of the policy section'),
    supply: z
      .strictObject({
        allowUnpinned: z.boolean().default(false).describe('Run stdio servers that have no pin (flagged in the log)'),
        runAs: z
          .string()
          .regex(RUN_AS_PATTERN, 'must be user[:group], names or numeric ids')
          .optional()
          .describe('The user[:group] every stdio server without its own runAs runs as (docs/security-model.md)'),
        pinsKey: z
          .string()
          .regex(SECRET_REF, 'must be a reference: file:/path/to/key or env:NAME')
          .optional()
          .describe('Key of the HMAC that protects pins.json (at least 32 characters); default: <dataDir>/pins.key, made on first start'),
        scanner: scannerSchema.describe('The definition scanner\'s statistical layer (docs/supply-chain.md)'),
      })
      .prefault({}),
    identity: identitySchema.optional(),
    policy: policySchema.optional(),
    dlp: dlpSchema.optional(),
    approvals: approvalsSectionSchema.prefault({}),
    monitor: monitorSchema.optional(),
    dataDir: z.string().min(1).optional().describe('Where state lives (default: $XDG_DATA_HOME/portcullis or ~/.local/share/portcullis)'),
    servers: z.record(z.string(), serverSchema).default({}),
  });

export type Config = z.output<typeof configSchema>;
export type ScannerConfig = z.output<typeof scannerSchema>;
export type ServerConfig = z.output<typeof serverSchema>;
export type StdioServerConfig = z.output<typeof stdioServerSchema>;
export type HttpServerConfig = z.output<typeof httpServerSchema>;
