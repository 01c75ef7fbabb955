// The parser: every statement shape, and every error with its range and what was expected.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseScenario } from '../../server/scenario/parse';
import { isName } from '../../server/scenario/syntax';

function only(text: string) {
  const s = parseScenario(text);
  assert.deepEqual(s.errors, [], `unexpected errors in ${JSON.stringify(text)}`);
  assert.equal(s.statements.length, 1);
  return s.statements[0]!;
}

/** One error on a one-line input: [start column, end column, message fragment]. */
function error(text: string): [number, number, string] {
  const s = parseScenario(text);
  assert.equal(s.errors.length, 1, `expected one error in ${JSON.stringify(text)}, got ${JSON.stringify(s.errors)}`);
  const e = s.errors[0]!;
  assert.equal(e.range.start.line, 0);
  return [e.range.start.character, e.range.end.character, e.message];
}

test('every statement of the language parses', () => {
  const text = [
    'scenario "all statements"  # a comment',
    'kernel 6.18',
    'init passthrough max_stack_depth=2 direct_io_allow_mmap FUSE_WRITEBACK_CACHE no_open',
    'file data.db',
    'process p1',
    'backing b1 "/srv/data.db" => ok',
    'backing close b1',
    'p1: open data.db as f rdonly o_direct reply FOPEN_DIRECT_IO keep_cache backing=b1 => EIO',
    'close f',
    'dup f as g',
    'mmap f shared write as m => ENODEV',
    'munmap m',
    'fork as p2',
    'p2: exit',
    'read f',
    'write f => ok',
    'write f begin as w',
    'write w end',
    'expect data.db passthrough',
    'expect data.db iocachectr=-1',
    '',
    '   # only a comment',
  ].join('\n');
  const s = parseScenario(text);
  assert.deepEqual(s.errors, []);
  assert.deepEqual(s.statements.map((x) => x.kind), [
    'scenario', 'kernel', 'init', 'file', 'process', 'backing', 'backing-close', 'open', 'close', 'dup', 'mmap',
    'munmap', 'fork', 'exit', 'read', 'write', 'write-begin', 'write-end', 'expect', 'expect',
  ]);
  assert.equal(s.lineCount, 22);
  const init = s.statements[2]!;
  assert.ok(init.kind === 'init');
  assert.deepEqual(init.flags.map((f) => f.value), ['passthrough', 'direct_io_allow_mmap', 'writeback_cache', 'no_open']);
  assert.equal(init.maxStackDepth?.value, 2);
  const open = s.statements[7]!;
  assert.ok(open.kind === 'open');
  assert.equal(open.process?.value, 'p1');
  assert.deepEqual(open.process?.range, { start: { line: 7, character: 0 }, end: { line: 7, character: 2 } });
  assert.equal(open.access?.value, 'rdonly');
  assert.ok(open.oDirect);
  assert.deepEqual(open.reply.map((f) => [f.value, f.text]), [['direct_io', 'FOPEN_DIRECT_IO'], ['keep_cache', 'keep_cache']]);
  const at = text.split('\n')[7]!.indexOf('backing=b1') + 'backing='.length;
  assert.deepEqual(open.backing?.kind === 'name' && open.backing.name.range, { start: { line: 7, character: at }, end: { line: 7, character: at + 2 } });
  assert.equal(open.outcome?.value, 'EIO');
  const backing = s.statements[5]!;
  assert.ok(backing.kind === 'backing' && backing.path?.value === '/srv/data.db');
});

test('isName takes what [A-Za-z_][A-Za-z0-9_.-]* matches, over every string of up to 3 characters from an alphabet around its edges', () => {
  const grammar = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
  const alphabet = ['a', 'Z', '_', '0', '9', '.', '-', ' ', '@', '[', '`', '{', '/', ':', '\n', 'é', '\u0100'];
  const strings = [''];
  for (let len = 1, last = ['']; len <= 3; len++) {
    last = last.flatMap((prefix) => alphabet.map((c) => prefix + c));
    strings.push(...last);
  }
  for (const s of strings) assert.equal(isName(s), grammar.test(s), JSON.stringify(s));
});

