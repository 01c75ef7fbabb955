// `simulate`'s steps handed from the simulating thread to the output worker
// (output-worker.ts) through a ring of integers in shared memory, so that the
// table or JSON is made and written on the second CPU (issue 14: formatting was
// about a sixth of `simulate` of a million steps on the one thread).
//
// A step crosses as a few integers, not as text: its line; its process and
// target as the columns of their words in the line (the worker has its own copy
// of the scenario's text); its other strings (action, outcomes, rules, inode
// names, modes, backings: few distinct ones) as ids of a table both sides build,
// each string sent once; its inodes' counters as themselves. The worker makes the
// StepResult again, field for field in the same order, and writes it with the
// same code as the command's own thread (step-output.ts).

import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import type { StepStatement } from '../scenario/ast';
import type { InodeSnapshot, InodeTable, StepResult } from '../scenario/result';
import { forEachLineSpan } from '../scenario/line-spans';
import { targetTokenOf } from '../scenario/syntax';
import { hasOptionalField, OPTIONAL_STEP_FIELDS, type OptionalStepField } from './step-output';

/** The ring's integers: 4 MiB, some 300,000 steps between the threads at most. */
const RING_INTS = 1 << 20;
const RING_MASK = RING_INTS - 1;
/** A record longer than this (a step that changed thousands of inodes, a name of 100,000 characters) goes by message. */
const LARGEST_IN_RING = RING_INTS >> 4;
/** The head is published every this many steps: an atomic store per step would cost more than the step. */
const PUBLISH_EVERY = 256;
/**
 * The worker, having read all, looks again after this many milliseconds: it is not woken at each publish, for a
 * wake-up held the simulating thread back (a futex call, and on a busy machine its CPU taken by the woken worker):
 * 8 % of its `--cpu-prof` samples with a wake-up every 256 steps. Some 1,000 steps come in 2 ms; the ring holds
 * 300,000.
 */
const POLL_MS = 2;

/** Where in `control` each shared counter is. */
const HEAD = 0;
const TAIL = 1;
const STATE = 2;

/** STATE: the worker is writing; it has written everything; the reader closed the pipe; it failed. */
export const WRITING = 0;
export const WRITTEN = 1;
export const CLOSED = 2;
export const FAILED = 3;

/** The records' first integer. */
const STEP = 1;
const STRING = 2;
/** The rest of the ring is unused: the next record is at its start. */
const WRAP = 3;
const END = 4;
/** The record was posted on the port (too long for the ring): read it from there. */
const POSTED = 5;

/** A step's optional fields by their id in a record (OPTIONAL_STEP_FIELDS' index; the order the step has them is kept). */
const OPTIONAL_ID: Record<string, number> = Object.fromEntries(OPTIONAL_STEP_FIELDS.map((k, i) => [k, i]));
/** The fields every step has, which come first. */
const STEP_FIELDS = 6;
/** null (a step still asleep at the end, a backing of none): line numbers, ids and counters are never this. */
const NULL = -0x80000000;

/** The shared memory of one ring: what both threads are given. */
export interface StepRingMemory {
  control: Int32Array;
  data: Int32Array;
}

export function stepRingMemory(): StepRingMemory {
  return { control: new Int32Array(new SharedArrayBuffer(3 * 4)), data: new Int32Array(new SharedArrayBuffer(RING_INTS * 4)) };
}

/**
 * The simulating thread's end: `add` each step with the statement it came from, `end`
 * after the last. Should the worker stop taking steps first (the reader closed the pipe,
 * or it failed), `stopped` is called with its state and ends the command.
 */
export class StepRingWriter {
  private readonly control: Int32Array;
  private readonly data: Int32Array;
  /** How many integers were written, and read by the worker as last seen (it may have read more since). */
  private head = 0;
  private tail = 0;
  private unpublished = 0;
  private readonly ids = new Map<string, number>();
  /** A step's record is made here, then copied into the ring (its length is known only once made). */
  private record = new Int32Array(256);
  private length = 0;

  constructor(memory: StepRingMemory, private readonly port: MessagePort, private readonly stopped: (state: number) => never) {
    this.control = memory.control;
    this.data = memory.data;
  }

