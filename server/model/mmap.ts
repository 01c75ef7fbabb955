// mmap(2) of a FUSE file: fuse_file_mmap() in fs/fuse/file.c (and do_mmap's
// access checks before it).

import type { Connection } from './connection';
import { FOPEN } from './flags';
import { cachedIoOpen, type Step } from './iomode';
import type { RuleName } from './rules';
import type { AccessMode, FileIo, InodeIo } from './state';

export type MmapStep =
  | Step
  /** `holdsFile` is false for a passthrough mapping: the VMA holds the backing file instead. */
  | { kind: 'mapped'; inode: InodeIo; file: FileIo; holdsFile: boolean };

/**
 * do_mmap(): any mapping needs a readable file; a shared writable mapping a
 * writable one. Both are EACCES before the filesystem is asked.
 */
export function mmapAccessError(access: AccessMode, shared: boolean, write: boolean): RuleName | null {
  if (access === 'wronly') return 'mmap-access-mode';
  if (shared && write && access === 'rdonly') return 'mmap-access-mode';
  return null;
}

/**
 * fuse_file_mmap(), in order: a passthrough file maps its backing file and
 * drops the FUSE file reference; any other file of an inode bound to a
 * backing object gets ENODEV; a FOPEN_DIRECT_IO file needs
 * direct_io_allow_mmap for MAP_SHARED (ENODEV), maps privately with no mode
 * change, and its first shared mapping is a caching open that lasts until
 * release. Before 6.9 there are no modes: only the MAP_SHARED check (with
 * allow_mmap from 6.6).
 */
export function fileMmap(conn: Connection, inode: InodeIo, file: FileIo, shared: boolean): MmapStep {
  const directIo = (file.openFlags & FOPEN.direct_io!) !== 0;
  if (!conn.features.ioModes) {
    if (directIo && shared && !conn.directIoAllowMmap) {
      return { kind: 'error', errno: 'ENODEV', rule: 'direct-io-shared-mmap-not-allowed', inode };
    }
    return { kind: 'mapped', inode, file, holdsFile: true };
  }
  if (file.passthrough !== null) return { kind: 'mapped', inode, file, holdsFile: false };
  if (inode.fb !== null) return { kind: 'error', errno: 'ENODEV', rule: 'mmap-on-passthrough-inode', inode };
  if (!directIo || !shared) return { kind: 'mapped', inode, file, holdsFile: true };
  if (!conn.directIoAllowMmap) {
    return { kind: 'error', errno: 'ENODEV', rule: 'direct-io-shared-mmap-not-allowed', inode };
  }
  return directIoSharedMmap(inode, file);
}

/**
 * fuse_file_io_mmap() → fuse_file_cached_io_open() for a shared mapping of a
 * FOPEN_DIRECT_IO file; ETXTBSY is returned as is. Where a woken mmap goes on.
 */
export function directIoSharedMmap(inode: InodeIo, file: FileIo): MmapStep {
  const step = cachedIoOpen(inode, file, 'direct-io-shared-mmap-waits');
  return step.kind === 'ok' ? { kind: 'mapped', inode: step.inode, file: step.file, holdsFile: true } : step;
}
