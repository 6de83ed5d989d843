/**
 * Media-type negotiation of the HTTP front: which Accept headers let a POST be answered as JSON or as
 * an event stream (parameters ignored, ranges and case as HTTP allows).
 */
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { describe, it } from 'node:test';
import { accepts } from '../../src/downstream/http-io.ts';

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