  add(step: StepResult, statement: StepStatement): void {
    this.length = 0;
    this.put(STEP);
    this.put(step.line);
    const process = statement.process;
    this.word(process ?? step.process, step.process);
    this.put(this.id(step.action));
    this.word(targetTokenOf(statement), step.target);
    this.put(this.id(step.outcome));
    // Most steps have none of the optional fields: their keys are looked for only when one is there.
    if (hasOptionalField(step)) this.optional(step);
    else this.put(0);
    this.inodes(step.inodes);
    this.send(this.record, this.length);
    if (++this.unpublished === PUBLISH_EVERY) this.publish();
  }

  /** After the last step: waits until the worker has written them all. */
  end(): void {
    this.length = 0;
    this.put(END);
    this.send(this.record, this.length);
    this.publish();
    Atomics.notify(this.control, HEAD);
    for (;;) {
      const state = Atomics.load(this.control, STATE);
      if (state === WRITTEN) return;
      if (state !== WRITING) this.stopped(state);
      Atomics.wait(this.control, STATE, WRITING);
    }
  }

  private put(n: number): void {
    if (this.length === this.record.length) {
      const longer = new Int32Array(2 * this.length);
      longer.set(this.record);
      this.record = longer;
    }
    this.record[this.length++] = n;
  }

  /** A name as its word's columns in the step's line, or (a name no word spells) as an id. */
  private word(token: { start: number; end: number } | string, value: string): void {
    // A word's value is its text; a quoted string's is shorter than its columns (the quotes at least).
    if (typeof token !== 'string' && token.end - token.start === value.length) {
      this.put(token.start);
      this.put(token.end);
    } else {
      this.put(-1 - this.id(value));
      this.put(0);
    }
  }

  /** The optional fields in the order for…in (and so JSON) sees them: a count, then id and value each. */
  private optional(step: StepResult): void {
    const countAt = this.length;
    this.put(0);
    let field = 0;
    for (const key in step) {
      if (field++ < STEP_FIELDS) continue;
      const id = OPTIONAL_ID[key];
      // A field added to StepResult must be carried here, or the worker's output would lack it.
      if (id === undefined) throw new Error(`simulate's output worker does not carry a step's ${key}`);
      const value = step[key as OptionalStepField];
      // Left out, as JSON.stringify leaves it out; the table reads it as absent.
      if (value === undefined) continue;
      this.put(id);
      this.put(value === null ? NULL : typeof value === 'number' ? value : this.id(value as string));
      this.record[countAt]!++;
    }
  }

  private inodes(table: InodeTable): void {
    const countAt = this.length;
    this.put(0);
    for (const name in table) {
      const inode = table[name]!;
      this.put(this.id(name));
      this.put(this.id(inode.mode));
      this.put(inode.iocachectr);
      this.put(inode.backing === null ? NULL : this.id(inode.backing));
      this.record[countAt]!++;
    }
  }

  /** The id of a string, sent to the worker (ahead of the step that names it) the first time. */
  private id(s: string): number {
    let id = this.ids.get(s);
    if (id === undefined) {
      id = this.ids.size;
      this.ids.set(s, id);
      const record = new Int32Array(2 + s.length);
      record[0] = STRING;
      record[1] = s.length;
      for (let i = 0; i < s.length; i++) record[2 + i] = s.charCodeAt(i);
      this.send(record, record.length);
    }
    return id;
  }

  /** Copies a record into the ring (waiting for room), or posts one too long for it. */
  private send(record: Int32Array, length: number): void {
    if (length > LARGEST_IN_RING) {
      this.port.postMessage(record.slice(0, length));
      record = POSTED_RECORD;
      length = 1;
    }
    // A record never runs over the ring's end: a WRAP there, and the rest of the ring left unused.
    const at = this.head & RING_MASK;
    if (at + length > RING_INTS) {
      this.waitForRoom(RING_INTS - at);
      this.data[at] = WRAP;
      this.head = (this.head + RING_INTS - at) | 0;
    }
    this.waitForRoom(length);
    // A loop: a step's dozen integers cost less so than through a subarray and TypedArray#set.
    const data = this.data;
    const to = this.head & RING_MASK;
    for (let i = 0; i < length; i++) data[to + i] = record[i]!;
    this.head = (this.head + length) | 0;
  }

  /** Until `length` more integers fit: head and tail count every integer written and read (modulo 2³²). */
  private waitForRoom(length: number): void {
    while (((this.head - this.tail) | 0) + length > RING_INTS) {
      this.tail = Atomics.load(this.control, TAIL);
      if (((this.head - this.tail) | 0) + length <= RING_INTS) return;
      this.publish();
      Atomics.wait(this.control, TAIL, this.tail, 100);
    }
  }

