// Signals on the real kernel (root and /dev/fuse): every FUSE_INTERRUPT the
// lab server reads is one the simulator reports (`request-interrupted`), for
// the request it names, and the run has no difference. Threads are real
// threads: a thread's requests carry its own tid, in its process's group.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { join, resolve } from 'node:path';
import { labAvailability, runScenario } from '../../server/lab/index';
import type { LabEvent } from '../../server/lab/log';

const available = labAvailability();
const skip = available.ok ? false : available.reason;
const root = resolve(__dirname, '../..');

for (const name of ['signal-interrupts-held-requests', 'signal-kill-waits-for-held-request']) {
  test(`${name}: the server reads one FUSE_INTERRUPT per request-interrupted of the simulator, for a held request`, { skip }, async () => {
    const text = fs.readFileSync(join(root, 'test/scenarios', `${name}.fusesim`), 'utf8');
    const events: LabEvent[] = [];
    const result = await runScenario(text, { log: (e) => events.push(e) });
    assert.equal(result.differences, 0);
    const requests = events.filter((e): e is Extract<LabEvent, { type: 'request' }> => e.type === 'request');
    const interrupts = requests.filter((e) => e.opcode === 'FUSE_INTERRUPT');
    const expected = result.diagnostics.filter((d) => d.code === 'request-interrupted');
    assert.ok(expected.length > 0);
    assert.equal(interrupts.length, expected.length);
    for (const i of interrupts) {
      const target = requests.find((r) => r.unique === (i.args as { unique: number }).unique);
      assert.ok(target && (target.opcode === 'FUSE_WRITE' || target.opcode === 'FUSE_FLUSH'), `INTERRUPT of ${JSON.stringify(target)}`);
    }
  });
}

test('a thread is a thread of its process: its requests come from another tid of the same thread group', { skip }, async () => {
  const text = 'file a\nprocess p\nthread t of p\np: open a as f reply direct_io\np: write f\nt: write f\n';
  const events: LabEvent[] = [];
  const writers = () => events.filter((e): e is Extract<LabEvent, { type: 'request' }> => e.type === 'request' && e.opcode === 'FUSE_WRITE').map((e) => e.pid);
  const tgid = (tid: number) => /^Tgid:\s+(\d+)$/m.exec(fs.readFileSync(`/proc/${tid}/status`, 'utf8'))?.[1];
  let groups: (string | undefined)[] = [];
  const result = await runScenario(text, {
    log: (e) => events.push(e),
    // While the agents live: the thread group of each writing task.
    onProgress: (s) => {
      if (s.line === 6) groups = writers().map(tgid);
    },
  });
  assert.equal(result.differences, 0);
  const [main, thread] = writers();
  assert.ok(main !== undefined && thread !== undefined && main !== thread, 'two tasks wrote');
  assert.equal(groups.length, 2);
  assert.equal(groups[0], String(main), 'the first write is the process\'s main thread');
  assert.equal(groups[1], String(main), 'the thread belongs to the same process');
});
