/**
 * The toxic-flow memory (monitor/flows.ts): labels within the window, and `session.tools` — the tools
 * called — which resource and prompt reads label but never fill (they must not push a tool out of the 64
 * a policy condition such as `"vault.read_secret" in session.tools` reads).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FlowTracker, flowKeys } from '../../src/monitor/flows.ts';

describe('FlowTracker', () => {
  const keys = flowKeys('session-1', 'agent-a');

  it('keeps a label for the window and forgets it after', () => {
    const flows = new FlowTracker(60_000);
    flows.note(keys, ['private'], 'mail.read_inbox', 1, 1_000);
    assert.equal(flows.seen(keys, 'private', 60_999)?.tool, 'mail.read_inbox');
    assert.equal(flows.seen(keys, 'private', 61_000), undefined);
    assert.equal(flows.seen(flowKeys(undefined, 'agent-b'), 'private', 2_000), undefined);
  });

  it('a read labels the flow without entering session.tools, so 100 reads leave the called tool in place', () => {
    const flows = new FlowTracker(60_000);
    flows.note(keys, ['private'], 'vault.read_secret', 1, 1_000);
    for (let i = 0; i < 100; i++) flows.note(keys, ['private'], `mail.mem://inbox/${i}`, 2 + i, 1_001 + i, false);
    const session = flows.session(keys, 2_000);
    assert.deepEqual(session.tools, ['vault.read_secret']);
    assert.deepEqual(session.labels, ['private']);
    // The last read is the one a refusal names.
    assert.equal(flows.seen(keys, 'private', 2_000)?.tool, 'mail.mem://inbox/99');
  });
});
