/**
 * Media-type negotiation of the HTTP front: which Accept headers let a POST be answered as JSON or as
 * an event stream (parameters ignored, ranges and case as HTTP allows); reading a body, whether it is
 * already in when asked for or still arriving.
 */
import assert from 'node:assert/strict';
import { createServer, request, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { GatewayError } from '../../src/errors.ts';
import { accepts, readBody } from '../../src/downstream/http-io.ts';

const withAccept = (accept: string | undefined): IncomingMessage => ({ headers: accept === undefined ? {} : { accept } }) as unknown as IncomingMessage;

describe('accepts', () => {
  it('matches a listed type, its range or any type, whatever the parameters, spaces and case', () => {
    assert.equal(accepts(withAccept('application/json, text/event-stream'), 'text/event-stream'), true);
    assert.equal(accepts(withAccept('application/json, text/event-stream'), 'application/json'), true);
    assert.equal(accepts(withAccept('Text/Event-Stream;q=0.9'), 'text/event-stream'), true);
    assert.equal(accepts(withAccept('application/json;q=1, text/*;q=0.5'), 'text/event-stream'), true);
    assert.equal(accepts(withAccept('*/*'), 'application/json'), true);
    assert.equal(accepts(withAccept(undefined), 'application/json'), true, 'no Accept header accepts anything');
  });

  it('refuses what the list does not name', () => {
    assert.equal(accepts(withAccept('application/json'), 'text/event-stream'), false);
    assert.equal(accepts(withAccept('text/html, application/*'), 'text/event-stream'), false);
    assert.equal(accepts(withAccept('application/json-seq'), 'application/json'), false);
    assert.equal(accepts(withAccept('x;application/json,'), 'application/json'), false, 'a parameter is not a media range');
  });
});

/** Sends `parts` (one: with the end of the request; several: 20 ms apart) to a server that reads the body with readBody once the headers are in. */
async function readOnServer(parts: Array<string | Buffer>, maxBodyBytes: number, headers: Record<string, string | number>): Promise<{ sync: boolean; body?: string; code?: string; ended: boolean }> {
  let outcome: { sync: boolean; body?: string; code?: string; ended: boolean } | undefined;
  const server = createServer((req, res) => {
    let ended = false;
    req.once('end', () => (ended = true));
    // Asked for after a turn, as the front does once the caller is authenticated.
    setImmediate(async () => {
      let read: string | Promise<string> | undefined;
      try {
        read = readBody(req, maxBodyBytes);
        const body = typeof read === 'string' ? read : await read;
        outcome = { sync: typeof read === 'string', body, ended: false };
      } catch (error) {
        outcome = { sync: typeof read === 'string', code: error instanceof GatewayError ? error.code : String(error), ended: false };
      }
      res.end('ok', () => setImmediate(() => (outcome!.ended = ended)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    await new Promise<void>((resolve, reject) => {
      const out = request({ port: (server.address() as AddressInfo).port, host: '127.0.0.1', method: 'POST', headers }, (res) => {
        res.resume();
        res.once('end', resolve);
      });
      out.once('error', reject);
      if (parts.length === 1) return void out.end(parts[0]);
      const write = (i: number): void => {
        if (i === parts.length) return void out.end();
        out.write(parts[i]!);
        setTimeout(() => write(i + 1), 20);
      };
      write(0);
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
  } finally {
    server.close();
  }
  return outcome!;
}

describe('readBody', () => {
  it('returns a body that is already in at once, and the request still ends', async () => {
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' });
    const read = await readOnServer([body], 1024, { 'content-length': Buffer.byteLength(body) });
    assert.deepEqual(read, { sync: true, body, ended: true });
  });

  it('waits for a body still arriving (in pieces, without a declared length)', async () => {
    const read = await readOnServer(['{"jsonrpc":"2.0",', '"id":1,"method":"ping"}'], 1024, { 'transfer-encoding': 'chunked' });
    assert.equal(read.body, '{"jsonrpc":"2.0","id":1,"method":"ping"}');
    assert.equal(read.sync, false);
  });

  it('refuses a body past maxBodyBytes whether it is already in or still arriving', async () => {
    const big = 'x'.repeat(300);
    assert.equal((await readOnServer([big], 100, { 'transfer-encoding': 'chunked' })).code, 'PC_HTTP_BODY_TOO_LARGE');
    assert.equal((await readOnServer([big.slice(0, 150), big.slice(150)], 100, { 'transfer-encoding': 'chunked' })).code, 'PC_HTTP_BODY_TOO_LARGE');
  });

  it('refuses a body already in that is not UTF-8', async () => {
    const read = await readOnServer([Buffer.from([0x7b, 0xff, 0x7d])], 1024, { 'content-length': 3 });
    assert.equal(read.code, 'PC_PROTOCOL_PARSE_ERROR');
  });
});
