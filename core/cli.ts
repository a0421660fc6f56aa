#!/usr/bin/env node
// The weir command's entry: checks the Node version before anything that needs Node 24 is loaded.
import { nodeVersionProblem } from './node-version.ts';

const problem = nodeVersionProblem();
if (problem !== null) {
  console.error(problem);
  process.exitCode = 1;
} else {
  const { main } = await import('./cli/main.ts');
  await main(process.argv.slice(2));
}
