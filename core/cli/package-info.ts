// The package's own name and version, found from this file whether it runs from the sources or from dist/.
import { readFileSync } from 'node:fs';

import { fileURLToPath } from 'node:url';

export function packageInfo(): { name: string; version: string; root: string } {
  for (let dir = new URL('./', import.meta.url); dir.pathname !== '/'; dir = new URL('../', dir)) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('package.json', dir), 'utf8')) as { name?: string; version?: string; bin?: unknown };
      if (pkg.bin !== undefined && pkg.name !== undefined && pkg.version !== undefined) {
        return { name: pkg.name, version: pkg.version, root: fileURLToPath(dir) };
      }
    } catch {
      // not here: one directory up
    }
  }
  return { name: 'weir', version: 'unknown', root: fileURLToPath(new URL('../../', import.meta.url)) };
}

/** Where weir's own code lies, in a checkout or an installed package: core/ and actors/ (sources, and where source maps point) and dist/. */
export function ownCodeDirs(): string[] {
  const root = packageInfo().root;
  return ['core/', 'actors/', 'dist/'].map((d) => `${root}${d}`);
}
