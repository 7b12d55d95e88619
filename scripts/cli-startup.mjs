#!/usr/bin/env node
// Start-up time of the bundled tsswarm CLI (issue 13's figures): wall time of `run --help`, `version`,
// `ps`, `stack ls` and `secret ls`, beside bare `node -e 0` as the floor. Rounds interleave the commands
// (and the builds, with --before) so that load from elsewhere on the machine falls on all alike.
// Without a daemon (the default TSSWARM_HOST points nowhere, and a host other than the default never
// starts one) the daemon commands fail at connect, which still times all they load before their first
// request; set TSSWARM_HOST to time them against a daemon.
// Usage: node scripts/cli-startup.mjs [RUNS=20] [--before OTHER_DIST_DIR]
import { spawnSync } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const at = args.indexOf('--before');
const before = at >= 0 ? args.splice(at, 2)[1] : undefined;
const runs = Number(args[0] ?? 20);
const builds = [['', join(dirname(fileURLToPath(import.meta.url)), '..', 'dist')]];
if (before) builds.unshift(['before: ', before]);
const env = { ...process.env, TSSWARM_HOST: process.env.TSSWARM_HOST ?? 'unix:///nonexistent/tsswarm-startup.sock' };
const commands = [['run', '--help'], ['version'], ['ps'], ['stack', 'ls'], ['secret', 'ls']];
const cases = [['node -e 0', ['-e', '0']]];
for (const argv of commands) for (const [label, dist] of builds) cases.push([`${label}${argv.join(' ')}`, [join(dist, 'tsswarm.js'), ...argv]]);
const times = new Map(cases.map(([name]) => [name, []]));
for (let i = 0; i < runs; i++) {
  for (const [name, argv] of cases) {
    const t0 = process.hrtime.bigint();
    spawnSync(process.execPath, argv, { stdio: 'ignore', env });
    times.get(name).push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
}
const floor = [...times.get('node -e 0')].sort((a, b) => a - b);
const median = (t) => t[t.length >> 1];
for (const [name, t] of times) {
  t.sort((a, b) => a - b);
  const over = name === 'node -e 0' ? '' : `   over node ${(median(t) - median(floor)).toFixed(1).padStart(5)} ms`;
  console.log(`${name.padEnd(20)} median ${median(t).toFixed(1).padStart(6)} ms   min ${t[0].toFixed(1).padStart(6)} ms${over}   (${t.length} runs)`);
}
