// Live FUSE mount inspection: the API the CLI (`fuselens mounts`, `fuselens
// inspect`) and the VS Code sidebar share. Pure readers of /proc and /sys that
// never touch a FUSE mount (no stat/statfs/open through it), so a stopped or
// stuck daemon cannot hang them. Every function is synchronous. listMounts reads
// every descriptor's link (~10 ms per 1,000 descriptors); inspectMount also
// reads fdinfo of the mount's descriptors and every process's maps (~100 ms with
// 5,000 descriptors and 400 processes). A descriptor kcmp(2) shows to be the same
// open file as one read before at its number (a forked child's) is copied, not
// read: 100,000 inherited descriptors cost about a tenth of lsof (docs/inspect.md).
// In a long-lived process with two CPUs (SidebarScans starts it), a helper thread
// (scan-helper.ts) reads the fdinfo and maps of the real /proc while the scan's own
// thread lists and readlinks (processes.ts).
// SidebarScans keeps what each scan read (scan-cache.ts): a refresh reads whole only the
// processes that ran since the last one, and of the others what other processes can change.
// On a refresh timer, call them off the extension host's thread (the language
// server process, or `fuselens ... --json`), paced by their cost (extension/refresh-pacer.ts).
//
//   listMounts(roots?, options?): { mounts: FuseMount[]; warnings: string[] }
//       Every FUSE mount (fstype fuse, fuseblk, fuse.*) of the reader's mount
//       namespace, with connection N, fusectl stats (or null + connectionStatsMissing)
//       and the daemon (or null + daemonNote). `mounts` is exactly what
//       `fuselens mounts --json` prints (docs/cli-json.md).
//
//   inspectMount(mountpoint, roots?, options?): Inspection
//       The mount plus every inode with open descriptors or mappings on it, each with
//       mode 'unknown' and evidence in words (the kernel exports no io mode), the
//       processes whose cwd, root or executable is on the mount (`ties`), and
//       warnings (vanished / unreadable processes). Inode numbers are exact U64s
//       (protocol/u64.ts). `fuselens inspect --json` prints it.
//       Throws InspectError (code 'NOTFUSE' when the path is no FUSE mount, 'EIO'/'EACCES'
//       when mountinfo cannot be read). options.reconstructed takes the `inodes` of
//       `fuselens trace --json`, shown per inode as `reconstructed` ("since capture
//       started at …"), never as `mode`. options.mountId picks the mount by its mountinfo id
//       (exact when mounts are stacked on one path; a stable tree-item id).
//
//   exportScenario(inspection): string
//       The inspection as .fusesim text (files, processes, opens with flags, forks,
//       mappings) for "what if the server replied passthrough here?".
//
//   setConnectionLimit(connection, 'max_background' | 'congestion_threshold', value, sysRoot?)
//   abortConnection(connection, sysRoot?)
//       Write fusectl files. Throw ConnectionControlError whose `code` keeps the errno
//       (EACCES/EPERM when not root, ENOENT when the connection is gone, EINVAL for a
//       bad value) and whose message says what to do.
//
//   formatMounts(mounts) / formatInspection(inspection): the CLI's human text
//   (the editor's Markdown report is extension/mountReport.ts).
//
//   SidebarScans: list() and inspect(mountpoint) as the sidebar's refresh asks them, one
//   /proc scan for both (listMounts' options.alsoScanMount → inspectMount's options.scan).
//
// `roots` defaults to { proc: '/proc', sys: '/sys' }; tests pass fixture trees.
// With the real roots, fusectl is mounted if missing (root only) and kcmp(2) is used
// to mark descriptors that share one open file (fork, dup); options turn both off.

export { listMounts, inspectMount, InspectError, type InspectOptions, type MountScan } from './inspect';
export { SidebarScans } from './sidebar-scans';
export { exportScenario } from './export-scenario';
export { setConnectionLimit, abortConnection, ConnectionControlError, type ConnectionLimit } from './fusectl';
export { formatMounts, formatMount, formatInspection } from './report';
export { parseMountInfo, parseMountInfoLine, unescapeMountField, isFuseFsType, connectionFromDevice } from './mountinfo';
export { decodeOpenFlags } from './open-flags';
export { processGone, tryReadComm } from './processes';
export * from './types';
