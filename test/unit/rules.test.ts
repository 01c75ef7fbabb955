// Each rule has one record (server/model/rules.ts, server/scenario/lint-rules.ts)
// and one page (docs/rules/NAME.md): the page's heading and its row in the
// index are the record's title, and no page is without a record.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { join, resolve } from 'node:path';
import { RULES } from '../../server/model/rules';
import { LINT_RULES } from '../../server/scenario/lint-rules';

const dir = resolve(__dirname, '../../docs/rules');
const records: Record<string, { title: string }> = { ...RULES, ...LINT_RULES };

test('kernel rules and lint rules are apart: no name in both', () => {
  for (const name of Object.keys(LINT_RULES)) assert.ok(!(name in RULES), name);
});

test('every rule has its page, headed by the record\'s title', () => {
  for (const [name, r] of Object.entries(records)) {
    const page = fs.readFileSync(join(dir, `${name}.md`), 'utf8');
    assert.equal(page.split('\n')[0], `# ${r.title}`, name);
    assert.match(page, new RegExp(`Rule \`${name}\``), `${name}: the page names its rule`);
  }
});

test('the index lists every rule with its title, and every page has a record', () => {
  const index = fs.readFileSync(join(dir, 'README.md'), 'utf8');
  for (const [name, r] of Object.entries(records)) {
    const row = index.split('\n').find((l) => l.startsWith(`| [\`${name}\`]`));
    assert.ok(row, `${name} in docs/rules/README.md`);
    assert.ok(row.trimEnd().endsWith(`| ${r.title} |`), `${name}: ${row}`);
  }
  for (const file of fs.readdirSync(dir)) {
    if (file === 'README.md') continue;
    assert.ok(file.replace(/\.md$/, '') in records, `docs/rules/${file} has no record`);
  }
});