  private publish(): void {
    this.unpublished = 0;
    Atomics.store(this.control, HEAD, this.head);
    const state = Atomics.load(this.control, STATE);
    if (state === CLOSED || state === FAILED) this.stopped(state);
  }
}

const POSTED_RECORD = Int32Array.of(POSTED);

/**
 * The worker's end: hands each step to `step` as the simulating thread added it, until its
 * end. `text` is the scenario's text, whose lines the steps' words are in.
 */
export function readStepRing(memory: StepRingMemory, port: MessagePort, text: string, step: (s: StepResult) => void): void {
  const { control, data } = memory;
  const lineStarts = lineStartsOf(text);
  const strings: string[] = [];
  let tail = 0;
  let head = 0;
  const read = (r: Int32Array, at: number): number => {
    switch (r[at]) {
      case STRING: {
        const length = r[at + 1]!;
        strings.push(stringOf(r.subarray(at + 2, at + 2 + length)));
        return at + 2 + length;
      }
      case STEP: {
        const line = r[at + 1]!;
        const from = lineStarts[line - 1]!;
        const word = (a: number, b: number): string => (a >= 0 ? text.slice(from + a, from + b) : strings[-1 - a]!);
        const s: StepResult = {
          line,
          process: word(r[at + 2]!, r[at + 3]!),
          action: strings[r[at + 4]!]!,
          target: word(r[at + 5]!, r[at + 6]!),
          outcome: strings[r[at + 7]!]!,
          inodes: NO_CHANGE,
        };
        let i = at + 8;
        const optional = r[i++]!;
        for (let k = 0; k < optional; k++, i += 2) {
          const key = OPTIONAL_STEP_FIELDS[r[i]!]!;
          const value = r[i + 1]!;
          (s as unknown as Record<string, unknown>)[key] = value === NULL ? null : key === 'completedAt' ? value : strings[value];
        }
        const inodes = r[i++]!;
        if (inodes > 0) {
          const table: Record<string, InodeSnapshot> = {};
          for (let k = 0; k < inodes; k++, i += 4) {
            const backing = r[i + 3]!;
            table[strings[r[i]!]!] = { mode: strings[r[i + 1]!]! as InodeSnapshot['mode'], iocachectr: r[i + 2]!, backing: backing === NULL ? null : strings[backing]! };
          }
          s.inodes = table;
        }
        step(s);
        return i;
      }
      case POSTED:
        read(receiveMessageOnPort(port)!.message as Int32Array, 0);
        return at + 1;
      default:
        throw new Error(`simulate's output worker: no record ${r[at]} (at ${at})`);
    }
  };
  // The tail is told to the writer, which may be waiting for room, each sixteenth of the ring and whenever all is read.
  let told = 0;
  const tell = (): void => {
    told = tail;
    Atomics.store(control, TAIL, tail);
    Atomics.notify(control, TAIL);
  };
  for (;;) {
    if (tail === head) {
      if (told !== tail) tell();
      Atomics.wait(control, HEAD, head, POLL_MS);
      head = Atomics.load(control, HEAD);
      continue;
    }
    const at = tail & RING_MASK;
    if (data[at] === END) return;
    if (data[at] === WRAP) tail = (tail + RING_INTS - at) | 0;
    else tail = (tail + read(data, at) - at) | 0;
    if (((tail - told) | 0) >= RING_INTS >> 4) tell();
  }
}

/** A step without inode changes: its table shared, as the simulator's is. */
const NO_CHANGE: InodeTable = Object.freeze({});

/** Where each line of `text` starts. */
function lineStartsOf(text: string): Int32Array {
  let starts = new Int32Array(1024);
  forEachLineSpan(text, (from, _to, n) => {
    if (n === starts.length) {
      const more = new Int32Array(2 * n);
      more.set(starts);
      starts = more;
    }
    starts[n] = from;
  });
  return starts;
}

/** The string of these UTF-16 code units, a few thousand at a time (a call takes only so many arguments). */
function stringOf(units: Int32Array): string {
  let s = '';
  for (let i = 0; i < units.length; i += 4096) s += String.fromCharCode(...units.subarray(i, i + 4096));
  return s;
}

/** The worker's last word: why it stopped taking steps, told to the thread that may be waiting for it. */
export function stopRing(memory: StepRingMemory, state: typeof WRITTEN | typeof CLOSED | typeof FAILED): void {
  Atomics.store(memory.control, STATE, state);
  Atomics.notify(memory.control, STATE);
  Atomics.notify(memory.control, TAIL);
}
