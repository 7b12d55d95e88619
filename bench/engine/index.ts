// `npm run bench -- engine [N]`: N × `tsswarm run --rm busybox true` (default bridge network and
// --network none) against N × `runc run` of an equivalent bundle (same rootfs, runc's default spec).
// Also: the daemon alone, driven by a warm client in this process (what a non-Node client would see),
// both Docker's way (create, wait, attach, start) and with the one-call POST /containers/run; and a
// per-step breakdown (TSSWARM_TIMING=1). Last stdout line: one JSON object.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { Agent, request, type IncomingMessage } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { ImageStore, saveArchive } from '../../image/index.js';
import { importBusyboxImage } from '../../image/testing/busybox-image.js';
import { TSSWARM, runCli } from '../../e2e/helpers/daemon.js';
import { endpointRuns } from './endpoint.js';

const N = Number(process.argv[2] ?? 50);

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const p90 = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.9)]!;
const round = (x: number): number => Math.round(x * 10) / 10;

function timeRuns(n: number, cmd: string, args: string[], env: NodeJS.ProcessEnv): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr?.toString()}`);
    out.push(ms);
  }
  return out;
}

/** Median per key of the `tsswarm: timings {...}` lines of runs made with TSSWARM_TIMING=1. */
function breakdown(n: number, args: string[], env: NodeJS.ProcessEnv): Record<string, Record<string, number>> {
  const rows: Record<string, Record<string, number>>[] = [];
  for (let i = 0; i < n; i++) {
    const r = spawnSync(process.execPath, [TSSWARM, ...args], { env: { ...env, TSSWARM_TIMING: '1' }, stdio: ['ignore', 'ignore', 'pipe'] });
    const line = r.stderr.toString().split('\n').find((l) => l.startsWith('tsswarm: timings '));
    if (line) rows.push(JSON.parse(line.slice('tsswarm: timings '.length)) as Record<string, Record<string, number>>);
  }
  const out: Record<string, Record<string, number>> = {};
  for (const part of ['cli', 'daemon']) {
    const keys = [...new Set(rows.flatMap((r) => Object.keys(r[part] ?? {})))];
    out[part] = Object.fromEntries(keys.map((k) => [k, round(median(rows.map((r) => r[part]?.[k] ?? 0)))]));
  }
  return out;
}

/** The daemon alone: a warm keep-alive client in this process, `n` runs of `true` with AutoRemove. */
async function daemonRuns(n: number, sock: string, network: string, oneCall: boolean): Promise<number[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  const call = (method: string, path: string, body?: unknown): Promise<IncomingMessage> =>
    new Promise((resolve, reject) => {
      const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
      const req = request({ socketPath: sock, agent, method, path: `/v1.41${path}`, headers: data ? { 'Content-Type': 'application/json', 'Content-Length': data.length } : {} }, resolve);
      req.once('error', reject);
      req.end(data);
    });
  const text = async (res: IncomingMessage): Promise<string> => {
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString();
  };
  const body = { Image: 'busybox', Cmd: ['true'], HostConfig: { AutoRemove: true, NetworkMode: network } };
  const out: number[] = [];
  try {
    for (let i = 0; i < n + 3; i++) {
      const t0 = performance.now();
      if (oneCall) {
        const res = await call('POST', '/containers/run', body);
        await text(res);
        if (res.statusCode !== 200) throw new Error(`run: ${res.statusCode}`);
      } else {
        const created = await call('POST', '/containers/create', body);
        const { Id } = JSON.parse(await text(created)) as { Id: string };
        const wait = await call('POST', `/containers/${Id}/wait?condition=removed`);
        const attach = await call('POST', `/containers/${Id}/attach?stream=1&stdout=1&stderr=1`);
        const started = await call('POST', `/containers/${Id}/start`);
        await text(started);
        await Promise.all([text(attach), text(wait)]);
      }
      if (i >= 3) out.push(performance.now() - t0);
    }
  } finally {
    agent.destroy();
  }
  return out;
}

async function main(): Promise<void> {
  const dir = mkdtempSync('/tmp/tsswarm-bench-engine-');
  const host = `unix://${join(dir, 's.sock')}`;
  const env = { ...process.env, TSSWARM_HOST: host, TSSWARM_NO_AUTOSTART: '1', TSSWARM_NET_PREFIX: `b${randomBytes(2).toString('hex').slice(0, 3)}`, TSSWARM_TEARDOWN: '1', TSSWARM_LOG_LEVEL: 'warn' };
  const daemon = spawn(process.execPath, [TSSWARM, 'daemon', '--data-root', join(dir, 'data'), '--exec-root', join(dir, 'exec'), '--host', host], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  try {
    const store = await ImageStore.open(join(dir, 'fixture'));
    await importBusyboxImage(store);
    const archive = join(dir, 'busybox.tar');
    await saveArchive(store, ['busybox:latest'], archive);
    for (let i = 0; (await runCli(['version'], env)).code !== 0; i++) {
      if (i > 200) throw new Error('daemon did not answer');
      await new Promise((r) => setTimeout(r, 50));
    }
    const load = await runCli(['load', '-i', archive], env);
    if (load.code !== 0) throw new Error(`load: ${load.stderr}`);

    // runc bundle: the same layer as a plain rootfs, runc's default spec running `true`.
    const bundle = join(dir, 'bundle');
    execFileSync('mkdir', ['-p', join(bundle, 'rootfs')]);
    execFileSync('cp', ['-a', `${store.lowerDirs('busybox:latest')[0]}/.`, join(bundle, 'rootfs')]);
    execFileSync('runc', ['spec'], { cwd: bundle });
    const spec = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8')) as { process: { args: string[]; terminal: boolean } };
    spec.process.args = ['true'];
    spec.process.terminal = false;
    writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec));
    const runcRoot = join(dir, 'runc');

    const node = process.execPath;
    // Warm-up: first runs pay for page cache and lazy module loads.
    timeRuns(3, node, [TSSWARM, 'run', '--rm', 'busybox', 'true'], env);
    const runRm = timeRuns(N, node, [TSSWARM, 'run', '--rm', 'busybox', 'true'], env);
    const runRmNone = timeRuns(N, node, [TSSWARM, 'run', '--rm', '--network', 'none', 'busybox', 'true'], env);
    const version = timeRuns(Math.min(N, 20), node, [TSSWARM, 'version'], env);
    // This VM sets NODE_EXTRA_CA_CERTS, which makes every node process parse the CA bundle at start
    // (~30 ms); users rarely have it, so the CLI is also measured without.
    const noCa: NodeJS.ProcessEnv = { ...env };
    delete noCa.NODE_EXTRA_CA_CERTS;
    const extraCa = process.env.NODE_EXTRA_CA_CERTS !== undefined;
    const runRmNoCa = extraCa ? timeRuns(N, node, [TSSWARM, 'run', '--rm', 'busybox', 'true'], noCa) : runRm;
    const runRmNoneNoCa = extraCa ? timeRuns(N, node, [TSSWARM, 'run', '--rm', '--network', 'none', 'busybox', 'true'], noCa) : runRmNone;
    const nodeBare = timeRuns(Math.min(N, 20), node, ['-e', ''], env);
    // Docker's own CLI (a Go binary: no runtime start-up to speak of) through the same daemon: the
    // difference to ours is our CLI's start-up, not the daemon.
    const docker = spawnSync('docker', ['--version'], { stdio: 'ignore' }).status === 0;
    const dockerEnv: NodeJS.ProcessEnv = { ...env, DOCKER_HOST: host, DOCKER_CONFIG: join(dir, 'docker-config') };
    const dockerRunRm = docker ? timeRuns(N, 'docker', ['run', '--rm', 'busybox', 'true'], dockerEnv) : [];
    const dockerRunRmNone = docker ? timeRuns(N, 'docker', ['run', '--rm', '--network', 'none', 'busybox', 'true'], dockerEnv) : [];
    const dockerVersion = docker ? timeRuns(Math.min(N, 20), 'docker', ['version'], dockerEnv) : [];
    const sock = host.slice('unix://'.length);
    const daemonDocker = await daemonRuns(N, sock, 'default', false);
    const daemonDockerNone = await daemonRuns(N, sock, 'none', false);
    const daemonOne = await daemonRuns(N, sock, 'default', true);
    const daemonOneNone = await daemonRuns(N, sock, 'none', true);
    const bd = breakdown(Math.min(N, 15), ['run', '--rm', 'busybox', 'true'], noCa);
    const bdNone = breakdown(Math.min(N, 15), ['run', '--rm', '--network', 'none', 'busybox', 'true'], noCa);
    let k = 0;
    const runc: number[] = [];
    for (let i = 0; i < N + 3; i++) {
      const t = timeRuns(1, 'runc', ['--root', runcRoot, 'run', '--bundle', bundle, `tsswarm-bench-${process.pid}-${k++}`], env)[0]!;
      if (i >= 3) runc.push(t);
    }
    const endpoint = await endpointRuns(N);
    const result = {
      runs: N,
      run_rm_median_ms: round(median(runRm)),
      run_rm_p90_ms: round(p90(runRm)),
      run_rm_network_none_median_ms: round(median(runRmNone)),
      runc_median_ms: round(median(runc)),
      runc_p90_ms: round(p90(runc)),
      ratio: round(median(runRm) / median(runc)),
      ratio_network_none: round(median(runRmNone) / median(runc)),
      cli_version_median_ms: round(median(version)),
      node_bare_start_median_ms: round(median(nodeBare)),
      node_extra_ca_certs_set: extraCa,
      run_rm_no_extra_ca_median_ms: round(median(runRmNoCa)),
      run_rm_network_none_no_extra_ca_median_ms: round(median(runRmNoneNoCa)),
      daemon_run_rm_docker_flow_median_ms: round(median(daemonDocker)),
      daemon_run_rm_docker_flow_network_none_median_ms: round(median(daemonDockerNone)),
      daemon_run_rm_one_call_median_ms: round(median(daemonOne)),
      daemon_run_rm_one_call_network_none_median_ms: round(median(daemonOneNone)),
      breakdown_run_rm_ms: bd,
      breakdown_run_rm_network_none_ms: bdNone,
      goal_run_rm_median_ms: 25,
      docker_cli_run_rm_median_ms: docker ? round(median(dockerRunRm)) : null,
      docker_cli_run_rm_network_none_median_ms: docker ? round(median(dockerRunRmNone)) : null,
      docker_cli_version_median_ms: docker ? round(median(dockerVersion)) : null,
      endpoint_connect_tsnetlink_median_ms: endpoint ? round(median(endpoint.helper)) : null,
      endpoint_connect_ip_batch_median_ms: endpoint ? round(median(endpoint.ip)) : null,
    };
    process.stdout.write(`tsswarm run --rm: median ${result.run_rm_median_ms} ms (--network none ${result.run_rm_network_none_median_ms} ms); runc run: ${result.runc_median_ms} ms; CLI start alone (version): ${result.cli_version_median_ms} ms\n`);
    process.stdout.write(`without NODE_EXTRA_CA_CERTS: run --rm ${result.run_rm_no_extra_ca_median_ms} ms (--network none ${result.run_rm_network_none_no_extra_ca_median_ms} ms); bare node start ${result.node_bare_start_median_ms} ms (with the env as given)\n`);
    process.stdout.write(`daemon alone (warm client): Docker's create/wait/attach/start ${result.daemon_run_rm_docker_flow_median_ms} ms (none ${result.daemon_run_rm_docker_flow_network_none_median_ms}), POST /containers/run ${result.daemon_run_rm_one_call_median_ms} ms (none ${result.daemon_run_rm_one_call_network_none_median_ms})\n`);
    if (docker) {
      process.stdout.write(
        `docker CLI through our daemon: run --rm ${result.docker_cli_run_rm_median_ms} ms (--network none ${result.docker_cli_run_rm_network_none_median_ms} ms); version ${result.docker_cli_version_median_ms} ms\n`,
      );
    }
    if (endpoint) {
      process.stdout.write(`one endpoint (veth, bridge port, address, route): tsnetlink ${result.endpoint_connect_tsnetlink_median_ms} ms, ip -batch x2 ${result.endpoint_connect_ip_batch_median_ms} ms\n`);
    } else {
      process.stdout.write('one endpoint: no tsnetlink helper (node scripts/build.mjs), not measured\n');
    }
    process.stdout.write(`breakdown (medians, ms): bridge ${JSON.stringify(bd)}\n  none ${JSON.stringify(bdNone)}\n`);
    process.stdout.write(JSON.stringify(result) + '\n');
  } finally {
    if (daemon.exitCode === null) {
      const done = new Promise((r) => daemon.once('exit', r));
      daemon.kill('SIGTERM');
      await done;
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
