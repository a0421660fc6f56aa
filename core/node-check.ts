// Imported first by the library's entry: on an older Node, importing weir fails at once with one line saying why.
import { nodeVersionProblem } from './node-version.ts';

const problem = nodeVersionProblem();
if (problem !== null) throw new Error(problem);
