/**
 * The client→server method space of each protocol revision, and the params each method takes.
 *
 * Default deny starts here: a message whose method is not a client→server method of the negotiated
 * revision is not an MCP message the gateway knows how to govern, so it is never forwarded on its own
 * (a policy rule may name a custom method with `methods:`; see the route stage). Params are checked
 * against the revision's schema before anything routes on them (-32602 otherwise), and the params that
 * travel on are rebuilt from the fields the revision defines, so a field the spec does not define
 * cannot carry a second, unjudged target to the server.
 *
 * Transcribed (not copied) from the official schemas, `schema/<revision>/schema.ts` in
 * modelcontextprotocol/modelcontextprotocol: the `ClientRequest` and `ClientNotification` unions and
 * the params of each member. Each method's schema is compiled with Ajv on the first message of that
 * method (and kept): the ~100 schemas of five revisions are not compiled at start, most are never
 * used, and Ajv itself loads only with the first (docs/performance.md, "Memory").
 *
 * Deliberately not checked: `format: uri-template` on completion references (the spec gives no
 * grammar a validator agrees on), and the contents of `_meta` beyond its type (implementations may
 * put anything there; the gateway never routes on it).
 */
import type { ErrorObject, ValidateFunction } from 'ajv';
import { GatewayError } from '../errors.ts';
import { ajvFor } from '../validate/ajv.ts';
import { isObject, type JsonObject } from './jsonrpc.ts';
import { MODERN_VERSION } from './versions.ts';

/** What the governed target of a method is (DESIGN.md, security invariant 1). */
export type MethodTarget =
  | 'tool' // tools/call: params.name
  | 'prompt' // prompts/get: params.name
  | 'resource' // resources/read|subscribe|unsubscribe: params.uri
  | 'completion' // completion/complete: the prompt or resource template params.ref names
  | 'task' // tasks/get|result|cancel: params.taskId, governed as the task's owner and tool
  | 'list' // list methods: the server, items filtered by the policy
  | 'server' // logging/setLevel: the server itself
  | 'local'; // answered by the gateway (ping, server/discover) or by the front (initialize, listen)

export interface MethodSpec {
  readonly method: string;
  readonly notification: boolean;
  readonly target: MethodTarget;
  /** Whether a `params` object is required. */
  readonly paramsRequired: boolean;
  /** The params fields the revision defines (besides `_meta`): the only ones forwarded. */
  readonly fields: readonly string[];
  readonly schema: JsonObject;
}

type Revision = '2024-11-05' | '2025-03-26' | '2025-06-18' | '2025-11-25' | typeof MODERN_VERSION;
const ORDER: readonly Revision[] = ['2024-11-05', '2025-03-26', '2025-06-18', '2025-11-25', MODERN_VERSION];
const atLeast = (revision: Revision, since: Revision): boolean => ORDER.indexOf(revision) >= ORDER.indexOf(since);

const str = { type: 'string' } as const;
/**
 * A tool or prompt name: the spec says tool names SHOULD be 1–128 characters (2025-11-25,
 * server/tools, "Tool names"); the gateway's `<server>__<tool>` form adds the server name, so the
 * bound is generous. A longer name is refused here, before it reaches routing, the trail or the monitor.
 */
export const MAX_NAME_LENGTH = 1024;
const nameStr = { type: 'string', maxLength: MAX_NAME_LENGTH } as const;
const bool = { type: 'boolean' } as const;
const anyObject = { type: 'object' } as const;
const requestId = { type: ['string', 'integer'] } as const;
const stringMap = { type: 'object', additionalProperties: str } as const;
/** `_meta` of a request: an object; the progress token, when present, a string or an integer. */
const requestMeta = { type: 'object', properties: { progressToken: requestId } } as const;

function params(properties: Record<string, unknown>, required: string[] = []): JsonObject {
  const schema: JsonObject = { type: 'object', properties: { _meta: requestMeta, ...properties } };
  if (required.length > 0) schema.required = required;
  return schema;
}

/**
 * A task-augmented request's `task` (spec 2025-11-25 `TaskMetadata`: `{ ttl?: number }`, the requested
 * lifetime in milliseconds; the 2026-07-28 tasks extension keeps the shape). Declared members only are
 * forwarded (see `rebuild`), so nothing but a number travels in it.
 */
const taskMetadata = { type: 'object', properties: { ttl: { type: 'number', minimum: 0 } } } as const;

/** Modern retries of an input-required call carry the answers and the server's opaque state (SEP-2322). */
const retryFields = (revision: Revision): Record<string, unknown> =>
  revision === MODERN_VERSION ? { inputResponses: anyObject, requestState: str } : {};

