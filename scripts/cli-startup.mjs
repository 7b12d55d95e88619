#!/usr/bin/env node
// Start-up time of the bundled tsswarm CLI (issue 13's figures): wall time of `run --help`, `version`
// and `ps`, beside bare `node -e 0` as the floor. Rounds interleave the commands so that load from
// elsewhere on the machine falls on all of them alike. Without a daemon (the default TSSWARM_HOST
// points nowhere), `version` and `ps` fail at connect, which still times all they load before their
// first request; set TSSWARM_HOST to time them against a daemon.
// Usage: node scripts/cli-startup.mjs [RUNS=20]
import { spawnSync } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const runs = Number(process.argv[2] ?? 20);
const cli = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'tsswarm.js');
const env = { ...process.env, TSSWARM_HOST: process.env.TSSWARM_HOST ?? 'unix:///nonexistent/tsswarm-startup.sock' };
const cases = [
  ['node -e 0', ['-e', '0']],
  ['run --help', [cli, 'run', '--help']],
  ['version', [cli, 'version']],
  ['ps', [cli, 'ps']],
];
const times = new Map(cases.map(([name]) => [name, []]));
for (let i = 0; i < runs; i++) {
  for (const [name, args] of cases) {
    const t0 = process.hrtime.bigint();
    spawnSync(process.execPath, args, { stdio: 'ignore', env });
    times.get(name).push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
}
for (const [name, t] of times) {
  t.sort((a, b) => a - b);
  const mean = t.reduce((a, b) => a + b, 0) / t.length;
  console.log(`${name.padEnd(11)} median ${t[t.length >> 1].toFixed(1).padStart(6)} ms   mean ${mean.toFixed(1).padStart(6)} ms   min ${t[0].toFixed(1).padStart(6)} ms   (${t.length} runs)`);
}
