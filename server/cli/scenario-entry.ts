// `fuselens check` and `fuselens simulate`, their own bundle (dist/cli-scenario.js):
// bin/fuselens loads it for those two commands, so a check pays Node's start-up and the
// simulator, not the parse of every other command (the whole CLI is ~5× larger; about
// 70 ms of CPU time a run, measured on a 1,000-step check).

import { runCliCommand } from './command';
import { checkCommand, simulateCommand } from './scenario-commands';
import { runCli } from './run-cli';

runCli((argv, io) => runCliCommand(argv[0] === checkCommand.name ? checkCommand : simulateCommand, argv.slice(1), io));
