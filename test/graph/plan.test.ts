// The planner and the job options: chaining, partitioners, uids, fingerprints, option validation and the CLI form.
import test from 'ava';
import { StreamExecutionEnvironment } from '../../core/api/environment.ts';
import { KeyedProcessFunction } from '../../core/index.ts';
import { plan, compareSignatures } from '../../core/graph/plan.ts';
import { assignUids } from '../../core/graph/uids.ts';
import { targetsOf } from '../../core/graph/channels.ts';
import { parseCliOptions } from '../../core/options.ts';

function build(f: (env: StreamExecutionEnvironment) => void, parallelism = 2) {
  const env = new StreamExecutionEnvironment({ parallelism });
  f(env);
  const warnings = assignUids(env.graph);
  return { p: plan(env.graph, env.resolvedOptions()), warnings, env };
}

test('forward edges of equal parallelism chain; keyBy, rebalance and a parallelism change do not', (t) => {
  const { p } = build((env) => {
    env.fromSequence(1, 10).map((x) => x).filter(() => true)
      .keyBy((x) => x).map((x) => x)
      .rebalance().map((x) => x).setParallelism(3)
      .map((x) => x).discard();
  });
  t.deepEqual(p.tasks.map((task) => task.nodes.map((n) => n.kind)), [
    ['source:sequence', 'map', 'filter'],
    ['map'],
    ['map'],
    ['map', 'sink:discard'],
  ]);
  t.deepEqual(p.edges.map((e) => e.partitioner), ['keyBy', 'rebalance', 'rebalance'], 'unset and p 3 -> 2: rebalance');
  t.is(p.slots, 3);
});

test('generated uids are stable and do not move when an unrelated operator is added', (t) => {
  const a = build((env) => { env.fromSequence(1, 10).map((x) => x).discard(); });
  const b = build((env) => {
    env.fromSequence(1, 10).map((x) => x).discard();
    env.fromCollection([1]).print();
  });
  t.deepEqual(a.p.signatures, b.p.signatures.slice(0, 3));
  t.not(compareSignatures(a.p.signatures, b.p.signatures), null);
  t.regex(compareSignatures(a.p.signatures, b.p.signatures)!, /at operator 3: coordinator has nothing/);
});

test('a stateful operator without a uid gets a warning', (t) => {
  const { warnings } = build((env) => {
    env.fromSequence(1, 10).keyBy((x) => x).process(new (class extends KeyedProcessFunction<number, number, number> {
      processElement() {}
    })()).discard();
    env.fromSequence(1, 10).keyBy((x) => x).sum().uid('sums').discard();
  });
  t.is(warnings.length, 1);
  t.regex(warnings[0]!, /stateful operator .* has no uid/);
});

test('forward with unequal parallelism is refused naming the operator', (t) => {
  const err = t.throws(() => build((env) => { env.fromSequence(1, 10).forward().map((x) => x).uid('m').setParallelism(3).discard(); }));
  t.regex(err!.message, /forward partitioning needs equal parallelism.*operator 'm'/);
});

test('rescale connects each producer to a local group of consumers', (t) => {
  t.deepEqual([0, 1].map((i) => targetsOf('rescale', 2, 4, i)), [[0, 1], [2, 3]]);
  t.deepEqual([0, 1, 2, 3].map((i) => targetsOf('rescale', 4, 2, i)), [[0], [0], [1], [1]]);
  t.deepEqual(targetsOf('forward', 3, 3, 2), [2]);
  t.deepEqual(targetsOf('keyBy', 1, 3, 0), [0, 1, 2]);
});

test('CLI options are the job options in kebab case, validated', (t) => {
  t.deepEqual(parseCliOptions(['--parallelism', '3', '--state-backend=lmdb', '--checkpoint-dir', './cp']),
    { parallelism: 3, stateBackend: 'lmdb', checkpointDir: './cp' });
  t.throws(() => parseCliOptions(['--paralelism', '3']), { message: /unknown option '--paralelism'/ });
  t.throws(() => parseCliOptions(['--parallelism', 'two']), { message: /option 'parallelism' must be an integer/ });
  t.throws(() => parseCliOptions(['--parallelism']), { message: /needs a value/ });
});
