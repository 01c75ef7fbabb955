// The kernel's rules: one record per rule, what the kernel decides and where.
// Each name is a diagnostic code and the name of a page, docs/rules/NAME.md,
// whose heading is the record's title (test/unit/rules.test.ts holds them
// together). The scenario's own lint rules are in server/scenario/lint-rules.ts.

/**
 * What a quick fix changes for a rule; server/lsp/code-actions.ts has one
 * small function per kind, and offers only what the simulator confirms.
 */
export type QuickFixKind =
  | 'reply-passthrough'
  | 'close-holders'
  | 'close-or-convert-holders'
  | 'reply-bound-backing'
  | 'enable-passthrough'
  | 'drop-masked-flags'
  | 'reply-registered-backing'
  | 'allow-shared-mmap'
  | 'add-direct-io'
  | 'drop-writeback-cache'
  | 'fix-max-stack-depth'
  | 'drop-unknown-flag'
  | 'pair-backing-with-passthrough'
  | 'open-rdwr'
  | 'drop-reply'
  | 'expect-actual-outcome'
  | 'declare-name';

export interface RuleRecord {
  /** One line: the heading of the rule's page. */
  title: string;
  /** The kernel function that decides. */
  where: string;
  /** Why the kernel does it, as a clause ("the inode is ..."). */
  why: string;
  /** What the server (or the program) can change, as a clause. */
  fix: string;
  quickFix?: QuickFixKind;
}

