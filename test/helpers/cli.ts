// Runs the weir command as a process in a throwaway project directory that imports 'weir' from this checkout.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../../', import.meta.url));
/** The CLI from the sources, as `npx weir` runs it from dist/ (the package tests cover the built bin). */
export const cli = ['--conditions=weir-source', join(root, 'core/cli.ts')];

/** A directory with package.json, node_modules/weir linked to this checkout, and the given files. */
export function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'weir-cli-'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'user-project', private: true, type: 'module' }));
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(root, join(dir, 'node_modules/weir'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

export interface CliRun { code: number | null; stdout: string; stderr: string }

export function runCli(args: readonly string[], cwd: string, node = process.execPath, entry: readonly string[] = cli): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(node, [...entry, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d; });
    child.stderr.on('data', (d: Buffer) => { stderr += d; });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
