// The io mode of an inode as the kernel tracks it (fs/fuse/iomode.c:
// fi->iocachectr > 0 caching, < 0 uncached, a backing file passthrough), as
// every report names it: the simulation's inode snapshots, the trace's
// reconstructed inodes and the sidebar's.

export const INODE_MODES = ['idle', 'caching', 'uncached', 'passthrough'] as const;
export type InodeMode = (typeof INODE_MODES)[number];
