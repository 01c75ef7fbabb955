// The `fuselens` executable: bin/fuselens loads this bundle (dist/cli.js) for every
// command but `inspect` (inspect-entry.ts).

import { main } from './main';
import { runCli } from './run-cli';

runCli(main);
