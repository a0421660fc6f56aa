// `weir init [dir]`: a new project that installs weir and Node 24, with an example job and its test.
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { WeirError } from '../errors.ts';
import { NODE_MAJOR } from '../node-version.ts';
import { packageInfo } from './package-info.ts';

export const INIT_HELP = `usage: weir init [dir] [--package <spec>]

Creates a project in dir (default: the current directory, which must hold no package.json):
package.json with weir and Node ${NODE_MAJOR} as dependencies, tsconfig.json, job.ts (a word count
with keyed state) and test/job.test.ts. Then: npm install && npm start && npm test.

  --package <spec>  what the project's 'weir' dependency installs [default: npm:<this package>@^<this version>]`;

const JOB = `// A word count: lines in, a running count per word out, keyed state per word. Run it: npm start
import { defineJob, KeyedProcessFunction, ValueStateDescriptor } from 'weir';
import type { Collector } from 'weir';

export const LINES = ['to be or not to be', 'that is the question'];

class Count extends KeyedProcessFunction<string, string, [string, number]> {
  count = new ValueStateDescriptor<number>('count', 0);
  processElement(word: string, ctx: KeyedProcessFunction.Context<string>, out: Collector<[string, number]>) {
    const state = ctx.state(this.count);
    state.update(state.value() + 1);
    out.collect([word, state.value()]);
  }
}

export default defineJob((env) => {
  env.setParallelism(2);
  env.fromCollection(LINES).uid('lines')
    .flatMap((line: string) => line.split(/\\s+/)).uid('words')
    .keyBy((word) => word)
    .process(new Count()).uid('counts')
    .collect().uid('out');
});
`;

const TEST = `// Runs the job on worker threads and checks what it collected.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { submit } from 'weir';
import { LINES } from '../job.ts';

test('every word is counted once per occurrence', async () => {
  const job = await submit(new URL('../job.ts', import.meta.url), { parallelism: 2 });
  const result = await job.done;
  const final = new Map<string, number>();
  for (const [word, n] of result.collected['out'] as [string, number][]) final.set(word, Math.max(final.get(word) ?? 0, n));
  const expected = new Map<string, number>();
  for (const word of LINES.join(' ').split(/\\s+/)) expected.set(word, (expected.get(word) ?? 0) + 1);
  assert.deepEqual(final, expected);
});
`;

const TSCONFIG = {
  compilerOptions: {
    target: 'es2024', module: 'nodenext', moduleResolution: 'nodenext', types: ['node'], strict: true,
    allowImportingTsExtensions: true, erasableSyntaxOnly: true, verbatimModuleSyntax: true, skipLibCheck: true, noEmit: true,
  },
  include: ['*.ts', 'test'],
};

/** `weir init` as a command: errors are printed, not thrown (it runs before the rest of the CLI loads). */
export function initCommand(args: readonly string[]): number {
  try {
    return init(args);
  } catch (err) {
    console.error(`weir: ${(err as Error).message}`);
    return err instanceof WeirError ? 2 : 1;
  }
}

export function init(args: readonly string[]): number {
  let dir: string | undefined;
  let spec: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--package') spec = args[++i];
    else if (a.startsWith('--package=')) spec = a.slice('--package='.length);
    else if (a.startsWith('-') || dir !== undefined) throw new WeirError(`weir init: unexpected argument '${a}'\n${INIT_HELP}`);
    else dir = a;
  }
  if (spec === '' || (spec === undefined && args.includes('--package'))) throw new WeirError('weir init: --package needs a value');
  const pkg = packageInfo();
  const target = resolve(dir ?? '.');
  if (args.includes('--help') || args.includes('-h')) {
    console.log(INIT_HELP);
    return 0;
  }
  if (existsSync(join(target, 'package.json'))) throw new WeirError(`weir init: ${join(target, 'package.json')} exists; choose an empty directory`);
  if (existsSync(target) && readdirSync(target).some((n) => n !== '.git')) {
    throw new WeirError(`weir init: ${target} is not empty; choose an empty directory or a new one`);
  }
  mkdirSync(join(target, 'test'), { recursive: true });
  const name = basename(target).toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[._-]+/, '') || 'weir-job';
  const manifest = {
    name, version: '0.1.0', private: true, type: 'module',
    scripts: { start: 'weir run job.ts', test: 'node --test "test/**/*.test.ts"' },
    dependencies: { weir: spec ?? `npm:${pkg.name}@^${pkg.version}` },
    devDependencies: { node: `^${NODE_MAJOR}.0.0`, '@types/node': `^${NODE_MAJOR}.0.0` },
  };
  const files: Record<string, string> = {
    'package.json': `${JSON.stringify(manifest, null, 2)}\n`,
    'tsconfig.json': `${JSON.stringify(TSCONFIG, null, 2)}\n`,
    'job.ts': JOB,
    'test/job.test.ts': TEST,
    '.gitignore': 'node_modules/\n.weir-work/\n',
  };
  for (const [file, text] of Object.entries(files)) writeFileSync(join(target, file), text);
  const cd = relative(process.cwd(), target);
  console.log(`created ${Object.keys(files).join(', ')} in ${target}\nnext: ${cd === '' ? '' : `cd ${cd} && `}npm install && npm start && npm test`);
  return 0;
}
