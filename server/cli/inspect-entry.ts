// `fuselens inspect`, its own bundle (dist/cli-inspect.js): bin/fuselens loads it for
// that command alone, so a refresh by script pays Node's start-up and the inspection
// readers, not the parse of every other command (the whole CLI is ~10× larger).
// The scan runs on this thread alone: the helper thread the language server keeps for
// its refreshes (scan-helper.ts) would start afresh for one scan (an isolate, its bundle,
// koffi: ~130 ms of CPU on the 4,000-descriptor bench state) and, even with both CPUs
// to itself, took no wall time off the command (bench/README.md, Inspection).
// Its output is written through as it is made and the process ends with the command
// (run-cli.ts CliFrame.writeThrough): no stream machinery to load, no teardown to wait for.

import { runCliCommand } from './command';
import { inspectCommand } from './inspect';
import { runCli } from './run-cli';

runCli((argv, io) => runCliCommand(inspectCommand, argv.slice(1), io), { writeThrough: true });
