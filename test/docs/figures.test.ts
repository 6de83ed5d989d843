/**
 * Every measured figure in README.md and docs/ is one a committed run produced: the tables between
 * `<!-- figures:ID -->` markers must equal what bench/figures.ts renders from bench/results/*.jsonl,
 * each required table must be there, no table row outside them may state a figure, and every committed
 * line says where it was measured (commit, date, machine, Node).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { checkDocument, DOCUMENTS, loadResults, renderDocument } from '../../bench/figures.ts';
import { RESULT_FILES } from '../../bench/results.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const results = loadResults();

describe('figures a command reproduces', () => {
  it('every results file is committed, and each line says what was measured where', () => {
    for (const file of RESULT_FILES) {
      const lines = results[file];
      assert.ok(lines.length > 0, `bench/results/${file}.jsonl has figures`);
      for (const [i, line] of lines.entries()) {
        const at = `bench/results/${file}.jsonl line ${i + 1}`;
        assert.match(line.commit, /^[0-9a-f]{7,40}(\+dirty)?$/, `${at}: commit`);
        assert.ok(!Number.isNaN(Date.parse(line.date)), `${at}: date`);
        assert.ok(typeof line.machine === 'string' && /cores/.test(line.machine), `${at}: machine`);
        assert.match(line.node, /^v\d+\.\d+\.\d+$/, `${at}: Node version`);
        assert.ok(typeof line.figure === 'string' && line.figure.length > 0, `${at}: figure`);
        assert.match(line.command, /^node bench\/[a-z-]+\.ts( --[a-z-]+)*$/, `${at}: the command that produced it`);
      }
    }
  });

  for (const name of Object.keys(DOCUMENTS)) {
    it(`${name}: its tables are the committed results`, () => {
      assert.deepEqual(checkDocument(name, readFileSync(`${ROOT}${name}`, 'utf8'), results), []);
    });
  }

  it('the check fails when a figure in a table differs from the committed output by one digit', () => {
    const readme = readFileSync(`${ROOT}README.md`, 'utf8');
    const start = readme.indexOf('<!-- figures:performance-summary -->');
    const row = readme.indexOf('\n| Portcullis passthrough', start);
    assert.ok(start >= 0 && row > start, 'the README has the summary table with a passthrough row');
    const digit = readme.slice(row).search(/\d/) + row;
    const tampered = readme.slice(0, digit) + String((Number(readme[digit]) + 1) % 10) + readme.slice(digit + 1);
    const problems = checkDocument('README.md', tampered, results);
    assert.equal(problems.length, 1);
    assert.match(problems[0]!, /performance-summary differs/);
    // …and re-rendering restores exactly the committed figures.
    assert.equal(renderDocument(tampered, results), readme);
  });

  it('the check fails on a missing block and on a figure stated outside the blocks', () => {
    const perf = readFileSync(`${ROOT}docs/performance.md`, 'utf8');
    const without = perf.replace(/<!-- figures:memory -->[\s\S]*?<!-- \/figures:memory -->/, '| idle RSS | 64 MB |');
    const problems = checkDocument('docs/performance.md', without, results);
    assert.ok(problems.some((p) => /no <!-- figures:memory --> block/.test(p)), problems.join('\n'));
    assert.ok(problems.some((p) => /outside the generated blocks states a figure: \| idle RSS \| 64 MB/.test(p)), problems.join('\n'));
  });

  it('the check fails when the committed output is missing', () => {
    const empty = { ...results, memory: [] };
    const problems = checkDocument('README.md', readFileSync(`${ROOT}README.md`, 'utf8'), empty);
    assert.ok(problems.some((p) => /memory\.jsonl has no figures/.test(p)), problems.join('\n'));
  });
});
