// For random scenarios built from the grammar: every quick fix offered for a
// diagnostic, applied to the text, leaves fewer diagnostics of that code and
// no more errors than before. (The server only offers fixes it has checked;
// this checks that check independently of the server's own bookkeeping.)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { allDiagnostics, analyzeAfresh } from '../../server/lsp/analysis';
import { codeActions } from '../../server/lsp/code-actions';

const H = ['f1', 'f2', 'f3'];
const statement = fc.oneof(
  fc.constantFrom('init passthrough max_stack_depth=1', 'init passthrough max_stack_depth=1 direct_io_allow_mmap', 'init writeback_cache passthrough',
    'kernel 6.9', 'kernel 6.6', 'kernel 6.12', 'file a', 'file b', 'backing b1', 'backing b2', 'process p1', '# comment',
    'backing b1 dir', 'backing b2 flags=1', 'backing b1 o_path', 'backing b2 stacked', 'init passthrough max_stack_depth=2'),
  fc.tuple(fc.constantFrom('', 'p1: '), fc.constantFrom('a', 'b'), fc.constantFrom(...H, `${H[0]} o_trunc`, `${H[1]} o_append`),
    fc.subarray(['direct_io', 'passthrough', 'parallel_direct_writes', 'keep_cache', 'noflush', 'io_uring_zero_copy']),
    fc.constantFrom('', ' backing=b1', ' backing=b2', ' backing=0'), fc.constantFrom('', ' => ok', ' => EIO'),
    fc.constantFrom('open', 'create'), fc.constantFrom('', ' o_excl'))
    .map(([p, f, h, flags, b, o, verb, excl]) =>
      `${p}${verb} ${verb === 'create' && f === 'b' ? 'c' : f} as ${h}${verb === 'create' ? excl : ''}${flags.length ? ` reply ${flags.join(' ')}` : ''}${b}${o}`),
  fc.tuple(fc.constantFrom('', 'p1: '), fc.constantFrom('close', 'read', 'write'), fc.constantFrom(...H)).map(([p, k, h]) => `${p}${k} ${h}`),
  fc.tuple(fc.constantFrom(...H), fc.constantFrom('shared', 'private'), fc.constantFrom('m1', 'm2')).map(([h, s, m]) => `mmap ${h} ${s} as ${m}`),
  fc.tuple(fc.constantFrom('', 'p1: '), fc.constantFrom(...H), fc.subarray(['o_direct', 'o_append'])).map(([p, h, f]) => `${p}fcntl ${h} setfl ${f.join(' ')}`),
  fc.tuple(fc.constantFrom('', 'p1: ', 'p2: '), fc.constantFrom(...H), fc.constantFrom('main', 'p1', 'p2'), fc.constantFrom('', ' as f3', ' as f1'))
    .map(([p, h, to, as]) => `${p}send ${h} to ${to}${as}`),
  fc.constantFrom('close f1 begin as x1', 'p1: close f2 begin as x2', 'close x1 end', 'close x2 end',
    'write f1 begin as w1', 'write w1 end', 'open a as f2 reply error=ENOSYS', 'create c as f3 reply error=EIO', 'p1: open b as f1 reply error=EACCES',
    'p1: open a as f2 reply passthrough backing=b1 begin as o1', 'open b as f3 begin as o2 => EIO', 'open o1 end', 'open o2 end',
    'read f1 begin as r1', 'p1: read f2 begin as r2', 'read r1 end', 'read r2 end', 'release f1 begin as r3', 'release r3 end',
    'create d as f3 reply error=ENOSYS reply passthrough backing=b1', 'create e as f2 reply error=ENOSYS', 'create g as f1 reply direct_io'),
  fc.constantFrom('munmap m1 part', 'msync m1', 'msync m2', 'munmap m1', 'munmap m2', 'fork as p2', 'p2: exit', 'dup f1 as f3', 'expect a passthrough', 'expect a idle'),
);

test('every quick fix offered on random scenarios removes its diagnostic without adding errors', () => {
  let offered = 0;
  fc.assert(fc.property(fc.array(statement, { minLength: 3, maxLength: 25 }), (lines) => {
    const text = lines.join('\n');
    const before = analyzeAfresh(text);
    const diags = allDiagnostics(before);
    const errors = diags.filter((d) => d.severity === 'error').length;
    const whole = { start: { line: 0, character: 0 }, end: { line: lines.length, character: 0 } };
    const doc = TextDocument.create('file:///p.fusesim', 'fusesim', 1, text);
    for (const action of codeActions(before, doc, [], whole)) {
      offered++;
      const edits = action.edit!.changes![doc.uri]!;
      const after = analyzeAfresh(TextDocument.applyEdits(doc, edits));
      // Which diagnostic the fix is for: the title does not say, so every code it could be for must not grow.
      const afterDiags = allDiagnostics(after);
      assert.ok(afterDiags.filter((d) => d.severity === 'error').length <= errors, `"${action.title}" adds errors:\n${text}`);
      const fixedSomething = diags.some((d) => afterDiags.filter((x) => x.code === d.code).length < diags.filter((x) => x.code === d.code).length);
      assert.ok(fixedSomething, `"${action.title}" removes no diagnostic:\n${text}\n→\n${after.text}`);
    }
  }), { numRuns: 300, seed: 5 });
  assert.ok(offered > 100, `only ${offered} fixes were offered`);
});
