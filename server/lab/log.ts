// The "lab-jsonl" trace format: one JSON object per line, written by the lab
// server for every request it reads from /dev/fuse, every reply it writes,
// every backing ioctl, and the mount and unmount. Documented in docs/lab.md;
// read by `fuselens trace`. `time` is seconds since the epoch (µs precision).

export interface LabMountEvent {
  time: number;
  /** `abort`: a scenario's `abort` wrote to the connection's fusectl abort file. */
  type: 'mount' | 'unmount' | 'abort';
  mountpoint: string;
  /** The connection number (device minor, /sys/fs/fuse/connections/N). */
  connection: number;
}

export interface LabRequestEvent {
  time: number;
  type: 'request';
  connection: number;
  unique: number;
  /** `FUSE_OPEN`, ... (server/abi opcodeName). */
  opcode: string;
  nodeid: number;
  /** File name of the node when the lab knows it (`/` for the root). */
  name?: string;
  pid: number;
  uid: number;
  len: number;
  /** Decoded arguments, e.g. `{ flags }` of an OPEN, `{ fh, offset, size }` of a READ. */
  args?: Record<string, unknown>;
}

export interface LabReplyEvent {
  time: number;
  type: 'reply';
  connection: number;
  unique: number;
  opcode?: string;
  nodeid?: number;
  pid?: number;
  /** 0 or a negative errno, as written in fuse_out_header.error. */
  error: number;
  errno: string | null;
  /** Decoded reply body when error is 0, e.g. `{ fh, openFlags, flags: ['passthrough'], backingId }`. */
  reply?: Record<string, unknown>;
}

export interface LabIoctlEvent {
  time: number;
  type: 'ioctl';
  request: 'FUSE_DEV_IOC_BACKING_OPEN' | 'FUSE_DEV_IOC_BACKING_CLOSE';
  path?: string;
  /** fuse_backing_map.flags, when not 0. */
  flags?: number;
  backingId?: number;
  /** The ioctl's value (a backing id, 0) or a negative errno. */
  result: number;
  errno: string | null;
}

export type LabEvent = LabMountEvent | LabRequestEvent | LabReplyEvent | LabIoctlEvent;

export function formatLabEvent(e: LabEvent): string {
  return JSON.stringify(e) + '\n';
}
