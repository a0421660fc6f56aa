// weir runs on Node 24 or newer: its type stripping is what runs .ts job modules as they are.

export const NODE_MAJOR = 24;

/** One line saying what is wrong and what to do, or null on a Node that can run weir. */
export function nodeVersionProblem(version: string = process.versions.node): string | null {
  const major = Number(version.split('.')[0]);
  if (major >= NODE_MAJOR) return null;
  return `weir needs Node.js ${NODE_MAJOR} or newer (this is v${version}): .ts job modules run on Node ${NODE_MAJOR}'s type stripping. `
    + `Add it to your project with \`npm install -D node@${NODE_MAJOR}\` and run weir through npx or an npm script.`;
}