export const RULES = {
  'cached-open-on-passthrough-inode': {
    title: 'A non-passthrough open of an inode that is in passthrough mode',
    where: 'fuse_file_io_open',
    why: 'the inode is bound to a backing file, and every open of it must then reply FOPEN_PASSTHROUGH',
    fix: 'reply passthrough (with the same backing) to every open of this file, or close the passthrough opens first',
    quickFix: 'reply-passthrough',
  },
  'passthrough-not-negotiated': {
    title: 'FOPEN_PASSTHROUGH on a connection where FUSE_INIT did not enable passthrough',
    where: 'fuse_file_passthrough_open',
    why: 'passthrough is not enabled on this connection',
    fix: 'answer FUSE_INIT with passthrough (max_stack_depth 1 or 2, no writeback_cache), or drop passthrough from the reply',
    quickFix: 'enable-passthrough',
  },
  'passthrough-flag-combination': {
    title: 'FOPEN_PASSTHROUGH combined with a flag outside the passthrough mask',
    where: 'fuse_file_passthrough_open',
    why: 'a passthrough reply may only add direct_io, parallel_direct_writes and noflush (FOPEN_PASSTHROUGH_MASK)',
    fix: 'drop the other flags from the reply',
    quickFix: 'drop-masked-flags',
  },
  'passthrough-bad-backing-id': {
    title: 'FOPEN_PASSTHROUGH with a backing id of 0 or below',
    where: 'fuse_passthrough_open',
    why: 'the reply carries a backing id of 0 or less (a server whose BACKING_OPEN failed has no id to send)',
    fix: 'register the backing file with FUSE_DEV_IOC_BACKING_OPEN and reply its id (backing=B)',
    quickFix: 'reply-registered-backing',
  },
  'passthrough-unknown-backing-id': {
    title: 'FOPEN_PASSTHROUGH with a backing id the connection does not know',
    where: 'fuse_passthrough_open',
    why: 'the backing id is not registered on this connection (never opened, or already closed with BACKING_CLOSE)',
    fix: 'keep the backing id registered until the last passthrough open of it, as libfuse\'s passthrough_hp does',
    quickFix: 'reply-registered-backing',
  },
  'passthrough-conflicting-backing': {
    title: 'A second backing object for an inode that is already bound to one',
    where: 'fuse_inode_uncached_io_start',
    why: 'the inode is already bound to another backing object; identity is the id, not the file behind it',
    fix: 'reuse one backing id per inode for every open while any passthrough open of it lives',
    quickFix: 'reply-bound-backing',
  },
  'passthrough-open-on-caching-inode': {
    title: 'A passthrough open of an inode that has caching opens',
    where: 'fuse_inode_uncached_io_start',
    why: 'the inode has caching users (iocachectr > 0): caching and passthrough must not mix on one inode',
    fix: 'close (and unmap) the caching opens first, or reply passthrough to them as well',
    quickFix: 'close-or-convert-holders',
  },
  'cached-open-waits-for-parallel-writes': {
    title: 'A caching open sleeps while parallel direct-io writes are in flight',
    where: 'fuse_file_cached_io_open',
    why: 'parallel direct-io writes are in flight (iocachectr < 0); the caching open sleeps until the last one ends',
    fix: 'expected behaviour; to avoid the wait, reply direct_io to this open or finish the writes first',
  },
  'mmap-on-passthrough-inode': {
    title: 'mmap of a non-passthrough file on an inode in passthrough mode',
    where: 'fuse_file_mmap',
    why: 'another open of the inode is passthrough, and only a passthrough file can be mapped then',
    fix: 'reply passthrough to this open too (its mapping then maps the backing file)',
    quickFix: 'close-holders',
  },
  'direct-io-shared-mmap-not-allowed': {
    title: 'MAP_SHARED of a FOPEN_DIRECT_IO file without FUSE_DIRECT_IO_ALLOW_MMAP',
    where: 'fuse_file_mmap',
    why: 'MAP_SHARED of a FOPEN_DIRECT_IO file needs FUSE_DIRECT_IO_ALLOW_MMAP (6.6+) for page-cache coherency',
    fix: 'answer FUSE_INIT with direct_io_allow_mmap, or map privately',
    quickFix: 'allow-shared-mmap',
  },
  'direct-io-shared-mmap-taints-file': {
    title: 'The first MAP_SHARED of a FOPEN_DIRECT_IO file puts it in caching mode until release',
    where: 'fuse_file_io_mmap',
    why: 'the first shared mapping of a direct-io file puts it in caching mode until the file is released',
    fix: 'close and unmap the file before opening the inode for passthrough',
  },
  'direct-io-shared-mmap-waits': {
    title: 'A MAP_SHARED of a FOPEN_DIRECT_IO file sleeps while parallel direct-io writes are in flight',
    where: 'fuse_file_cached_io_open',
    why: 'parallel direct-io writes are in flight; the shared mapping waits until the last one ends',
    fix: 'expected behaviour; finish the writes first to avoid the wait',
  },
  'mmap-access-mode': {
    title: 'mmap needs a readable descriptor, and a shared writable map a writable one',
    where: 'do_mmap',
    why: 'a mapping needs a readable descriptor, and a shared writable one a descriptor opened for writing',
    fix: 'open the file rdwr',
    quickFix: 'open-rdwr',
  },
  'write-waits-for-inode-lock': {
    title: 'A write waits for the inode lock held by another write',
    where: 'fuse_dio_lock',
    why: 'another write holds the inode lock in a mode that excludes this one',
    fix: 'expected behaviour; parallel_direct_writes with direct_io lets non-extending writes share the lock',
  },
  'truncate-waits-for-inode-lock': {
    title: 'An O_TRUNC open waits for the inode lock held by a write',
    where: 'do_truncate',
    why: 'the truncation of an O_TRUNC open takes the inode lock exclusively, and a write in flight holds it',
    fix: 'expected behaviour; open without O_TRUNC (truncate later with ftruncate, or not at all) to open at once',
  },
  'create-exclusive-name-exists': {
    title: 'An exclusive create (O_CREAT with O_EXCL) of a name that exists',
    where: 'do_open',
    why: 'the name exists already (LOOKUP found it), and O_EXCL asks for a new file',
    fix: 'drop o_excl to open the existing file, or create a name that does not exist yet',
  },
  'msync-waits-for-inode-lock': {
    title: 'msync of a shared mapping waits for the inode lock held by a write',
    where: 'fuse_fsync',
    why: 'fuse_fsync() takes the inode lock exclusively, and a write in flight holds it',
    fix: 'expected behaviour; msync with MS_ASYNC (a no-op) or sync after the writes end',
  },
  'backing-open-bad-argument': {
    title: 'FUSE_DEV_IOC_BACKING_OPEN with flags, or of a file that is not regular',
    where: 'fuse_backing_open',
    why: 'the map\'s flags and padding must be 0, and the descriptor must be a regular file (an O_PATH one will do)',
    fix: 'zero the whole struct fuse_backing_map and pass a descriptor of the regular file that backs the FUSE file',
  },
  'backing-stack-too-deep': {
    title: 'FUSE_DEV_IOC_BACKING_OPEN of a file on a file system stacked as deep as max_stack_depth',
    where: 'fuse_backing_open',
    why: 'the backing file\'s file system is stacked (s_stack_depth) at least as deep as the max_stack_depth FUSE_INIT sent',
    fix: 'send max_stack_depth=2 in the INIT reply when backing files live on overlayfs or another stacked file system',
  },
  'close-waits-for-flush': {
    title: 'close waits for the server to answer FLUSH',
    where: 'fuse_flush',
    why: 'close() sends FLUSH and waits for its reply before the file can be released, and the server has not answered',
    fix: 'answer FLUSH promptly; reply noflush to opens whose close needs no FLUSH',
  },
  'open-waits-for-reply': {
    title: 'open waits for the server to answer OPEN, and the io mode is decided by the reply',
    where: 'fuse_finish_open',
    why: 'open() sends OPEN and waits for its reply; only then fuse_file_io_open() decides the file\'s io mode, against the inode as it is when the reply arrives',
    fix: 'answer OPEN promptly; a server that answers opens out of order gets the io modes of the order it answers in',
  },
  'read-waits-for-reply': {
    title: 'A direct read waits for the server to answer READ',
    where: 'fuse_direct_io',
    why: 'a direct-io or O_DIRECT read sends READ and waits for its reply, bypassing the page cache',
    fix: 'answer READ promptly; the io mode of the inode does not wait for it',
  },
  'create-falls-back-to-mknod': {
    title: 'A server that answers CREATE with ENOSYS gets MKNOD and OPEN instead',
    where: 'fuse_atomic_open',
    why: 'the server answered FUSE_CREATE with ENOSYS, so the kernel sets no_create and makes this and every later new file with MKNOD followed by an OPEN, whose reply (not the CREATE\'s) gives the open flags',
    fix: 'implement CREATE (libfuse: the create operation) to make and open a file in one request; otherwise answer the OPEN that follows with the flags the file needs',
  },
  'request-interrupted': {
    title: 'A signal does not end a call whose request the server has read',
    where: 'request_wait_answer',
    why: 'the server has read the request (FR_SENT): the kernel sends FUSE_INTERRUPT and waits for the answer, also after SIGKILL',
    fix: 'answer FUSE_INTERRUPT by ending the interrupted request (with EINTR, or normally), or answer it ENOSYS to stop them',
  },
  'connection-aborted': {
    title: 'After an abort of the connection every request fails',
    where: 'fuse_abort_conn',
    why: 'the connection was aborted (fusectl abort): requests in flight ended with ECONNABORTED, and every new request fails with ENOTCONN',
    fix: 'mount the file system again; only io that needs no request (passthrough, pages already cached, mmap) still works on open files',
  },
  'umount-busy': {
    title: 'A plain umount of a FUSE mount with files still open',
    where: 'do_umount',
    why: 'files of the mount are still open (a descriptor, a mapping, a write or FLUSH in flight), so the mount is busy',
    fix: 'close the files first, or unmount lazily (umount -l, MNT_DETACH): the name goes at once and the open files keep working',
  },
  'bad-file-descriptor': {
    title: 'A read or write the descriptor was not opened for',
    where: 'fdget',
    why: 'the process has no such descriptor, or it was not opened for this access',
    fix: 'open the file with the access the step needs, in this process',
    quickFix: 'open-rdwr',
  },
  'backing-requires-passthrough': {
    title: 'FUSE_DEV_IOC_BACKING_OPEN/CLOSE on a connection without passthrough',
    where: 'fuse_backing_open',
    why: 'the backing ioctls need passthrough enabled by FUSE_INIT (and CAP_SYS_ADMIN)',
    fix: 'answer FUSE_INIT with passthrough and max_stack_depth 1 or 2, without writeback_cache',
    quickFix: 'enable-passthrough',
  },
  'backing-ioctl-unknown': {
    title: 'The backing ioctls do not exist before Linux 6.9',
    where: 'fuse_dev_ioctl',
    why: 'FUSE_DEV_IOC_BACKING_OPEN/CLOSE exist from Linux 6.9',
    fix: 'use kernel 6.9 or newer, or serve the file without passthrough',
  },
  'backing-close-unknown-id': {
    title: 'FUSE_DEV_IOC_BACKING_CLOSE of an id that is not registered',
    where: 'fuse_backing_close',
    why: 'the id is not registered (closed already, or never opened)',
    fix: 'close each backing id once',
  },
  'parallel-writes-need-direct-io': {
    title: 'FOPEN_PARALLEL_DIRECT_WRITES without FOPEN_DIRECT_IO is stripped',
    where: 'fuse_file_io_open',
    why: 'FOPEN_PARALLEL_DIRECT_WRITES only applies to FOPEN_DIRECT_IO files; the kernel strips it otherwise',
    fix: 'add direct_io to the reply, or drop parallel_direct_writes',
    quickFix: 'add-direct-io',
  },
  'passthrough-disabled-by-writeback-cache': {
    title: 'FUSE_WRITEBACK_CACHE silently turns passthrough off',
    where: 'process_init_reply',
    why: 'with FUSE_WRITEBACK_CACHE in the INIT reply the kernel leaves passthrough off',
    fix: 'drop writeback_cache from the INIT reply',
    quickFix: 'drop-writeback-cache',
  },
  'passthrough-bad-max-stack-depth': {
    title: 'max_stack_depth outside 1..2 silently turns passthrough off',
    where: 'process_init_reply',
    why: 'max_stack_depth must be 1 or 2 (FILESYSTEM_MAX_STACK_DEPTH) for passthrough to be enabled',
    fix: 'send max_stack_depth=1 (or 2 when backing files live on a stacked filesystem)',
    quickFix: 'fix-max-stack-depth',
  },
  'flag-unknown-to-kernel': {
    title: 'A flag the chosen kernel version does not know',
    where: 'include/uapi/linux/fuse.h',
    why: 'the chosen kernel version predates this flag',
    fix: 'choose a newer kernel, or drop the flag',
    quickFix: 'drop-unknown-flag',
  },
  'backing-without-passthrough': {
    title: 'A backing id in a reply without FOPEN_PASSTHROUGH is ignored',
    where: 'fuse_file_io_open',
    why: 'backing_id is only read when the reply has FOPEN_PASSTHROUGH',
    fix: 'add passthrough to the reply, or drop backing=',
    quickFix: 'pair-backing-with-passthrough',
  },
  'reply-ignored-under-no-open': {
    title: 'A server that answers OPEN with ENOSYS sends no open flags',
    where: 'fuse_do_open',
    why: 'the server answers OPEN with ENOSYS, so the kernel sends no OPEN and every open gets FOPEN_KEEP_CACHE',
    fix: 'drop no_open from init, or drop the reply flags',
    quickFix: 'drop-reply',
  },
} as const satisfies Record<string, RuleRecord>;

export type RuleName = keyof typeof RULES;
