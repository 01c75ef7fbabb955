// fuselens/startTracking, stopTracking, mountModes, detachTrace and the
// trackingUpdate notification: live tracking of a mount's io modes
// (server/trace/track.ts) and the provenance of every held inode's mode, from
// the tracking session or from the trace opened for the mount's connection
// (traces.ts). Sessions stop on stopTracking, when their daemon exits, and
// when the editor shuts the server down (strace detaches; if the server is
// killed, strace dies with it: every strace capture runs under PR_SET_PDEATHSIG).

import { Notifications, Requests, type DetachTraceParams, type MountModes, type MountParams } from '../../../protocol/messages';
import { inspectMount, listMounts } from '../../inspect';
import { clockText, heldModes } from '../../trace/provenance';
import { startTracking, type TrackingSession } from '../../trace/track';
import type { ServerContext } from '../context';
import { failure, handle } from './handle';
import type { TraceState } from './traces';

export function registerTrackingRequests({ connection }: ServerContext, traces: TraceState): void {
  const sessions = new Map<string, TrackingSession>();

  const modes = (mountpoint: string): MountModes => {
    const session = sessions.get(mountpoint);
    if (session) return { mountpoint, source: { ...session.source }, inodes: session.inodes() };
    const mount = listMounts().mounts.find((m) => m.mountpoint === mountpoint);
    const trace = mount ? traces.attachedFor(mount.connection) : undefined;
    if (!mount || !trace) return { mountpoint, source: null, inodes: [] };
    // A trace file: no snapshot of what was held before it, so every holder may predate it.
    const held = inspectMount(mountpoint).inodes;
    const inodes = heldModes({
      held, connection: mount.connection, traced: trace.report.inodes ?? [], heldFromBefore: () => null, traceEnded: clockText(trace.report.endedAt),
    }).map((m) => m.inode);
    return { mountpoint, source: { kind: 'trace', path: trace.path, connection: mount.connection, since: trace.since }, inodes };
  };
  const update = (mountpoint: string) => void connection.sendNotification(Notifications.trackingUpdate.method, modes(mountpoint));

  handle(connection, Requests.startTracking, async ({ mountpoint }: MountParams) => {
    const running = sessions.get(mountpoint);
    if (running) return { ok: true as const, source: { ...running.source } };
    try {
      const session = await startTracking({ mountpoint, onChange: () => update(mountpoint) });
      sessions.set(mountpoint, session);
      void session.done.then((r) => {
        sessions.delete(mountpoint);
        connection.console.log(`tracking ${mountpoint} ended: ${r.stoppedBy}, ${r.requests} requests`);
        for (const w of r.warnings) connection.console.warn(`tracking: ${w}`);
        void connection.sendNotification(Notifications.trackingUpdate.method, { mountpoint, source: { ...session.source }, inodes: session.inodes() });
      });
      update(mountpoint);
      return { ok: true as const, source: { ...session.source } };
    } catch (err) {
      return failure(err);
    }
  });

  handle(connection, Requests.stopTracking, async ({ mountpoint }: MountParams) => {
    const session = sessions.get(mountpoint);
    if (!session) return { ok: false as const, errno: 'ENOENT', message: `${mountpoint} is not being tracked` };
    const r = await session.stop();
    return { ok: true as const, stoppedBy: r.stoppedBy, requests: r.requests };
  });

  handle(connection, Requests.mountModes, ({ mountpoint }: MountParams): MountModes => {
    try {
      return modes(mountpoint);
    } catch {
      return { mountpoint, source: null, inodes: [] }; // the mount went away: the tree says so from inspectMount
    }
  });

  handle(connection, Requests.detachTrace, ({ connection: c }: DetachTraceParams) =>
    traces.detach(c) ? { ok: true as const } : { ok: false as const, errno: 'ENOENT', message: `no trace is attached to connection ${c}` },
  );

  // Closing the window shuts the server down: every strace detaches before it exits.
  connection.onShutdown(async () => {
    await Promise.all([...sessions.values()].map((s) => s.stop()));
  });
}
