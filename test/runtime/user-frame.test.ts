// userFrame: the place in a job's own code that a V8 stack names, past weir's frames and Node's.
import test from 'ava';
import { userFrame } from '../../core/job.ts';

const OWN = ['/pkg/node_modules/weir-stream/dist/', '/pkg/node_modules/weir-stream/core/'];

test('the first frame outside weir and Node, in every form V8 writes one', (t) => {
  const cases: [frame: string, want: string][] = [
    ['    at build (file:///home/u/job.ts:8:11)', '/home/u/job.ts:8:11'],
    ['    at file:///home/u/job.ts:8:11', '/home/u/job.ts:8:11'],
    ['    at async file:///home/u/job.ts:8:11', '/home/u/job.ts:8:11'],
    ['    at async build (/home/u/job.ts:8:11)', '/home/u/job.ts:8:11'],
    ['    at /home/u/job.ts:8:11', '/home/u/job.ts:8:11'],
    ['    at Object.build (file:///home/u/my%20jobs/job.ts:8:11)', '/home/u/my jobs/job.ts:8:11'],
    ['    at build (file:///home/u/proj (copy)/job.ts:8:11)', '/home/u/proj (copy)/job.ts:8:11'],
    ['    at build (/home/u/proj (copy)/job.ts:8:11)', '/home/u/proj (copy)/job.ts:8:11'],
    ['    at build (file:///home/u/job.ts?n=10&m=(2)#weir-job-3:8:11)', '/home/u/job.ts:8:11'],
    ['    at build (file:///home/u/job.ts:8:11)\r', '/home/u/job.ts:8:11'],
  ];
  for (const [frame, want] of cases) {
    const stack = ['ReferenceError: fileSink is not defined',
      '    at DataStream.sinkTo (file:///pkg/node_modules/weir-stream/dist/chunks/chunk-AB12.js:2283:27)',
      '    at new Thing (/pkg/node_modules/weir-stream/core/api/datastream.ts:146:27)',
      '    at node:internal/modules/esm/module_job:123:5',
      '    at eval (eval at <anonymous> (file:///x.js:1:1), <anonymous>:1:1)',
      frame].join('\n');
    t.is(userFrame(stack, OWN), want, frame);
  }
});

test('no frame of the job\'s own: no place is named', (t) => {
  t.is(userFrame('Error: x\n    at f (file:///pkg/node_modules/weir-stream/dist/core/job.js:1:2)\n    at node:internal/x:1:1', OWN), undefined);
  t.is(userFrame('Error: no stack frames', OWN), undefined);
});
