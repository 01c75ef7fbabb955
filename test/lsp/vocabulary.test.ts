// Completion's words stay the parser's words: every statement keyword the
// parser knows is offered, and every reply and init flag of the model.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { INIT_BEHAVIOURS, INIT_FLAGS, OPEN_FLAGS } from '../../server/model/flags';
import { STATEMENT_KEYWORDS } from '../../server/scenario/parse';
import { analyseAfresh } from '../../server/lsp/analysis';
import { complete } from '../../server/lsp/completion';
import { STATEMENTS } from '../../server/lsp/vocabulary';

test('the statements completion offers are the statements the parser knows', () => {
  assert.deepEqual(STATEMENTS.map((s) => s.keyword).sort(), [...STATEMENT_KEYWORDS].sort());
});

test('every reply flag and init flag of the model is offered (newest kernel)', () => {
  const a = analyseAfresh('file a\nopen a as f1 reply \ninit \n');
  const reply = complete(a, 'open a as f1 reply ', { line: 1, character: 19 }).map((i) => i.label);
  for (const f of OPEN_FLAGS) assert.ok(reply.includes(f.name), f.name);
  const init = complete(a, 'init ', { line: 2, character: 5 }).map((i) => i.label);
  for (const f of [...INIT_FLAGS, ...INIT_BEHAVIOURS]) assert.ok(init.includes(f.name), f.name);
});