const LOG_LEVELS = ['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency'];

interface Definition {
  target: MethodTarget;
  notification?: boolean;
  paramsRequired?: boolean;
  schema: JsonObject;
}

/** The client→server methods of one revision. */
function definitions(revision: Revision): Record<string, Definition> {
  const modern = revision === MODERN_VERSION;
  const paginated = params({ cursor: str });
  const promptRef = { type: 'object', properties: { type: { const: 'ref/prompt' }, name: nameStr, ...(atLeast(revision, '2025-06-18') ? { title: str } : {}) }, required: ['type', 'name'] };
  const resourceRef = { type: 'object', properties: { type: { const: 'ref/resource' }, uri: str }, required: ['type', 'uri'] };
  const uri = { type: 'string', format: 'uri' };
  const defs: Record<string, Definition> = {
    'tools/list': { target: 'list', schema: paginated },
    'tools/call': {
      target: 'tool',
      paramsRequired: true,
      schema: params(
        {
          name: nameStr,
          arguments: anyObject,
          // Task-augmented calls (2025-11-25 basic/utilities/tasks): ask the server to run the call as a task.
          ...(revision === '2025-11-25' ? { task: taskMetadata } : {}),
          ...retryFields(revision),
        },
        ['name'],
      ),
    },
    'prompts/list': { target: 'list', schema: paginated },
    'prompts/get': { target: 'prompt', paramsRequired: true, schema: params({ name: nameStr, arguments: stringMap, ...retryFields(revision) }, ['name']) },
    'resources/list': { target: 'list', schema: paginated },
    'resources/templates/list': { target: 'list', schema: paginated },
    'resources/read': { target: 'resource', paramsRequired: true, schema: params({ uri, ...retryFields(revision) }, ['uri']) },
    'completion/complete': {
      target: 'completion',
      paramsRequired: true,
      schema: params(
        {
          ref: { oneOf: [promptRef, resourceRef] },
          argument: { type: 'object', properties: { name: str, value: str }, required: ['name', 'value'] },
          ...(atLeast(revision, '2025-06-18') ? { context: { type: 'object', properties: { arguments: stringMap } } } : {}),
        },
        ['ref', 'argument'],
      ),
    },
    'notifications/cancelled': {
      target: 'local',
      notification: true,
      paramsRequired: true,
      // 2025-11-25 made requestId optional (tasks are cancelled with tasks/cancel instead).
      schema: params({ requestId, reason: str }, atLeast(revision, '2025-11-25') ? [] : ['requestId']),
    },
  };
  if (modern) {
    defs['server/discover'] = { target: 'local', schema: params({}) };
    // The tasks extension (SEP-2663, `io.modelcontextprotocol/tasks`): a client that negotiated it may
    // ask for a task and follow it up; whether it did is checked with task ownership (routing/tasks.ts).
    (defs['tools/call']!.schema.properties as JsonObject).task = taskMetadata;
    const byId = params({ taskId: str, ...retryFields(revision) }, ['taskId']);
    defs['tasks/get'] = { target: 'task', paramsRequired: true, schema: byId };
    defs['tasks/update'] = { target: 'task', paramsRequired: true, schema: byId };
    defs['tasks/cancel'] = { target: 'task', paramsRequired: true, schema: byId };
    defs['subscriptions/listen'] = {
      target: 'local',
      paramsRequired: true,
      schema: params({
        notifications: {
          type: 'object',
          properties: { toolsListChanged: bool, promptsListChanged: bool, resourcesListChanged: bool, resourceSubscriptions: { type: 'array', items: str } },
        },
      }),
    };
    return defs;
  }
  defs.initialize = {
    target: 'local',
    paramsRequired: true,
    schema: params(
      { protocolVersion: str, capabilities: anyObject, clientInfo: { type: 'object', properties: { name: str, version: str }, required: ['name', 'version'] } },
      ['protocolVersion', 'capabilities', 'clientInfo'],
    ),
  };
  defs.ping = { target: 'local', schema: params({}) };
  defs['resources/subscribe'] = { target: 'resource', paramsRequired: true, schema: params({ uri }, ['uri']) };
  defs['resources/unsubscribe'] = { target: 'resource', paramsRequired: true, schema: params({ uri }, ['uri']) };
  defs['logging/setLevel'] = { target: 'server', paramsRequired: true, schema: params({ level: { enum: LOG_LEVELS } }, ['level']) };
  defs['notifications/initialized'] = { target: 'local', notification: true, schema: params({}) };
  defs['notifications/progress'] = {
    target: 'local',
    notification: true,
    paramsRequired: true,
    schema: params({ progressToken: requestId, progress: { type: 'number' }, total: { type: 'number' }, ...(atLeast(revision, '2025-03-26') ? { message: str } : {}) }, ['progressToken', 'progress']),
  };
  defs['notifications/roots/list_changed'] = { target: 'local', notification: true, schema: params({}) };
  if (revision === '2025-11-25') {
    const byId = params({ taskId: str }, ['taskId']);
    defs['tasks/get'] = { target: 'task', paramsRequired: true, schema: byId };
    defs['tasks/result'] = { target: 'task', paramsRequired: true, schema: byId };
    defs['tasks/cancel'] = { target: 'task', paramsRequired: true, schema: byId };
    defs['tasks/list'] = { target: 'list', schema: paginated };
    defs['notifications/tasks/status'] = { target: 'local', notification: true, paramsRequired: true, schema: params({ taskId: str, status: str }, ['taskId', 'status']) };
  }
  return defs;
}

