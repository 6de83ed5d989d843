import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkParamHeaders, decodeParamValue, encodeParamValue, headersForCall, paramHeaders } from '../../src/protocol/param-headers.ts';

const schema = {
  type: 'object',
  properties: {
    region: { type: 'string', 'x-mcp-header': 'Region' },
    priority: { type: 'integer', 'x-mcp-header': 'Priority' },
    nested: { type: 'object', properties: { flag: { type: 'boolean', 'x-mcp-header': 'Flag' } } },
    listed: { type: 'array', items: { type: 'string', 'x-mcp-header': 'Ignored' } },
    query: { type: 'string' },
  },
};

describe('Mcp-Param headers', () => {
  const specs = paramHeaders(schema);

  it('finds only parameters reachable through properties', () => {
    assert.deepEqual(specs.map((s) => s.header), ['mcp-param-region', 'mcp-param-priority', 'mcp-param-flag']);
  });

  it('derives headers from arguments, encoding what is not plain ASCII', () => {
    assert.deepEqual(headersForCall(specs, { region: 'Hello, 世界', priority: 42, nested: { flag: false }, query: 'x' }), {
      'mcp-param-region': `=?base64?${Buffer.from('Hello, 世界').toString('base64')}?=`,
      'mcp-param-priority': '42',
      'mcp-param-flag': 'false',
    });
    assert.equal(encodeParamValue('=?base64?literal?='), `=?base64?${Buffer.from('=?base64?literal?=').toString('base64')}?=`);
    assert.equal(encodeParamValue(' padded '), '=?base64?IHBhZGRlZCA=?=');
  });

  it('accepts matching headers, numerically for integers, and ignores absent or null values', () => {
    assert.equal(checkParamHeaders(specs, { region: 'us-west1', priority: 42 }, { 'mcp-param-region': 'us-west1', 'mcp-param-priority': '42.0' }), undefined);
    assert.equal(checkParamHeaders(specs, { region: null }, {}), undefined);
    assert.equal(checkParamHeaders(specs, { region: 'Hello' }, { 'mcp-param-region': '=?base64?SGVsbG8=?=' }), undefined);
  });

  it('rejects missing, mismatched and badly encoded headers', () => {
    assert.match(checkParamHeaders(specs, { region: 'us' }, {})!, /required/);
    assert.match(checkParamHeaders(specs, { region: 'us' }, { 'mcp-param-region': 'eu' })!, /does not match/);
    assert.match(checkParamHeaders(specs, { region: 'Hello' }, { 'mcp-param-region': '=?base64?SGVsbG8?=' })!, /invalid/);
    assert.match(checkParamHeaders(specs, { region: 'Hello' }, { 'mcp-param-region': '=?base64?SGVs!!!bG8=?=' })!, /invalid/);
    assert.equal(decodeParamValue('=?base64?SGVsbG8='), '=?base64?SGVsbG8=', 'no suffix: a literal');
  });
});
