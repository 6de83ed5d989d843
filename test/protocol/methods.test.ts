/** The per-revision client→server method tables, params checks, canonical params and duplicate keys. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { canonicalParams, checkNotification, checkParams, clientMethod, clientMethods, isSpecMethod, namedTarget } from '../../src/protocol/methods.ts';
import { findDuplicateKey } from '../../src/protocol/duplicate-keys.ts';
import { assertMessage, decodeUtf8, parseJson } from '../../src/protocol/jsonrpc.ts';
import { GatewayError } from '../../src/errors.ts';

const requests = (revision: string) => clientMethods(revision).filter((m) => !m.notification).map((m) => m.method).sort();
const notifications = (revision: string) => clientMethods(revision).filter((m) => m.notification).map((m) => m.method).sort();

describe('client→server method tables', () => {
  it('lists each revision\'s ClientRequest and ClientNotification members', () => {
    const legacy = ['completion/complete', 'initialize', 'logging/setLevel', 'ping', 'prompts/get', 'prompts/list', 'resources/list', 'resources/read', 'resources/subscribe', 'resources/templates/list', 'resources/unsubscribe', 'tools/call', 'tools/list'];
    assert.deepEqual(requests('2024-11-05'), legacy);
    assert.deepEqual(requests('2025-03-26'), legacy);
    assert.deepEqual(requests('2025-06-18'), legacy);
    assert.deepEqual(requests('2025-11-25'), [...legacy, 'tasks/cancel', 'tasks/get', 'tasks/list', 'tasks/result'].sort());
    // 2026-07-28 with the tasks extension (SEP-2663) a client may negotiate: tasks/get, update, cancel.
    assert.deepEqual(requests('2026-07-28'), ['completion/complete', 'prompts/get', 'prompts/list', 'resources/list', 'resources/read', 'resources/templates/list', 'server/discover', 'subscriptions/listen', 'tasks/cancel', 'tasks/get', 'tasks/update', 'tools/call', 'tools/list']);
    assert.deepEqual(notifications('2025-06-18'), ['notifications/cancelled', 'notifications/initialized', 'notifications/progress', 'notifications/roots/list_changed']);
    assert.deepEqual(notifications('2025-11-25'), ['notifications/cancelled', 'notifications/initialized', 'notifications/progress', 'notifications/roots/list_changed', 'notifications/tasks/status']);
    assert.deepEqual(notifications('2026-07-28'), ['notifications/cancelled']);
    assert.equal(clientMethod('1999-01-01', 'tools/call'), undefined, 'an unknown revision has no methods');
  });

  it('knows every spec name in either direction, and nothing that only looks like one', () => {
    for (const name of ['sampling/createMessage', 'elicitation/create', 'roots/list', 'notifications/message', 'tasks/get', 'tools/call']) assert.equal(isSpecMethod(name), true, name);
    for (const name of ['TOOLS/CALL', 'tools/call\u0000', 'tools%2fcall', ' tools/call', 'x/custom']) assert.equal(isSpecMethod(name), false, JSON.stringify(name));
    assert.equal(clientMethod('2025-11-25', 'sampling/createMessage'), undefined, 'server→client methods are not client methods');
  });

  it('checks params against the revision, naming the field and what is accepted', () => {
    const call = clientMethod('2025-11-25', 'tools/call')!;
    for (const name of [undefined, 7, true, null, {}, ['echo']]) {
      const refusal = checkParams(call, '2025-11-25', name === undefined ? {} : { name });
      assert.ok(refusal instanceof GatewayError);
      assert.equal(refusal.code, 'PC_PROTOCOL_INVALID_PARAMS');
    }
    assert.equal(checkParams(call, '2025-11-25', undefined)?.code, 'PC_PROTOCOL_INVALID_PARAMS', 'params are required');
    assert.equal(checkParams(call, '2025-11-25', { name: 'echo', arguments: 'x' })?.code, 'PC_PROTOCOL_INVALID_PARAMS');
    assert.equal(checkParams(call, '2025-11-25', { name: 'echo', arguments: {}, task: { ttl: 5 } }), undefined);
    assert.equal(checkParams(call, '2025-11-25', { name: 'echo', _meta: { progressToken: 1.5 } })?.code, 'PC_PROTOCOL_INVALID_PARAMS');
    const read = clientMethod('2026-07-28', 'resources/read')!;
    assert.equal(checkParams(read, '2026-07-28', { uri: 'not a uri' })?.code, 'PC_PROTOCOL_INVALID_PARAMS');
    assert.equal(checkParams(read, '2026-07-28', { uri: 'mem://public/readme', requestState: 's' }), undefined);
    const complete = clientMethod('2024-11-05', 'completion/complete')!;
    assert.equal(checkParams(complete, '2024-11-05', { ref: { type: 'ref/prompt', name: 'p' }, argument: { name: 'a', value: 'b' } }), undefined);
    assert.equal(checkParams(complete, '2024-11-05', { ref: { type: 'ref/other', name: 'p' }, argument: { name: 'a', value: 'b' } })?.code, 'PC_PROTOCOL_INVALID_PARAMS');
    assert.equal(checkParams(clientMethod('2025-06-18', 'logging/setLevel')!, '2025-06-18', { level: 'loud' })?.code, 'PC_PROTOCOL_INVALID_PARAMS');
    assert.equal(checkNotification('2026-07-28', { method: 'notifications/initialized' })?.code, 'PC_ROUTE_UNKNOWN_METHOD');
    assert.equal(checkNotification('2025-06-18', { method: 'notifications/cancelled', params: { requestId: {} } })?.code, 'PC_PROTOCOL_INVALID_PARAMS');
    assert.equal(checkNotification('2025-11-25', { method: 'notifications/cancelled', params: {} }), undefined);
  });

  it('rebuilds params from the fields the revision defines, with the judged values on top', () => {
    const read = clientMethod('2025-11-25', 'resources/read')!;
    assert.deepEqual(canonicalParams(read, { uri: 'mem://a', name: 'mem://b', _meta: { progressToken: 1 } }, { uri: 'mem://a' }), { _meta: { progressToken: 1 }, uri: 'mem://a' });
    const call = clientMethod('2025-06-18', 'tools/call')!;
    assert.deepEqual(canonicalParams(call, { name: 'gov__echo', arguments: { a: 1 }, task: { ttl: 1 }, uri: 'x' }, { name: 'echo' }), { name: 'echo', arguments: { a: 1 } }, 'task is not a 2025-06-18 field');
    assert.equal(canonicalParams(clientMethod('2025-06-18', 'tools/list')!, undefined), undefined);
  });

  it('names a request\'s target only from the field the spec defines for its method', () => {
    assert.equal(namedTarget('2025-11-25', 'tools/call', { name: 'echo', uri: 'x' }), 'echo');
    assert.equal(namedTarget('2025-11-25', 'resources/read', { uri: 'mem://a', name: 'decoy' }), 'mem://a');
    assert.equal(namedTarget('2025-11-25', 'logging/setLevel', { level: 'info', name: 'decoy' }), undefined);
    assert.equal(namedTarget('2025-11-25', 'tools/list', { name: 'decoy' }), undefined);
    assert.equal(namedTarget('', 'tools/call', { name: 'echo' }), 'echo', 'before the version is known');
    assert.equal(namedTarget('2025-11-25', 'vendor/x', { name: 'decoy' }), undefined);
  });

  it('rebuilds nested params from the members their schema declares', () => {
    const call = clientMethod('2025-11-25', 'tools/call')!;
    assert.deepEqual(canonicalParams(call, { name: 'echo', arguments: { a: { b: 1 } }, task: { ttl: 5, note: 'x', k: { v: 1 } } }), { name: 'echo', arguments: { a: { b: 1 } }, task: { ttl: 5 } }, 'arguments whole, task only its ttl');
    assert.deepEqual(canonicalParams(clientMethod('2026-07-28', 'tools/call')!, { name: 'echo', task: { extra: 1 } }), { name: 'echo', task: {} });
    const complete = clientMethod('2025-11-25', 'completion/complete')!;
    assert.deepEqual(
      canonicalParams(complete, { ref: { type: 'ref/prompt', name: 'p' }, argument: { name: 'a', value: 'v', hidden: 'x' }, context: { arguments: { k: 'v' }, hidden: 'x' } }),
      { ref: { type: 'ref/prompt', name: 'p' }, argument: { name: 'a', value: 'v' }, context: { arguments: { k: 'v' } } },
    );
    assert.equal(checkParams(call, '2025-11-25', { name: 'echo', task: { ttl: -1 } })?.code, 'PC_PROTOCOL_INVALID_PARAMS');
  });
});

describe('params schemas compiled on first use', () => {
  // A fresh instance of the module: nothing of it has been compiled yet.
  const fresh = async () => (await import(`../../src/protocol/methods.ts?first-use=${Math.random()}`)) as typeof import('../../src/protocol/methods.ts');

  it('rejects bad params on the first message of a method, naming the field, and accepts good ones after', async () => {
    const methods = await fresh();
    const call = methods.clientMethod('2025-11-25', 'tools/call')!;
    const refusal = methods.checkParams(call, '2025-11-25', { name: 7 });
    assert.equal(refusal?.code, 'PC_PROTOCOL_INVALID_PARAMS');
    assert.match(refusal!.message, /params\.name must be string/);
    assert.equal(methods.checkParams(call, '2025-11-25', { name: 'echo', arguments: {} }), undefined);
    const read = methods.clientMethod('2026-07-28', 'resources/read')!;
    assert.equal(methods.checkParams(read, '2026-07-28', { uri: 'not a uri' })?.code, 'PC_PROTOCOL_INVALID_PARAMS', 'formats are checked on first use too');
    assert.equal(methods.checkNotification('2025-06-18', { method: 'notifications/progress', params: { progress: 1 } })?.code, 'PC_PROTOCOL_INVALID_PARAMS');
  });

  it('refuses every message with params (PC_INTERNAL, naming the library) when the schema library cannot be loaded, and lets nothing through', () => {
    // A child whose module resolution cannot find ajv: what a broken install looks like.
    const hook = `data:text/javascript,${encodeURIComponent("import { registerHooks } from 'node:module'; registerHooks({ resolve(specifier, context, next) { if (/^ajv(-formats)?(\\/|$)/.test(specifier)) throw new Error(\"Cannot find package '\" + specifier + \"'\"); return next(specifier, context); } });")}`;
    const script = `
      const { checkParams, clientMethod } = await import(${JSON.stringify(new URL('../../src/protocol/methods.ts', import.meta.url).href)});
      const { ArgumentValidator } = await import(${JSON.stringify(new URL('../../src/validate/args.ts', import.meta.url).href)});
      const call = clientMethod('2025-11-25', 'tools/call');
      const bad = checkParams(call, '2025-11-25', { name: 7 });
      const good = checkParams(call, '2025-11-25', { name: 'echo' });
      const validator = new ArgumentValidator();
      const schema = { type: 'object', properties: { path: { type: 'string' } } };
      process.stdout.write(JSON.stringify({ bad: [bad?.code, bad?.message], good: [good?.code, good?.message], args: validator.check(schema, { path: 1 }), again: validator.check(schema, { path: 'x' }) }));
    `;
    const run = spawnSync(process.execPath, ['--import', hook, '--input-type=module', '-e', script], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    const out = JSON.parse(run.stdout) as { bad: [string, string]; good: [string, string]; args: { unsafe?: string }; again: { unsafe?: string } };
    for (const [code, message] of [out.bad, out.good]) {
      assert.equal(code, 'PC_INTERNAL', 'refused, valid or not: nothing passes unchecked');
      assert.match(message, /the JSON Schema library \(ajv\) could not be loaded: Cannot find package 'ajv/);
    }
    assert.match(out.args.unsafe ?? '', /arguments cannot be checked \(the JSON Schema library \(ajv\) could not be loaded/);
    assert.ok(out.again.unsafe, 'still refused on the next call');
  });
});

describe('unambiguous JSON', () => {
  it('finds a key repeated in one object, after unescaping, and nothing else', () => {
    assert.equal(findDuplicateKey('{"a":1,"a":2}'), 'a');
    assert.equal(findDuplicateKey('{"p":{"name":"x","\\u006eame":"y"}}'), 'p.name');
    assert.equal(findDuplicateKey('{"a":{"b":1},"c":{"b":2}}'), undefined);
    assert.equal(findDuplicateKey('[{"a":1},{"a":1}]'), undefined);
    assert.equal(findDuplicateKey('{"a":"{\\"a\\":1,","b":["a","a"]}'), undefined, 'strings are not keys');
    assert.equal(findDuplicateKey('{"x":[{"k":1,"k":2}]}'), 'x.[].k');
    // Many keys (past the short list the walk first searches), and the walk's state from one text never leaks into the next.
    const many = Array.from({ length: 40 }, (_, i) => `"k${i}":${i}`);
    assert.equal(findDuplicateKey(`{${many.join(',')}}`), undefined);
    assert.equal(findDuplicateKey(`{"deep":{${many.join(',')},"k3":0}}`), 'deep.k3');
    assert.equal(findDuplicateKey('{"a":{"b":{"c":1}}}'), undefined);
    assert.equal(findDuplicateKey('{"q\\"":1,"q\\"":2}'), 'q"', 'a key with an escaped quote');
    assert.equal(findDuplicateKey('{"q\\"":1,"q":2}'), undefined);
    assert.throws(() => parseJson('{"id":1,"id":2}'), (e: GatewayError) => e.code === 'PC_PROTOCOL_AMBIGUOUS');
  });

  it('decodes strict UTF-8 only', () => {
    assert.equal(decodeUtf8(Buffer.from('grüße')), 'grüße');
    for (const bytes of [[0xff], [0xc3, 0x28], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80]]) {
      assert.throws(() => decodeUtf8(Buffer.from(bytes)), (e: GatewayError) => e.code === 'PC_PROTOCOL_PARSE_ERROR', JSON.stringify(bytes));
    }
    assert.throws(() => parseJson(decodeUtf8(Buffer.from([0xef, 0xbb, 0xbf, 0x7b, 0x7d]))), (e: GatewayError) => e.code === 'PC_PROTOCOL_PARSE_ERROR', 'a BOM is not stripped');
  });

  it('refuses messages that are two things at once or carry undefined members', () => {
    for (const value of [
      { jsonrpc: '2.0', id: 1, method: 'x', result: {} },
      { jsonrpc: '2.0', id: 1, method: 'x', error: { code: 1, message: 'm' } },
      { jsonrpc: '2.0', id: 1, result: {}, error: { code: 1, message: 'm' } },
      { jsonrpc: '2.0', id: 1, method: 'x', name: 'y' },
    ]) {
      assert.throws(() => assertMessage(value), (e: GatewayError) => e.code === 'PC_PROTOCOL_INVALID_REQUEST', JSON.stringify(value));
    }
  });
});
