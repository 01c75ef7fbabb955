// The rules a step can be judged by. Each name is a diagnostic code and the
// name of a page, docs/rules/NAME.md: what the kernel does, why, and how to
// fix the server's reply.

export const RULES = {
  'cached-open-on-passthrough-inode': 'A non-passthrough open of an inode that is in passthrough mode',
  'passthrough-not-negotiated': 'FOPEN_PASSTHROUGH on a connection where FUSE_INIT did not enable passthrough',
  'passthrough-flag-combination': 'FOPEN_PASSTHROUGH combined with a flag outside the passthrough mask',
  'passthrough-bad-backing-id': 'FOPEN_PASSTHROUGH with a backing id of 0 or below',
  'passthrough-unknown-backing-id': 'FOPEN_PASSTHROUGH with a backing id the connection does not know',
  'passthrough-conflicting-backing': 'A second backing object for an inode that is already bound to one',
  'passthrough-open-on-caching-inode': 'A passthrough open of an inode that has caching opens',
  'cached-open-waits-for-parallel-writes': 'A caching open sleeps while parallel direct-io writes are in flight',
  'mmap-on-passthrough-inode': 'mmap of a non-passthrough file on an inode in passthrough mode',
  'direct-io-shared-mmap-not-allowed': 'MAP_SHARED of a FOPEN_DIRECT_IO file without FUSE_DIRECT_IO_ALLOW_MMAP',
  'direct-io-shared-mmap-taints-file': 'The first MAP_SHARED of a FOPEN_DIRECT_IO file puts it in caching mode until release',
  'direct-io-shared-mmap-waits': 'A MAP_SHARED of a FOPEN_DIRECT_IO file sleeps while parallel direct-io writes are in flight',
  'mmap-access-mode': 'mmap needs a readable descriptor, and a shared writable map a writable one',
  'write-waits-for-inode-lock': 'A write waits for the inode lock held by another write',
  'bad-file-descriptor': 'A read or write the descriptor was not opened for',
  'backing-requires-passthrough': 'FUSE_DEV_IOC_BACKING_OPEN/CLOSE on a connection without passthrough',
  'backing-ioctl-unknown': 'The backing ioctls do not exist before Linux 6.9',
  'backing-close-unknown-id': 'FUSE_DEV_IOC_BACKING_CLOSE of an id that is not registered',
  'parallel-writes-need-direct-io': 'FOPEN_PARALLEL_DIRECT_WRITES without FOPEN_DIRECT_IO is stripped',
  'passthrough-disabled-by-writeback-cache': 'FUSE_WRITEBACK_CACHE silently turns passthrough off',
  'passthrough-bad-max-stack-depth': 'max_stack_depth outside 1..2 silently turns passthrough off',
  'flag-unknown-to-kernel': 'A flag the chosen kernel version does not know',
  'backing-never-used': 'A backing file registered and never used by a passthrough open',
  'backing-without-passthrough': 'A backing id in a reply without FOPEN_PASSTHROUGH is ignored',
  'reply-ignored-under-no-open': 'A server that answers OPEN with ENOSYS sends no open flags',
  'step-after-blocked': 'A step of a process that is asleep in the kernel',
} as const;

export type RuleName = keyof typeof RULES;
