// The state the kernel keeps for io modes, as small immutable records
// (struct fuse_inode and struct fuse_file fields of fs/fuse/fuse_i.h).

/** The access mode of open(2). */
export type AccessMode = 'rdonly' | 'wronly' | 'rdwr';

/** Per-inode io state (struct fuse_inode). */
export interface InodeIo {
  /** >0: caching opens; <0: uncached (passthrough) opens plus parallel dio writes in flight. */
  iocachectr: number;
  /** FUSE_I_CACHE_IO_MODE: tells new dio writes to take the exclusive inode lock. */
  cacheIoMode: boolean;
  /** fi->fb: the backing object bound to the inode, by its id (ids are never reused). */
  fb: number | null;
}

/**
 * A new InodeIo record. Transitions build their results through this (not `{ ...inode, … }`):
 * every record then has one shape, and a spread's copy was a slow path of its own at a
 * million opens and releases (issue 14).
 */
export function inodeIo(iocachectr: number, cacheIoMode: boolean, fb: number | null): InodeIo {
  return { iocachectr, cacheIoMode, fb };
}

export const IDLE_INODE: InodeIo = inodeIo(0, false, null);

/** enum fuse_file_io_mode */
export type FileIoMode = 'none' | 'cached' | 'uncached';

/** Per-open-file io state (struct fuse_file). */
export interface FileIo {
  iomode: FileIoMode;
  /** ff->open_flags after the kernel's sanitising. */
  openFlags: number;
  /** Backing id of ff->passthrough, when the file is a passthrough file. */
  passthrough: number | null;
  /**
   * ff->args != NULL. NULL for files of a no_open server before bd5603eaae0a:
   * such files take no io mode at all.
   */
  hasArgs: boolean;
}

/** A new FileIo record (see inodeIo). */
export function fileIo(iomode: FileIoMode, openFlags: number, passthrough: number | null, hasArgs: boolean): FileIo {
  return { iomode, openFlags, passthrough, hasArgs };
}

// The modes a user reads off an inode (scenario `expect`, results, traces) are named on the wire.
import { INODE_MODES, type InodeMode } from '../../protocol/io-mode';
export { INODE_MODES, type InodeMode };

/** The mode a user reads off an inode (docs/scenario-language.md). */
export function inodeMode(inode: InodeIo): InodeMode {
  if (inode.fb !== null) return 'passthrough';
  if (inode.iocachectr > 0) return 'caching';
  if (inode.iocachectr < 0) return 'uncached';
  return 'idle';
}
