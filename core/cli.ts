#!/usr/bin/env node
// The weir command: `weir run <job-module> [--option value ...]`, options in kebab case.
import { WeirError } from './errors.ts';
import { OPTION_NAMES, kebab, parseCliOptions } from './options.ts';
import { submit } from './coordinator/submit.ts';

const USAGE = `usage: weir run <job-module> [options]

Runs a job module (export default defineJob(...)) until its bounded input ends.
Options override what the job module sets:
${OPTION_NAMES.map((n) => `  --${kebab(n)}`).join('\n')}`;

async function main(argv: string[]): Promise<number> {
  const [command, jobPath, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h') {
    console.log(USAGE);
    return command === undefined ? 2 : 0;
  }
  if (command !== 'run') throw new WeirError(`unknown command '${command}'\n${USAGE}`);
  if (jobPath === undefined) throw new WeirError(`weir run needs a job module\n${USAGE}`);
  const options = parseCliOptions(rest);
  const job = await submit(jobPath, options);
  const stop = () => { void job.stop(); };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const result = await job.done;
  for (const [uid, c] of Object.entries(result.operators)) {
    console.error(`${uid.padEnd(24)} ${c.name.padEnd(12)} in ${String(c.recordsIn).padStart(10)}  out ${String(c.recordsOut).padStart(10)}`);
  }
  console.error(`finished in ${(result.durationMs / 1000).toFixed(2)} s`);
  return 0;
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (err: unknown) => {
  console.error(`weir: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
