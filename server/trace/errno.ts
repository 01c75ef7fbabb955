// errno numbers ↔ names of the running platform (node's os.constants.errno).

import { constants } from 'node:os';

const names = new Map<number, string>();
for (const [name, value] of Object.entries(constants.errno)) if (!names.has(value)) names.set(value, name);
// Aliases node lists first on Linux; prefer the names strace and the kernel print.
names.set(11, 'EAGAIN');
names.set(95, 'EOPNOTSUPP');
names.set(35, 'EDEADLK');

const numbers = new Map<string, number>([...names].map(([n, name]) => [name, n]));
for (const [name, value] of Object.entries(constants.errno)) if (!numbers.has(name)) numbers.set(name, value);

/** 22 for `EINVAL`; undefined for a name the platform does not know. */
export function errnoNumber(name: string): number | undefined {
  return numbers.get(name);
}

/** `ENOENT` for 2 or -2; `E<n>` for numbers the platform does not name. */
export function errnoName(error: number): string {
  const n = Math.abs(error);
  return names.get(n) ?? `E${n}`;
}
