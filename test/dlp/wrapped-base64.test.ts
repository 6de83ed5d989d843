import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { unwrappedView } from '../../src/dlp/normalize.ts';

describe('unwrappedView', () => {
  it('removes only the line breaks inside wrapped base64, mapped to the source', () => {
    const text = 'header line\nQUJDREVGR0hJSktMTU5PUFFS\r\n  U1RVVldYWVo=\nfooter';
    const view = unwrappedView(text)!;
    assert.equal(view.text, 'header line\nQUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=\nfooter');
    const at = view.text.indexOf('U1RV');
    assert.equal(text.slice(view.starts[at]!, view.ends[at + 3]!), 'U1RV');
  });

  it('leaves text without wrapped base64 alone', () => {
    assert.equal(unwrappedView('one line only'), undefined);
    assert.equal(unwrappedView('short\nlines\nof prose here'), undefined);
  });
});
