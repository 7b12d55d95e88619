// Runs the deterministic simulation over many seeds. RAFT_SIM_SEEDS=N runs N seeds (default 1000);
// RAFT_SIM_SEED=S runs just seed S (to replay a failure); RAFT_SIM_FIRST=F starts the range at F;
// RAFT_SIM_TRACE=K shows the last K events of a failure (default 400).
import { SimFailure, Simulation } from './cluster.js';

const one = process.env.RAFT_SIM_SEED;
const count = Number(process.env.RAFT_SIM_SEEDS ?? 1000);
const first = Number(process.env.RAFT_SIM_FIRST ?? 1);
// Seeds that once failed outside the default range, kept in every run: 5944 (a stale candidate never
// learned the term while a removed member kept raising it; fixed by answering stale votes).
const REGRESSIONS = [5944];
const seeds =
  one !== undefined && one !== ''
    ? [Number(one)]
    : [...Array.from({ length: count }, (_, i) => first + i), ...REGRESSIONS.filter((s) => s < first || s >= first + count)];

describe('raft simulation', function () {
  this.timeout(0);

  it(`keeps every safety property and a linearisable history over ${seeds.length} seed(s)`, () => {
    const totals = { ops: 0, commits: 0, crashes: 0, confChanges: 0, snapshotsSent: 0, messages: 0 };
    for (const seed of seeds) {
      try {
        const st = new Simulation(seed, { traceSize: Number(process.env.RAFT_SIM_TRACE ?? 400) }).run();
        totals.ops += st.ops;
        totals.commits += st.commits;
        totals.crashes += st.crashes;
        totals.confChanges += st.confChanges;
        totals.snapshotsSent += st.snapshotsSent;
        totals.messages += st.messages;
      } catch (e) {
        if (!(e instanceof SimFailure)) throw e;
        const lines = [
          `seed ${e.seed} failed: ${e.reason}`,
          `replay: RAFT_SIM_SEED=${e.seed} npx mocha manager/raft/sim/sim.test.ts`,
          'last events:',
          ...e.trace,
        ];
        throw new Error(lines.join('\n'));
      }
    }
    if (seeds.length > 1) console.log(`      ${seeds.length} seeds:`, JSON.stringify(totals));
  });
});
