// errno numbers ↔ names of the running platform (node's os.constants.errno).

import { constants } from 'node:os';

const names = new Map<number, string>();
for (const [name, value] of Object.entries(constants.errno)) if (!names.has(value)) names.set(value, name);
// Aliases node lists first on Linux; prefer the names strace and the kernel print.
names.set(11, 'EAGAIN');
names.set(95, 'EOPNOTSUPP');
names.set(35, 'EDEADLK');

/** `ENOENT` for 2 or -2; `E<n>` for numbers the platform does not name. */
export function errnoName(error: number): string {
  const n = Math.abs(error);
  return names.get(n) ?? `E${n}`;
}
