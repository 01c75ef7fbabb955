// Completion's words stay the parser's words: every statement keyword the
// parser knows is offered, and every reply and init flag of the model.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { INIT_BEHAVIOURS, INIT_FLAGS, OPEN_FLAGS } from '../../server/model/flags';
import { analyzeAfresh } from '../../server/lsp/analysis';
import { complete } from '../../server/lsp/completion';
import { parseScenario } from '../../server/scenario/parse';
import { STATEMENTS } from '../../server/scenario/syntax';


test('completion offers every statement of the syntax table, and the parser knows each one', () => {
  const a = analyzeAfresh('');
  const labels = complete(a, '', { line: 0, character: 0 }).map((i) => i.label);
  for (const s of STATEMENTS) {
    assert.ok(labels.includes(s.keyword), s.keyword);
    const parsed = parseScenario(`${s.keyword}\n`);
    assert.ok(!parsed.errors.some((e) => /unknown statement/.test(e.message)), `the parser knows ${s.keyword}`);
  }
});

test('every reply flag and init flag of the model is offered (newest kernel)', () => {
  const a = analyzeAfresh('file a\nopen a as f1 reply \ninit \n');
  const reply = complete(a, 'open a as f1 reply ', { line: 1, character: 19 }).map((i) => i.label);
  for (const f of OPEN_FLAGS) assert.ok(reply.includes(f.name), f.name);
  const init = complete(a, 'init ', { line: 2, character: 5 }).map((i) => i.label);
  for (const f of [...INIT_FLAGS, ...INIT_BEHAVIOURS]) assert.ok(init.includes(f.name), f.name);
});
