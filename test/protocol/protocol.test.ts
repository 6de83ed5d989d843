import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ERROR_MAP, GatewayError, httpStatusFor, toJsonRpcError, type GatewayErrorCode } from '../../src/errors.ts';
import { decodeHeaderValue, encodeHeaderValue } from '../../src/protocol/headers.ts';
import { assertMessage, parseJson } from '../../src/protocol/jsonrpc.ts';
import { SseParser, sseFrame } from '../../src/protocol/sse.ts';

describe('SSE parser', () => {
  it('reassembles events split across chunks and line endings', () => {
    const parser = new SseParser();
    const chunks = ['id: 7\r\nevent: mess', 'age\r\ndata: {"a":', '1}\r\n\r', '\n: comment\n\ndata: x\ndata: y\n\n'];
    const events = chunks.flatMap((c) => parser.push(c));
    assert.deepEqual(events, [
      { event: 'message', data: '{"a":1}', id: '7' },
      { event: 'message', data: 'x\ny', id: '7' },
    ]);
  });

  it('round-trips frames it writes', () => {
    const parser = new SseParser();
    assert.deepEqual(parser.push(sseFrame('line1\nline2', { id: '3' })), [{ event: 'message', data: 'line1\nline2', id: '3' }]);
  });
});

describe('modern headers', () => {
  it('decodes =?base64?…?= values and leaves plain ones alone', () => {
    assert.equal(decodeHeaderValue(`=?base64?${Buffer.from('tool ü').toString('base64')}?=`), 'tool ü');
    assert.equal(decodeHeaderValue('plain_tool'), 'plain_tool');
    assert.equal(encodeHeaderValue('plain_tool'), 'plain_tool');
    assert.equal(decodeHeaderValue(encodeHeaderValue(' spaced ')), ' spaced ');
  });
});

describe('JSON-RPC validation', () => {
  it('names what is wrong and where', () => {
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        return (error as GatewayError).code;
      }
      return 'no error';
    };
    assert.equal(code(() => parseJson('{')), 'PC_PROTOCOL_PARSE_ERROR');
    assert.equal(code(() => assertMessage([])), 'PC_PROTOCOL_INVALID_REQUEST');
    assert.equal(code(() => assertMessage({ jsonrpc: '2.0', id: {}, method: 'x' })), 'PC_PROTOCOL_INVALID_REQUEST');
    assert.equal(code(() => assertMessage({ jsonrpc: '2.0', id: 1, method: 'x', params: [] })), 'PC_PROTOCOL_INVALID_REQUEST');
    assert.equal(code(() => assertMessage({ jsonrpc: '2.0', id: 1, method: 'x' })), 'no error');
    assert.throws(() => assertMessage({ jsonrpc: '2.0' }, 'body[2]'), /^GatewayError: body\[2\]: is neither/);
  });
});

describe('error map', () => {
  it('maps every code, keeps policy-style codes outside the reserved JSON-RPC range, and hides internals', () => {
    for (const [code, mapping] of Object.entries(ERROR_MAP)) {
      assert.ok(mapping.status >= 200 && mapping.status < 600, code);
      if (code.startsWith('PC_UPSTREAM_') || code === 'PC_REQUEST_CANCELLED') {
        assert.ok(mapping.rpcCode > -32000 || mapping.rpcCode < -32768, `${code} uses an application code`);
      }
    }
    const internal = toJsonRpcError(new GatewayError('PC_INTERNAL', 'stack trace with /etc/secret'), 'corr-1');
    assert.equal(internal.code, -32603);
    assert.doesNotMatch(JSON.stringify(internal), /secret/);
    assert.deepEqual(internal.data, { code: 'PC_INTERNAL', correlationId: 'corr-1' });
    const codes: GatewayErrorCode[] = ['PC_SESSION_UNKNOWN', 'PC_ROUTE_UNKNOWN_TOOL'];
    assert.deepEqual(codes.map((c) => httpStatusFor(new GatewayError(c, ''), 'legacy')), [404, 200]);
    assert.equal(httpStatusFor(new GatewayError('PC_PROTOCOL_METHOD_NOT_FOUND', ''), 'modern'), 404);
  });
});