/**
 * Every method name any revision defines, in either direction. None of them can be let through as a
 * "custom" method by a `methods:` rule: a name the spec defines means what the spec says, and one that
 * belongs to the other direction (`sampling/createMessage`, `roots/list`, `elicitation/create`) or to
 * another revision is never forwarded.
 */
export const SPEC_METHODS: ReadonlySet<string> = new Set([
  ...ORDER.flatMap((revision) => Object.keys(definitions(revision))),
  'sampling/createMessage',
  'elicitation/create',
  'roots/list',
  'notifications/message',
  'notifications/resources/updated',
  'notifications/resources/list_changed',
  'notifications/tools/list_changed',
  'notifications/prompts/list_changed',
  'notifications/elicitation/complete',
  'notifications/subscriptions/acknowledged',
  'tasks/get',
  'tasks/result',
  'tasks/list',
  'tasks/cancel',
  'tasks/update',
]);

const AJV_OPTIONS = { strict: false, allErrors: false, coerceTypes: false, useDefaults: false, removeAdditional: false, logger: false } as const;

let specs: ReadonlyMap<string, ReadonlyMap<string, MethodSpec>> | undefined;

function table(): ReadonlyMap<string, ReadonlyMap<string, MethodSpec>> {
  if (specs) return specs;
  const byRevision = new Map<string, Map<string, MethodSpec>>();
  for (const revision of ORDER) {
    const methods = new Map<string, MethodSpec>();
    for (const [method, def] of Object.entries(definitions(revision))) {
      const fields = Object.keys((def.schema.properties as JsonObject | undefined) ?? {}).filter((f) => f !== '_meta');
      methods.set(method, { method, notification: def.notification ?? false, target: def.target, paramsRequired: def.paramsRequired ?? false, fields, schema: def.schema });
    }
    byRevision.set(revision, methods);
  }
  specs = byRevision;
  return specs;
}

/** Each method's compiled params schema, made on the method's first message in a revision. */
const validators = new WeakMap<MethodSpec, ValidateFunction>();

function validatorFor(spec: MethodSpec): ValidateFunction {
  let validate = validators.get(spec);
  if (!validate) {
    validate = ajvFor('methods', 'draft-07', AJV_OPTIONS).compile(spec.schema);
    validators.set(spec, validate);
  }
  return validate;
}

/** The spec of `method` in `revision` when it is a client→server method there, else undefined. */
export function clientMethod(revision: string, method: string): MethodSpec | undefined {
  return table().get(revision)?.get(method);
}

/** The client→server methods of a revision (requests and notifications), for tests and docs. */
export function clientMethods(revision: string): readonly MethodSpec[] {
  return [...(table().get(revision)?.values() ?? [])];
}

/** Whether a method name is defined by any revision (in either direction). */
export function isSpecMethod(method: string): boolean {
  return SPEC_METHODS.has(method);
}

