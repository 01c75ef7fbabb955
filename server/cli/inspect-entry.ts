// `fuselens inspect`, its own bundle (dist/cli-inspect.js): bin/fuselens loads it for
// that command alone, so a refresh by script pays Node's start-up and the inspection
// readers, not the parse of every other command (the whole CLI is ~10× larger).

import { runCliCommand } from './command';
import { inspectCommand } from './inspect';
import { runCli } from './run-cli';

runCli((argv, io) => runCliCommand(inspectCommand, argv.slice(1), io));
