#!/usr/bin/env node
// The weir command's entry: `init` runs on any Node (the project it writes brings Node 24); the rest checks first.
import { nodeVersionProblem } from './node-version.ts';

const argv = process.argv.slice(2);
const problem = nodeVersionProblem();
if (argv[0] === 'init') {
  const { initCommand } = await import('./cli/init.ts');
  process.exitCode = initCommand(argv.slice(1));
} else if (problem !== null) {
  console.error(problem);
  process.exitCode = 1;
} else {
  // The job module and weir's own modules compile once, not on every run (see actors/runtime/worker-entry.ts).
  (await import('node:module')).enableCompileCache();
  const { main } = await import('./cli/main.ts');
  await main(argv);
}