function describeError(error: ErrorObject | undefined): string {
  if (!error) return 'is invalid';
  const where = `params${error.instancePath.replaceAll('/', '.')}`;
  if (error.keyword === 'required') return `${where}.${String(error.params.missingProperty)} is required`;
  if (error.keyword === 'type') return `${where} must be ${String(error.params.type).replace(',', ' or ')}`;
  if (error.keyword === 'enum') return `${where} must be one of ${(error.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
  if (error.keyword === 'const') return `${where} must be ${JSON.stringify(error.params.allowedValue)}`;
  if (error.keyword === 'format') return `${where} must be a ${String(error.params.format)}`;
  if (error.keyword === 'oneOf') return `${where} must be {"type":"ref/prompt","name":…} or {"type":"ref/resource","uri":…}`;
  return `${where} ${error.message ?? 'is invalid'}`;
}

/**
 * Checks a message's params against the method's schema in `revision`. Returns the refusal
 * (PC_PROTOCOL_INVALID_PARAMS, naming the field and what is accepted; PC_INTERNAL when the schema
 * library cannot be loaded) or undefined.
 */
export function checkParams(spec: MethodSpec, revision: string, params: JsonObject | undefined): GatewayError | undefined {
  if (params === undefined) {
    return spec.paramsRequired ? new GatewayError('PC_PROTOCOL_INVALID_PARAMS', `${spec.method} needs params (protocol version ${revision})`, { method: spec.method }) : undefined;
  }
  let validate: ValidateFunction;
  try {
    validate = validatorFor(spec);
  } catch (error) {
    // The schemas are the gateway's own, so this is the library failing to load: refuse (fail closed).
    return new GatewayError('PC_INTERNAL', `${spec.method}: params cannot be checked: ${(error as Error).message}`, { method: spec.method });
  }
  if (validate(params)) return undefined;
  return new GatewayError('PC_PROTOCOL_INVALID_PARAMS', `${spec.method}: ${describeError(validate.errors?.[0])} (protocol version ${revision})`, { method: spec.method });
}

/**
 * A value rebuilt from its schema: an object whose schema lists its `properties` (and says nothing of
 * others) keeps only those, each rebuilt the same way; anything else (tool arguments, string maps,
 * scalars) is kept as it is, since it is judged as a whole (schema, guards, data-loss prevention).
 */
function rebuild(schema: unknown, value: unknown): unknown {
  if (!isObject(schema) || !isObject(value) || !isObject(schema.properties) || schema.additionalProperties !== undefined) return value;
  const out: JsonObject = {};
  for (const [key, inner] of Object.entries(schema.properties)) if (value[key] !== undefined) out[key] = rebuild(inner, value[key]);
  return out;
}

/**
 * The params to forward: only the fields the revision defines for the method (and `_meta`), each
 * rebuilt from the members its schema declares (a `task` travels as `{ ttl }` and nothing else), with
 * `judged` written over them, so what travels is exactly what the gateway judged.
 */
export function canonicalParams(spec: MethodSpec, params: JsonObject | undefined, judged: JsonObject = {}): JsonObject | undefined {
  if (params === undefined && Object.keys(judged).length === 0) return undefined;
  const out: JsonObject = {};
  if (params && isObject(params._meta)) out._meta = params._meta;
  const properties = spec.schema.properties as JsonObject;
  for (const field of spec.fields) if (params && params[field] !== undefined) out[field] = rebuild(properties[field], params[field]);
  return Object.assign(out, judged);
}

/**
 * The params as a server of `revision` reads them: rebuilt once more from the fields that revision
 * defines for the method, so that a field of the client's revision the server's does not define (a
 * 2026-07-28 `inputResponses` or `requestState` bound for a 2025-11-25 server, a `task` for an older
 * one) never travels unjudged. A method the revision does not define (a custom method a rule names)
 * travels as it came.
 */
export function paramsForServer(revision: string, method: string, params: JsonObject | undefined): JsonObject | undefined {
  const spec = clientMethod(revision, method);
  return spec && params !== undefined ? canonicalParams(spec, params) : params;
}

/**
 * The target a request names in the field the spec defines for its method (`name` of a tool or
 * prompt, `uri` of a resource), read before or without routing — for the record of a request refused
 * early (the HTTP front's refusals included). Undefined for every other method, whatever else its params hold: no other field is consulted.
 */
export function namedTarget(revision: string, method: string, params: JsonObject | undefined): string | undefined {
  // A refusal before the version is known (or of another revision's method): what the method means in
  // the newest revision that defines it — methods keep their target field across revisions.
  const spec = clientMethod(revision, method) ?? [...ORDER].reverse().map((r) => clientMethod(r, method)).find((s) => s !== undefined);
  const target = spec?.target;
  const value = target === 'tool' || target === 'prompt' ? params?.name : target === 'resource' ? params?.uri : undefined;
  return typeof value === 'string' ? value : undefined;
}

/**
 * A client notification in `revision`: the refusal when the version does not define it for this
 * direction or its params are invalid. Client notifications are consumed by the gateway, never
 * forwarded; the refusal is for the record.
 */
export function checkNotification(revision: string, message: { method: string; params?: JsonObject | undefined }): GatewayError | undefined {
  const spec = clientMethod(revision, message.method);
  if (!spec || !spec.notification) {
    return new GatewayError('PC_ROUTE_UNKNOWN_METHOD', `${JSON.stringify(message.method)} is not a client notification of protocol version ${revision}; dropped`, { method: message.method });
  }
  return checkParams(spec, revision, message.params);
}
