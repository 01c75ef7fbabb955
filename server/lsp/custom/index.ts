// The server side of FUSE Lens's custom requests (protocol/messages.ts):
// scenarios (simulate, check a file on disk, run on the kernel), mounts
// (list, inspect, export, fusectl limits, abort) and traces (open, capture).
// Each handler calls the module that owns the work (server/scenario via the
// LSP's analysis, server/inspect, server/trace, server/lab) and turns its
// errors into answers the editor can show; none of them throws at the client
// except for a bug.

import type { Connection, TextDocuments } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { registerMountRequests } from './mounts';
import { registerScenarioRequests } from './scenarios';
import { registerTraceRequests } from './traces';

export function registerCustomRequests(connection: Connection, documents: TextDocuments<TextDocument>): void {
  registerScenarioRequests(connection, documents);
  const traces = registerTraceRequests(connection);
  registerMountRequests(connection, traces);
}
