// `fuselens inspect`, its own bundle (dist/cli-inspect.js): bin/fuselens loads it for
// that command alone, so a refresh by script pays Node's start-up and the inspection
// readers, not the parse of every other command (the whole CLI is ~10× larger).
// The scan's helper thread is started before anything else, so that its own start-up
// (a fresh isolate, its bundle, koffi) overlaps the command's and it is ready to take
// blocks of processes by the time the scan begins; only when a CPU is free to run it.
// Its output is written through as it is made and the process ends with the command
// (run-cli.ts CliFrame.writeThrough): no stream machinery to load, no teardown to wait for.

import { cpuFree, startScanHelper } from '../inspect/scan-helper';
import { runCliCommand } from './command';
import { inspectCommand } from './inspect';
import { runCli } from './run-cli';

if (cpuFree()) startScanHelper();
runCli((argv, io) => runCliCommand(inspectCommand, argv.slice(1), io), { writeThrough: true });
