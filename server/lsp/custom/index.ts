// The server side of FUSE Lens's custom requests (protocol/messages.ts):
// scenarios (simulate, check a file on disk, run on the kernel), mounts
// (list, inspect, export, fusectl limits, abort) and traces (open, capture).
// Each handler calls the module that owns the work (server/scenario via the
// context's analyses, server/inspect, server/trace, server/lab) and turns its
// errors into answers the editor can show; none of them throws at the client
// except for a bug.

import type { ServerContext } from '../context';
import { registerMountRequests } from './mounts';
import { registerScenarioRequests } from './scenarios';
import { registerTraceRequests } from './traces';
import { registerTrackingRequests } from './tracking';

export function registerCustomRequests(ctx: ServerContext): void {
  registerScenarioRequests(ctx);
  const traces = registerTraceRequests(ctx);
  registerMountRequests(ctx);
  registerTrackingRequests(ctx, traces);
}
