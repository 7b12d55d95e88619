// A swarm on the multi-node bed: 3 managers and 2 workers, each a namespace with its own daemon.
// Real processes, real mutual TLS on each node's own address, real raft over the cluster port.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { busyboxArchive } from '../helpers/busybox.js';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { Bed, sweep, TSSWARM as TSSWARM_BIN, until as untilFor } from './bed.js';

interface NodeRow {
  ID: string;
  Self: boolean;
  Hostname: string;
  Status: string;
  Availability: string;
  ManagerStatus: string;
}

describe('e2e/cluster: swarm init, join, failures and refusals on a 5-node bed', function () {
  this.timeout(180_000);
  const bed = new Bed();
  const ids: Record<number, string> = {};

  const ls = async (k: number): Promise<NodeRow[]> => {
    const r = await bed.cli(k, ['node', 'ls', '--format', '{{json .}}']);
    if (r.code !== 0) throw new Error(`node ls on node ${k}: ${r.stderr}`);
    return r.stdout.trim().split('\n').filter(Boolean).map((l) => {
      const row = JSON.parse(l) as NodeRow;
      // Docker marks this node with " *" after its ID.
      return { ...row, ID: row.ID.replace(/ \*$/, '') };
    });
  };
  const until = <T>(what: string, check: () => Promise<T | undefined>, tries = 300): Promise<T> => untilFor(what, check, tries, 100);
  const state = (rows: NodeRow[], id: string) => rows.find((r) => r.ID === id);

  before(async function () {
    sweep();
    await bed.boot(5);
  });
  after(async function () {
    await bed.teardown();
  });

  it('each node is its own host: own hostname, own address', async function () {
    for (const k of [1, 2, 3, 4, 5]) {
      const info = await bed.cli(k, ['info', '--format', 'json']);
      assert.equal(JSON.parse(info.stdout).Name, bed.node(k).name);
    }
    assert.equal(bed.exec(2, 'busybox', ['ping', '-c', '1', '-W', '2', bed.node(3).address]).code, 0);
    // A container on node 2: its cgroup is under node 2's own parent.
    const work = mkdtempSync('/tmp/tsswarm-bed-img-');
    try {
      assert.equal((await bed.cli(2, ['load', '-i', await busyboxArchive(work)])).code, 0);
      const run = await bed.cli(2, ['run', '-d', '--name', 'c2', 'busybox', 'sleep', '300']);
      assert.equal(run.code, 0, run.stderr);
      const pid = (await bed.cli(2, ['inspect', '-f', '{{.State.Pid}}', 'c2'])).stdout.trim();
      assert.match(readFileSync(`/proc/${pid}/cgroup`, 'utf8'), new RegExp(`/${bed.cgroupParent(2)}/`));
      assert.equal((await bed.cli(2, ['rm', '-f', 'c2'])).code, 0);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });

  it('init on node 1, two managers and two workers join; node ls agrees on every manager', async function () {
    const init = await bed.cli(1, ['swarm', 'init', '--advertise-addr', bed.node(1).address]);
    assert.equal(init.code, 0, init.stderr);
    assert.match(init.stdout, /Swarm initialized: current node \(\w{25}\) is now a manager\./);
    assert.match(init.stdout, new RegExp(`swarm join --token SWMTKN-1-\\w{50}-\\w{25} ${bed.node(1).address.replace(/\./g, '\\.')}:2377`));
    const worker = (await bed.cli(1, ['swarm', 'join-token', '-q', 'worker'])).stdout.trim();
    const manager = (await bed.cli(1, ['swarm', 'join-token', '-q', 'manager'])).stdout.trim();
    for (const [k, token, role] of [[2, manager, 'manager'], [3, manager, 'manager'], [4, worker, 'worker'], [5, worker, 'worker']] as const) {
      const j = await bed.cli(k, ['swarm', 'join', '--token', token, '--advertise-addr', bed.node(k).address, `${bed.node(1).address}:2377`]);
      assert.equal(j.code, 0, `node ${k}: ${j.stderr}`);
      assert.equal(j.stdout.trim(), `This node joined a swarm as a ${role}.`);
    }
    const rows = await until('5 ready nodes, 3 managers reachable', async () => {
      const r = await ls(1);
      return r.length === 5 && r.every((x) => x.Status === 'Ready') && r.filter((x) => x.ManagerStatus === 'Reachable').length === 2 ? r : undefined;
    });
    for (const r of rows) ids[Number(r.Hostname.slice(-1))] = r.ID;
    assert.equal(rows.find((r) => r.Self)?.ManagerStatus, 'Leader');
    for (const k of [2, 3]) {
      const other = await until(`node ls on node ${k}`, async () => {
        const r = await ls(k);
        return r.every((x) => x.Status === 'Ready') && r.length === 5 ? r : undefined;
      });
      assert.deepEqual(other.map((r) => [r.ID, r.Status, r.ManagerStatus]).sort(), rows.map((r) => [r.ID, r.Status, r.ManagerStatus]).sort());
    }
    const onWorker = await bed.cli(4, ['node', 'ls']);
    assert.equal(onWorker.code, 1);
    assert.match(onWorker.stderr, /This node is not a swarm manager\. Worker nodes can't be used to view or modify cluster state/);
    const raft = JSON.parse((await bed.cli(2, ['info', '--format', 'json'])).stdout).Swarm.Raft;
    assert.equal(raft.Voters.length, 3);
  });

  it('a killed worker is marked down, and comes back ready as the same node without a token', async function () {
    await bed.kill(5);
    const down = await until('node 5 down', async () => {
      const r = state(await ls(1), ids[5]!);
      return r?.Status === 'Down' ? r : undefined;
    });
    assert.equal(down.ID, ids[5]);
    const pretty = await bed.cli(1, ['node', 'inspect', '--pretty', ids[5]!]);
    assert.match(pretty.stdout, /Message:\s+heartbeat failure/);
    await bed.start(5);
    await until('node 5 ready again', async () => (state(await ls(1), ids[5]!)?.Status === 'Ready' ? true : undefined));
    assert.equal((await ls(1)).length, 5, 'no second node object for the same host');
  });

  it('the leader killed: a new leader, the store intact, the CLI on a follower keeps working', async function () {
    await bed.kill(1);
    const rows = await until('a new leader', async () => {
      const r = await ls(2);
      const leader = r.find((x) => x.ManagerStatus === 'Leader');
      return leader && leader.ID !== ids[1] ? r : undefined;
    });
    assert.equal(rows.length, 5);
    // A write through a follower (forwarded to the new leader) and a read on the other manager.
    const follower = rows.find((r) => r.ManagerStatus === 'Leader')!.ID === ids[2] ? 3 : 2;
    const upd = await bed.cli(follower, ['node', 'update', '--label-add', 'zone=b', ids[4]!]);
    assert.equal(upd.code, 0, upd.stderr);
    const other = follower === 2 ? 3 : 2;
    await until('the label everywhere', async () => {
      const r = await bed.cli(other, ['node', 'inspect', '-f', '{{json .Spec.Labels}}', ids[4]!]);
      return r.stdout.includes('"zone":"b"') ? true : undefined;
    });
    await bed.start(1);
    await until('node 1 back as a manager', async () => (state(await ls(2), ids[1]!)?.Status === 'Ready' ? true : undefined));
  });

  it('promote makes a running worker a manager (raft member, control API); demote makes it a worker again', async function () {
    const up = await bed.cli(2, ['node', 'promote', ids[4]!]);
    assert.equal(up.code, 0, up.stderr);
    assert.equal(up.stdout.trim(), `Node ${ids[4]} promoted to a manager in the swarm.`);
    await until('node 4 answers node ls as a manager', async () => ((await bed.cli(4, ['node', 'ls'])).code === 0 ? true : undefined));
    await until('4 raft voters', async () => {
      const raft = JSON.parse((await bed.cli(2, ['info', '--format', 'json'])).stdout).Swarm.Raft;
      return raft.Voters.length === 4 ? true : undefined;
    });
    const down = await bed.cli(2, ['node', 'demote', ids[4]!]);
    assert.equal(down.code, 0, down.stderr);
    assert.equal(down.stdout.trim(), `Manager ${ids[4]} demoted in the swarm.`);
    await until('node 4 refused as a worker again', async () => {
      const r = await bed.cli(4, ['node', 'ls']);
      return r.code !== 0 && /Worker nodes can't be used/.test(r.stderr) ? true : undefined;
    });
    const raft = JSON.parse((await bed.cli(2, ['info', '--format', 'json'])).stdout).Swarm.Raft;
    assert.equal(raft.Voters.length, 3);
    assert.ok(!existsSync(join(bed.node(4).dataRoot, 'swarm', 'raft')), 'a worker keeps no raft data');
  });

  it('swarm ca --rotate: a new root, every node re-certified through a cross-signed bridge, nobody drops out', async function () {
    const before = (await bed.cli(2, ['swarm', 'ca'])).stdout;
    const tokenBefore = (await bed.cli(2, ['swarm', 'join-token', '-q', 'worker'])).stdout.trim();
    const rot = await bed.cli(2, ['swarm', 'ca', '--rotate', '-q']);
    assert.equal(rot.code, 0, rot.stderr);
    assert.match(rot.stdout, /^-----BEGIN CERTIFICATE-----/);
    assert.notEqual(rot.stdout, before);
    // Every node, workers included, trusts and holds the new root; the cluster still works throughout.
    for (const k of [1, 2, 3, 4, 5]) {
      await until(`node ${k} on the new root`, async () => {
        const info = JSON.parse((await bed.cli(k, ['info', '--format', 'json'])).stdout).Swarm;
        const digest = JSON.parse((await bed.cli(2, ['info', '--format', 'json'])).stdout).Swarm.CADigest;
        return info.CADigest === digest ? true : undefined;
      }, 900);
    }
    const rows = await until('all ready after the rotation', async () => {
      const r = await ls(3);
      return r.length === 5 && r.every((x) => x.Status === 'Ready') ? r : undefined;
    }, 900);
    assert.equal(rows.filter((r) => r.ManagerStatus).length, 3);
    // Join tokens carry the root's digest: the old one now names another root.
    const tokenAfter = (await bed.cli(2, ['swarm', 'join-token', '-q', 'worker'])).stdout.trim();
    assert.notEqual(tokenAfter.split('-')[2], tokenBefore.split('-')[2]);
  });

  it('refuses a wrong token, a wrong CA digest and a rotated token, leaving the node untouched', async function () {
    const token = (await bed.cli(2, ['swarm', 'join-token', '-q', 'worker'])).stdout.trim();
    // Node 5 leaves, so it can try to join again.
    assert.equal((await bed.cli(5, ['swarm', 'leave'])).code, 0);
    const target = `${bed.node(2).address}:2377`;
    const parts = token.split('-');
    const wrongSecret = [...parts.slice(0, 3), 'a'.repeat(25)].join('-');
    const wrongDigest = [parts[0], parts[1], 'b'.repeat(50), parts[3]].join('-');
    const tries: [string, RegExp][] = [
      ['SWMTKN-1-nope', /invalid join token: 3 dash-separated parts/],
      [wrongSecret, /matches neither the current worker nor the manager token/],
      [wrongDigest, /does not match the join token/],
    ];
    const rot = await bed.cli(2, ['swarm', 'join-token', '--rotate', '-q', 'worker']);
    assert.equal(rot.code, 0, rot.stderr);
    assert.notEqual(rot.stdout.trim(), token);
    tries.push([token, /it may have been rotated/]);
    for (const [t, why] of tries) {
      const r = await bed.cli(5, ['swarm', 'join', '--token', t, '--advertise-addr', bed.node(5).address, target]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, why);
      const info = JSON.parse((await bed.cli(5, ['info', '--format', 'json'])).stdout).Swarm;
      assert.equal(info.LocalNodeState, 'inactive');
      assert.ok(!existsSync(join(bed.node(5).dataRoot, 'swarm')), 'no swarm state, certificate or raft member left behind');
    }
  });

  it('a worker certificate cannot call the control API; a removed node is refused at once', async function () {
    const certs = join(bed.node(4).dataRoot, 'swarm', 'certificates');
    const creds = { key: readFileSync(join(certs, 'key.pem')), cert: readFileSync(join(certs, 'cert.pem')), ca: readFileSync(join(certs, 'root.pem')) };
    // The call goes out from node 4's own namespace (the managers listen on their bed addresses),
    // as a small node script run there with node 4's worker certificate.
    const control = (): { status: number; body: string } => {
        const script = `const https=require('https');const r=https.request({host:'${bed.node(2).address}',port:2377,path:'/swarm/v1/control',method:'POST',key:process.env.K,cert:process.env.C,ca:process.env.A,checkServerIdentity:()=>undefined,headers:{'content-type':'application/json'}},res=>{let b='';res.on('data',d=>b+=d);res.on('end',()=>{console.log(JSON.stringify({status:res.statusCode,body:b}))})});r.on('error',e=>{console.log(JSON.stringify({status:0,body:e.message}))});r.end(JSON.stringify({method:'listNodes',args:[]}))`;
        const out = spawnSync('nsenter', [`--net=/run/netns/${bed.node(4).netns}`, '--', process.execPath, '-e', script], {
          encoding: 'utf8',
          env: { ...process.env, K: creds.key.toString(), C: creds.cert.toString(), A: creds.ca.toString() },
        });
        try {
          return JSON.parse(out.stdout.trim()) as { status: number; body: string };
        } catch {
          throw new Error(`no answer: ${out.stderr}`);
        }
      };
    const r = control();
    assert.equal(r.status, 403);
    assert.match(r.body, /a worker node \(\w+\) may not call this/);
    // Remove node 4 (a worker, up): refused without --force, then removed; its certificate is refused.
    const rm = await bed.cli(2, ['node', 'rm', ids[4]!]);
    assert.notEqual(rm.code, 0);
    assert.match(rm.stderr, /is not down and can't be removed/);
    assert.equal((await bed.cli(2, ['node', 'rm', '--force', ids[4]!])).code, 0);
    const after = control();
    assert.equal(after.status, 403);
    assert.match(after.body, /was removed from the swarm: its certificate is revoked/);
    assert.equal((await ls(2)).length, 4);
  });

  it('the real docker CLI lists the nodes through our API', async function () {
    if (spawnSync('docker', ['--version']).status !== 0) this.skip();
    const r = spawnSync('docker', ['node', 'ls'], { encoding: 'utf8', env: bed.node(2).env });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /HOSTNAME\s+STATUS\s+AVAILABILITY\s+MANAGER STATUS\s+ENGINE VERSION/);
    assert.match(r.stdout, new RegExp(`${ids[2]} \\*`));
    assert.match(r.stdout, /Leader/);
    const tok = spawnSync('docker', ['swarm', 'join-token', 'worker'], { encoding: 'utf8', env: bed.node(2).env });
    assert.equal(tok.status, 0, tok.stderr);
    assert.match(tok.stdout, /docker swarm join --token SWMTKN-1-\w{50}-\w{25} /);
    const info = spawnSync('docker', ['info'], { encoding: 'utf8', env: bed.node(2).env });
    assert.match(info.stdout, /Swarm: active\n\s+NodeID: \w{25}\n\s+Is Manager: true/);
  });

  it('quorum lost: the error names the way out; init --force-new-cluster brings the swarm back on one manager', async function () {
    const rows = await ls(2);
    const managers = rows.filter((r) => r.ManagerStatus).map((r) => Number(r.Hostname.slice(-1)));
    const others = managers.filter((k) => k !== 2);
    for (const k of others) await bed.kill(k);
    const lost = await until('the loss of quorum reported', async () => {
      const r = await bed.cli(2, ['node', 'ls']);
      return r.code !== 0 && /force-new-cluster/.test(r.stderr) ? r : undefined;
    });
    assert.match(lost.stderr, /quorum/);
    const rec = await bed.cli(2, ['swarm', 'init', '--force-new-cluster', '--advertise-addr', bed.node(2).address]);
    assert.equal(rec.code, 0, rec.stderr);
    const back = await until('node ls on the recovered manager', async () => {
      const r = await bed.cli(2, ['node', 'ls', '--format', '{{.ID}} {{.Status}} {{.ManagerStatus}}']);
      return r.code === 0 ? r.stdout : undefined;
    });
    assert.match(back, new RegExp(`${ids[2]} \\* Ready Leader`));
    assert.equal(back.trim().split('\n').length, rows.length, 'the store kept every node');
    const raft = JSON.parse((await bed.cli(2, ['info', '--format', 'json'])).stdout).Swarm.Raft;
    assert.deepEqual(raft.Voters, [ids[2]]);
  });

  it('autolock: a restarted manager stays locked, its keys sealed on disk, until swarm unlock with the key', async function () {
    // Node 5 left the swarm earlier: it founds a swarm of its own here.
    const init = await bed.cli(5, ['swarm', 'init', '--autolock', '--advertise-addr', bed.node(5).address]);
    assert.equal(init.code, 0, init.stderr);
    const key = /(SWMKEY-1-\S+)/.exec(init.stdout)?.[1];
    assert.ok(key, init.stdout);
    assert.equal((await bed.cli(5, ['swarm', 'unlock-key', '-q'])).stdout.trim(), key);
    const dir = join(bed.node(5).dataRoot, 'swarm');
    assert.ok(existsSync(join(dir, 'certificates', 'key.sealed')) && !existsSync(join(dir, 'certificates', 'key.pem')), 'the TLS key is sealed');
    assert.ok(existsSync(join(dir, 'data.key.sealed')) && !existsSync(join(dir, 'data.key')), 'the data key is sealed');
    // The raft log holds the CA key only sealed under the data key.
    const raftFiles = spawnSync('grep', ['-rl', 'BEGIN RSA PRIVATE KEY', join(dir, 'raft')], { encoding: 'utf8' });
    assert.equal(raftFiles.stdout.trim(), '', 'no private key in the clear in raft data');
    await bed.kill(5);
    await bed.start(5);
    const info = JSON.parse((await bed.cli(5, ['info', '--format', 'json'])).stdout).Swarm;
    assert.equal(info.LocalNodeState, 'locked');
    const ls5 = await bed.cli(5, ['node', 'ls']);
    assert.notEqual(ls5.code, 0);
    assert.match(ls5.stderr, /Swarm is encrypted and needs to be unlocked/);
    const wrong = await bed.cli(5, ['swarm', 'unlock'], );
    assert.notEqual(wrong.code, 0, 'no key given');
    const bad = await runWithInput(5, ['swarm', 'unlock'], 'SWMKEY-1-' + Buffer.alloc(32, 7).toString('base64') + '\n');
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /invalid key/);
    const good = await runWithInput(5, ['swarm', 'unlock'], `${key}\n`);
    assert.equal(good.code, 0, good.stderr);
    await until('node 5 unlocked and ready', async () => ((await ls(5)).some((r) => r.Status === 'Ready') ? true : undefined));
  });

  it('autolock turned off and on again on a running swarm, and its key rotated: the manager re-seals its keys each time', async function () {
    // Node 5: the autolocked, unlocked single-manager swarm of the test above.
    const dir = join(bed.node(5).dataRoot, 'swarm');
    const sealed = () => existsSync(join(dir, 'certificates', 'key.sealed')) && existsSync(join(dir, 'data.key.sealed')) && !existsSync(join(dir, 'certificates', 'key.pem')) && !existsSync(join(dir, 'data.key'));
    const clear = () => existsSync(join(dir, 'certificates', 'key.pem')) && existsSync(join(dir, 'data.key')) && !existsSync(join(dir, 'certificates', 'key.sealed')) && !existsSync(join(dir, 'data.key.sealed'));
    const state = async () => JSON.parse((await bed.cli(5, ['info', '--format', 'json'])).stdout).Swarm.LocalNodeState as string;
    const restart = async () => {
      await bed.kill(5);
      await bed.start(5);
    };

    // Just unlocked: its raft may still be electing itself.
    const off = await until('swarm update accepted', async () => {
      const r = await bed.cli(5, ['swarm', 'update', '--autolock=false']);
      return r.code === 0 ? r : undefined;
    });
    assert.equal(off.stdout, 'Swarm updated.\n');
    await until('keys in the clear', async () => (clear() ? true : undefined));
    const none = await bed.cli(5, ['swarm', 'unlock-key']);
    assert.notEqual(none.code, 0);
    assert.match(none.stderr, /no unlock key is set/);
    const norotate = await bed.cli(5, ['swarm', 'unlock-key', '--rotate']);
    assert.match(norotate.stderr, /cannot rotate because autolock is not turned on/);
    await restart();
    await until('node 5 back, not locked', async () => ((await state()) === 'active' ? true : undefined));

    const on = await until('swarm update accepted after the restart', async () => {
      const r = await bed.cli(5, ['swarm', 'update', '--autolock=true']);
      return r.code === 0 ? r : undefined;
    });
    const k1 = /(SWMKEY-1-\S+)/.exec(on.stdout)?.[1];
    assert.ok(k1, `update --autolock=true prints the key (got ${on.stdout})`);
    await until('keys sealed', async () => (sealed() ? true : undefined));
    // Both sealed files change (the data key first, then the TLS key): the restart below must not
    // come between the two writes.
    const files = [join(dir, 'data.key.sealed'), join(dir, 'certificates', 'key.sealed')];
    const before = files.map((f) => readFileSync(f));
    const rot = await bed.cli(5, ['swarm', 'unlock-key', '--rotate']);
    assert.equal(rot.code, 0, rot.stderr);
    assert.match(rot.stdout, /^Successfully rotated manager unlock key\.\n\nTo unlock a swarm manager/);
    const k2 = /(SWMKEY-1-\S+)/.exec(rot.stdout)?.[1];
    assert.ok(k2 && k2 !== k1, 'a new key');
    await until('keys sealed anew', async () => (sealed() && files.every((f, i) => !readFileSync(f).equals(before[i]!)) ? true : undefined));
    await restart();
    assert.equal(await state(), 'locked');
    const old = await runWithInput(5, ['swarm', 'unlock'], `${k1}\n`);
    assert.match(old.stderr, /invalid key/, 'the rotated-out key no longer opens it');
    const good = await runWithInput(5, ['swarm', 'unlock'], `${k2}\n`);
    assert.equal(good.code, 0, good.stderr);
    await until('node 5 unlocked and ready', async () => ((await ls(5)).some((r) => r.Status === 'Ready') ? true : undefined));
  });

  async function runWithInput(k: number, args: string[], input: string): Promise<{ code: number; stderr: string }> {
    const r = spawnSync(process.execPath, [TSSWARM_BIN, ...args], { input, encoding: 'utf8', env: bed.node(k).env });
    return { code: r.status ?? 1, stderr: r.stderr };
  }
});