test('statement ranges exclude comments and include the outcome', () => {
  const s = only('open a as f   => ok   # trailing');
  assert.deepEqual([s.line, s.start, s.end], [0, 0, 19]);
});

test('backing close alone declares a backing named close', () => {
  const s = only('backing close');
  assert.ok(s.kind === 'backing' && s.name.value === 'close');
});

test('backing ids may be numbers, including bad ones', () => {
  const s = only('open a as f reply passthrough backing=-5');
  assert.ok(s.kind === 'open' && s.backing?.kind === 'id' && s.backing.id.value === -5);
});

test('glued arrows parse: open a as f=>EIO', () => {
  const s = only('open a as f=>EIO');
  assert.ok(s.kind === 'open' && s.handle.value === 'f' && s.outcome?.value === 'EIO');
});

test('parser errors: range and what was expected', () => {
  const cases: [string, [number, number, RegExp]][] = [
    ['frobnicate a', [0, 10, /unknown statement 'frobnicate': expected one of scenario, kernel/]],
    ['scenario title', [9, 14, /expected a quoted title/]],
    ['scenario "x" extra', [13, 18, /expected the end of the statement/]],
    ['kernel six', [7, 10, /expected a kernel version such as 6.18/]],
    ['kernel', [6, 6, /expected a kernel version such as 6.18 at the end of the line/]],
    ['init passthru', [5, 13, /unknown flag 'passthru': expected an init flag/]],
    ['init max_stack_depth=x', [21, 22, /expected a number after max_stack_depth=/]],
    ['file', [4, 4, /expected a file name/]],
    ['file 9lives', [5, 11, /expected a file name/]],
    ['process', [7, 7, /expected a process name/]],
    ['backing', [7, 7, /expected a backing name/]],
    ['backing b "/x" more', [15, 19, /expected the end of the statement \(backing NAME \["PATH"\] \[dir\|o_path\] \[stacked\] \[flags=N\]\)/]],
    ['open', [4, 4, /expected a file to open/]],
    ['open a f', [7, 8, /expected 'as' in `open FILE as F`/]],
    ['open a as', [9, 9, /expected a name for the open file/]],
    ['open a as f reply bogus', [18, 23, /unknown flag 'bogus': expected a reply flag \(direct_io, keep_cache/]],
    ['open a as f direct_io', [12, 21, /reply flags go after 'reply': reply direct_io/]],
    ['open a as f rdonly rdwr', [19, 23, /access mode given twice/]],
    ['open a as f backing=%', [20, 21, /expected a backing name or a number after backing=/]],
    ['open a as f "x"', [12, 15, /expected an open option/]],
    ['close', [5, 5, /expected an open file/]],
    ['dup f g', [6, 7, /expected 'as' in `dup F as G`/]],
    ['mmap f', [6, 6, /expected 'shared' or 'private'/]],
    ['mmap f public as m', [7, 13, /expected 'shared' or 'private', found 'public'/]],
    ['mmap f shared m', [14, 15, /expected 'as' in `mmap F shared\|private \[write\] as M`/]],
    ['munmap', [6, 6, /expected a mapping/]],
    ['fork p2', [5, 7, /expected 'as' in `fork as P2`/]],
    ['exit now', [5, 8, /expected the end of the statement \(exit\)/]],
    ['write f begin w', [14, 15, /expected 'as' in `write F begin as W`/]],
    ['write f sideways', [8, 16, /expected the end of the statement \(write F, write F begin as W, or write W end\)/]],
    ['expect a hot', [9, 12, /expected a mode \(idle, caching, uncached, passthrough\) or iocachectr=N/]],
    ['expect a iocachectr=one', [20, 23, /expected a whole number after iocachectr=/]],
    ['open a as f =>', [14, 14, /expected an outcome after '=>'/]],
    ['open a as f => maybe', [15, 20, /expected an outcome after '=>': ok, blocks or an errno name/]],
    ['open a as f => EIO again', [19, 24, /expected the end of the line after '=> EIO'/]],
    ['=> ok', [0, 0, /expected a statement before =>/]],
    ['p1: kernel 6.9', [0, 3, /'kernel' is not a process step/]],
    ['9p: open a as f', [0, 3, /expected a process name before ':'/]],
    ['p1:', [0, 3, /expected a statement keyword/]],
    ['scenario "unterminated', [9, 22, /unterminated string: expected a closing "/]],
  ];
  for (const [text, [start, end, message]] of cases) {
    const [s, e, m] = error(text);
    assert.match(m, message, text);
    assert.deepEqual([s, e], [start, end], `${text}: ${m}`);
  }
});

test('one bad line never hides the others', () => {
  const s = parseScenario('file a\nopen a as\nopen a as f\nmmap f public as m\nclose f');
  assert.equal(s.errors.length, 2);
  assert.deepEqual(s.errors.map((e) => e.range.start.line), [1, 3]);
  assert.deepEqual(s.statements.map((x) => x.kind), ['file', 'open', 'close']);
});

test('CRLF and lone CR line endings count lines as editors do', () => {
  const s = parseScenario('file a\r\nopen a as f\rclose f\n');
  assert.deepEqual(s.statements.map((x) => x.line), [0, 1, 2]);
  assert.equal(s.lineCount, 4);
});

test('open takes o_trunc and o_append (any case); fcntl setfl lists the flags it leaves set', () => {
  const open = only('open a as f wronly O_TRUNC o_append reply direct_io');
  assert.ok(open.kind === 'open');
  assert.deepEqual([open.oTrunc?.value, open.oAppend?.value, open.oDirect], ['o_trunc', 'o_append', undefined]);
  assert.deepEqual(open.oTrunc?.range, { start: { line: 0, character: 19 }, end: { line: 0, character: 26 } });
  const set = only('p1: fcntl f setfl O_DIRECT o_append => ok');
  assert.ok(set.kind === 'fcntl');
  assert.deepEqual([set.process?.value, set.handle.value, set.setfl.map((f) => f.value)], ['p1', 'f', ['o_direct', 'o_append']]);
  const clear = only('fcntl f setfl');
  assert.ok(clear.kind === 'fcntl' && clear.setfl.length === 0);
});

test('errors of the open status flags and of fcntl', () => {
  const cases: [string, [number, number, RegExp]][] = [
    ['open a as f o_trunc o_trunc', [20, 27, /'o_trunc' given twice/]],
    ['open a as f o_nofollow', [12, 22, /unexpected 'o_nofollow': expected rdonly, wronly, rdwr, o_direct, o_trunc, o_append, reply FLAG..., backing=B or begin as O/]],
    ['fcntl', [5, 5, /expected an open file/]],
    ['fcntl f o_direct', [8, 16, /expected 'setfl' in `fcntl F setfl \[o_direct\] \[o_append\]`/]],
    ['fcntl f setfl o_trunc', [14, 21, /unexpected 'o_trunc': expected a flag F_SETFL changes \(o_direct, o_append\)/]],
    ['fcntl f setfl o_append o_append', [23, 31, /'o_append' given twice/]],
  ];
  for (const [text, [start, end, message]] of cases) {
    const [s, e, m] = error(text);
    assert.match(m, message, text);
    assert.deepEqual([s, e], [start, end], `${text}: ${m}`);
  }
});

test('create is an open with O_CREAT: the same options, and o_excl only there', () => {
  const c = only('p1: create new.db as n rdonly o_excl O_TRUNC reply direct_io backing=b1 => EEXIST');
  assert.ok(c.kind === 'open');
  assert.deepEqual(c.create, { start: { line: 0, character: 4 }, end: { line: 0, character: 10 } });
  assert.deepEqual([c.file.value, c.handle.value, c.access?.value, c.oExcl?.value, c.oTrunc?.value], ['new.db', 'n', 'rdonly', 'o_excl', 'o_trunc']);
  assert.deepEqual(c.reply.map((f) => f.value), ['direct_io']);
  const plain = only('open a as f');
  assert.ok(plain.kind === 'open' && plain.create === undefined);
  const cases: [string, [number, number, RegExp]][] = [
    ['create', [6, 6, /expected a name to create/]],
    ['create x f', [9, 10, /expected 'as' in `create FILE as F`/]],
    ['open a as f o_excl', [12, 18, /'o_excl' needs O_CREAT: write `create FILE as F o_excl`/]],
    ['create a as f o_excl O_EXCL', [21, 27, /'o_excl' given twice/]],
  ];
  for (const [text, [start, end, message]] of cases) {
    const [s, e, m] = error(text);
    assert.match(m, message, text);
    assert.deepEqual([s, e], [start, end], `${text}: ${m}`);
  }
});

test('reply error=ERRNO: the whole answer of the server', () => {
  const o = only('open a as f reply error=ENOSYS => ok');
  assert.ok(o.kind === 'open');
  assert.deepEqual([o.replyError?.value, o.replyError?.range.start.character, o.reply], ['ENOSYS', 24, []]);
  const cases: [string, [number, number, RegExp]][] = [
    ['open a as f reply error=nope', [24, 28, /expected an errno name after error=, such as ENOSYS or EIO/]],
    ['open a as f reply error=EIO error=EIO', [28, 37, /a reply has one error/]],
    ['open a as f reply keep_cache error=EIO', [29, 38, /`reply error=ERRNO` is the whole answer/]],
    ['create a as f reply error=EIO backing=b', [20, 29, /an error carries no open flags and no backing id/]],
    ['open a as f error=EIO', [12, 21, /unexpected 'error=EIO'/]],
  ];
  for (const [text, [start, end, message]] of cases) {
    const [s, e, m] = error(text);
    assert.match(m, message, text);
    assert.deepEqual([s, e], [start, end], `${text}: ${m}`);
  }
});

test('send F to P [as G]', () => {
  const s = only('p1: send f to p2 as g => ok');
  assert.ok(s.kind === 'send');
  assert.deepEqual([s.process?.value, s.handle.value, s.to.value, s.as?.value], ['p1', 'f', 'p2', 'g']);
  const plain = only('send f to p2');
  assert.ok(plain.kind === 'send' && plain.as === undefined);
  const cases: [string, [number, number, RegExp]][] = [
    ['send', [4, 4, /expected the open file to send/]],
    ['send f p2', [7, 9, /expected 'to' in `send F to P \[as G\]`/]],
    ['send f to', [9, 9, /expected the process that receives it/]],
    ['send f to p2 g', [13, 14, /expected 'as' or the end of the statement/]],
    ['send f to p2 as', [15, 15, /expected the name the receiving process gives it/]],
  ];
  for (const [text, [start, end, message]] of cases) {
    const [s, e, m] = error(text);
    assert.match(m, message, text);
    assert.deepEqual([s, e], [start, end], `${text}: ${m}`);
  }
});

test('munmap M part and msync M', () => {
  const u = only('p1: munmap m part');
  assert.ok(u.kind === 'munmap' && u.part?.value === 'part' && u.mapping.value === 'm');
  const whole = only('munmap m');
  assert.ok(whole.kind === 'munmap' && whole.part === undefined);
  const m = only('msync m => blocks');
  assert.ok(m.kind === 'msync' && m.mapping.value === 'm');
  assert.deepEqual(error('munmap m half'), [9, 13, "expected the end of the statement (munmap M [part]), found 'half'"]);
  assert.deepEqual(error('msync'), [5, 5, 'expected a mapping (the name given by `mmap ... as M`) (a name like data.db or f1) at the end of the line']);
});

test('backing options: dir or o_path, flags=N', () => {
  const b = only('backing b "/x" o_path flags=3 => EINVAL');
  assert.ok(b.kind === 'backing');
  assert.deepEqual([b.path?.value, b.fd?.value, b.flags?.value], ['/x', 'o_path', 3]);
  const d = only('backing b dir');
  assert.ok(d.kind === 'backing' && d.fd?.value === 'dir' && d.flags === undefined && d.path === undefined);
  assert.deepEqual(error('backing b flags=x')[2], 'expected a whole number (the u32 flags of struct fuse_backing_map) after flags=');
  assert.deepEqual(error('backing b dir o_path').slice(0, 2), [14, 20]);
});

test('backing … stacked', () => {
  const b = only('backing b "/x" stacked o_path');
  assert.ok(b.kind === 'backing' && b.stacked?.value === 'stacked' && b.fd?.value === 'o_path');
  assert.deepEqual(error('backing b stacked stacked').slice(0, 2), [18, 25]);
});

test('close F begin as X, close X end', () => {
  const b = only('p1: close f begin as X => blocks');
  assert.ok(b.kind === 'close-begin' && b.handle.value === 'f' && b.as.value === 'X');
  const e = only('close X end');
  assert.ok(e.kind === 'close-end' && e.flush.value === 'X');
  assert.deepEqual(error('close f begin X').slice(0, 2), [14, 15]);
  assert.match(error('close f sideways')[2], /expected the end of the statement \(close F, close F begin as X, or close X end\)/);
});

test('abort: the connection, no process prefix, nothing after it', () => {
  assert.equal(only('abort').kind, 'abort');
  assert.match(error('abort now')[2], /expected the end of the statement \(abort\)/);
  assert.match(error('p1: abort')[2], /'abort' is not a process step/);
});

test('umount [lazy]', () => {
  const plain = only('umount');
  assert.ok(plain.kind === 'umount' && plain.lazy === undefined);
  const lazy = only('umount lazy => ok');
  assert.ok(lazy.kind === 'umount' && lazy.lazy?.value === 'lazy');
  assert.match(error('umount now')[2], /expected the end of the statement \(umount \[lazy\]\)/);
});

test('held OPEN, READ and RELEASE: begin as NAME, NAME end', () => {
  const o = only('p1: open a as f reply passthrough backing=b begin as O => blocks');
  assert.ok(o.kind === 'open' && o.hold?.value === 'O' && o.reply[0]?.value === 'passthrough' && o.backing?.kind === 'name');
  const oe = only('open O end');
  assert.ok(oe.kind === 'open-end' && oe.open.value === 'O');
  assert.match(error('create n as f begin as O')[2], /`begin as O` holds an OPEN: it goes on `open`, not on `create`/);
  assert.match(error('open a as f begin as O reply direct_io')[2], /expected the end of the statement \(open FILE as F \.\.\. begin as O/);
  assert.deepEqual(error('open a as f begin O').slice(0, 2), [18, 19]);
  const r = only('read f begin as R');
  assert.ok(r.kind === 'read-begin' && r.handle.value === 'f' && r.as.value === 'R');
  const re = only('read R end');
  assert.ok(re.kind === 'read-end' && re.read.value === 'R');
  assert.match(error('read f sideways')[2], /expected the end of the statement \(read F, read F begin as R, or read R end\)/);
  const l = only('release f begin as R');
  assert.ok(l.kind === 'release-begin' && l.handle.value === 'f' && l.as.value === 'R');
  const le = only('release R end');
  assert.ok(le.kind === 'release-end' && le.release.value === 'R');
  assert.match(error('release f')[2], /expected 'begin' or 'end'/);
  assert.match(error('p1: release f begin as R')[2], /'release' is not a process step/);
});

test('create … reply error=ENOSYS reply FLAG...: the CREATE is refused, the OPEN after MKNOD answered', () => {
  const c = only('create n as f reply error=ENOSYS reply passthrough backing=b');
  assert.ok(c.kind === 'open' && c.createReply?.value === 'ENOSYS' && c.replyError === undefined && c.reply.map((f) => f.value).join() === 'passthrough');
  const e = only('create n as f reply error=ENOSYS reply error=EIO');
  assert.ok(e.kind === 'open' && e.createReply?.value === 'ENOSYS' && e.replyError?.value === 'EIO');
  for (const text of ['open a as f reply error=ENOSYS reply keep_cache', 'create n as f reply error=EIO reply keep_cache', 'create n as f reply keep_cache reply direct_io']) {
    assert.match(error(text)[2], /a second `reply` only follows `create … reply error=ENOSYS`/, text);
  }
});
