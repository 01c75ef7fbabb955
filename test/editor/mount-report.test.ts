// The Markdown report of "FUSE Lens: Inspect Mount…" (extension/mountReport.ts, the
// one renderer of an inspection as Markdown) on the fixture tree of test/inspect, and
// with hostile names: nothing a process or a mountpoint is called adds Markdown or HTML.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { inspectMount, type Inspection } from '../../server/inspect';
import { md, mountReportMarkdown } from '../../extension/mountReport';

const FIX = join(__dirname, '..', 'fixtures', 'inspect', 'ntfs-sshfs');
const inspection = (): Inspection => inspectMount('/mnt/win', { proc: join(FIX, 'proc'), sys: join(FIX, 'sys') });

test('mount table, opens with their shared open files, mappings, evidence, warnings', () => {
  const text = mountReportMarkdown(inspection());
  assert.match(text, /^# FUSE mount \/mnt\/win$/m);
  assert.match(text, /^\| waiting \| 3 \|$/m);
  assert.match(text, /^\| max_background \| 12 \|$/m);
  assert.match(text, /^\| soffice \(200\) \| 3 \| O\\_RDWR O\\_APPEND O\\_LARGEFILE \| 17 \| {2}\|$/m);
  assert.match(text, /^\| soffice \(200\) \| 7f1c2a200000-7f1c2a201000 \| r\\-\\-p \| private, no descriptor \(mapped after close\) \|$/m);
  assert.match(text, /^- pid 300 vanished during the scan/m);
  assert.match(text, /^\| daemon \| ntfs\\-3g \(pid 100\) — holds \/dev\/fuse as fd 3 for this connection \(fdinfo\) \|$/m);
  const ins = inspection();
  const open = ins.inodes[0]!.opens[0]!;
  Object.assign(open, { deleted: true, sharedWith: ['pid 201 fd 4'] });
  assert.match(mountReportMarkdown(ins), /^\| soffice \(200\) \| 3 \(deleted\) \| .* \| 17 \| pid 201 fd 4 \|$/m);
});

test('a newline, a pipe or HTML in a name stays text in its cell', () => {
  const ins = inspection();
  const hostile = 'x\n# owned | <img src=x onerror=alert(1)> *b* [l](http://e)';
  ins.mount.mountpoint = `/mnt/${hostile}`;
  ins.mount.daemon = { pid: 1, comm: hostile, source: 'guess-from-cmdline' };
  for (const i of ins.inodes) for (const o of i.opens) o.comm = hostile;
  const text = mountReportMarkdown(ins);
  const plain = mountReportMarkdown(inspection());
  assert.equal(text.split('\n').length, plain.split('\n').length, 'no line was added');
  assert.doesNotMatch(text, /(^|[^\\])<img/);
  assert.doesNotMatch(text, /^# owned/m);
  // Every table row still has as many cells as its header: no unescaped | came in.
  const cells = (line: string) => line.split(/(?<!\\)\|/).length;
  const rows = text.split('\n').filter((l) => l.startsWith('|'));
  const plainRows = plain.split('\n').filter((l) => l.startsWith('|'));
  assert.deepEqual(rows.map(cells), plainRows.map(cells));
});

test('md: ASCII punctuation escaped, control characters written out', () => {
  assert.equal(md('a_b|c<d>'), 'a\\_b\\|c\\<d\\>');
  // The same escapes as the tree and the terminal (protocol/inert-text.ts), each backslash doubled for Markdown.
  assert.equal(md('line\nnext'), 'line\\\\nnext');
  assert.equal(md('bad\udcffbyte'), 'bad\\\\xffbyte');
  assert.equal(md('/mnt/a b,rw:1'), '/mnt/a b,rw:1');
});

test('processes standing on the mount (cwd, root, exe) get their own table, names escaped', () => {
  const ins = inspection();
  assert.doesNotMatch(mountReportMarkdown(ins), /Working directories/, 'no table without ties');
  ins.ties = [
    { pid: 42, comm: 'sh|x', kind: 'cwd', path: '/mnt/win/My Documents', deleted: false, ino: '5878266001153151637' },
    { pid: 43, comm: 'app', kind: 'exe', path: '/mnt/win/app', deleted: true, ino: 9 },
  ];
  const text = mountReportMarkdown(ins);
  assert.match(text, /^## Working directories, roots and executables on the mount \(2\)$/m);
  assert.match(text, /^\| sh\\\|x \(42\) \| cwd \| \/mnt\/win\/My Documents \| 5878266001153151637 \|$/m);
  assert.match(text, /^\| app \(43\) \| exe \| \/mnt\/win\/app \(deleted\) \| 9 \|$/m);
});
