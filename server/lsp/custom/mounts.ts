// fuselens/listMounts, inspectMount, exportScenario, setConnectionLimits,
// abortConnection: the inspection module (server/inspect) behind the sidebar.

import {
  Requests,
  type AbortParams,
  type AbortResult,
  type ConnectionLimitsParams,
  type ConnectionLimitsResult,
  type ExportScenarioResult,
  type InspectResult,
  type MountParams,
  type MountsResult,
} from '../../../protocol/messages';
import { abortConnection, exportScenario, inspectMount, listMounts, setConnectionLimit, SidebarScans } from '../../inspect';
import type { ServerContext } from '../context';
import { failure, handle } from './handle';

/** An answer with the CPU time its making took (the scan's helper thread included: process-wide). */
function costed<T>(answer: () => T): T & { cpuMs: number } {
  const before = process.cpuUsage();
  const result = answer();
  const { user, system } = process.cpuUsage(before);
  return { ...result, cpuMs: (user + system) / 1000 };
}

export function registerMountRequests({ connection }: ServerContext): void {
  // The sidebar's list and its expanded mount's inspection share one /proc scan per refresh.
  const sidebar = new SidebarScans();
  handle(connection, Requests.listMounts, (): MountsResult => costed(() => sidebar.list()));

  // What /proc shows; an attached trace's modes come with their provenance (fuselens/mountModes).
  const inspect = (mountpoint: string) => inspectMount(mountpoint);

  handle(connection, Requests.inspectMount, (params: MountParams): InspectResult =>
    costed(() => {
      try {
        return { inspection: sidebar.inspect(params.mountpoint) };
      } catch (err) {
        return { inspection: null, error: err instanceof Error ? err.message : String(err) };
      }
    }),
  );

  handle(connection, Requests.exportScenario, (params: MountParams): ExportScenarioResult => {
    try {
      return { text: exportScenario(inspect(params.mountpoint)) };
    } catch (err) {
      return { text: `# Could not inspect ${params.mountpoint}: ${err instanceof Error ? err.message : String(err)}\n` };
    }
  });

  handle(connection, Requests.setConnectionLimits, (params: ConnectionLimitsParams): ConnectionLimitsResult => {
    try {
      if (params.maxBackground !== undefined) setConnectionLimit(params.connection, 'max_background', params.maxBackground);
      if (params.congestionThreshold !== undefined) setConnectionLimit(params.connection, 'congestion_threshold', params.congestionThreshold);
      const mount = listMounts().mounts.find((m) => m.connection === params.connection);
      return { ok: true, stats: mount?.connectionStats ?? null };
    } catch (err) {
      return failure(err);
    }
  });

  handle(connection, Requests.abortConnection, (params: AbortParams): AbortResult => {
    try {
      abortConnection(params.connection);
      return { ok: true };
    } catch (err) {
      return failure(err);
    }
  });
}
