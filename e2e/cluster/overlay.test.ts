// Swarm networking on a 4-node bed: a 3-replica service on nodes 1–3 reached from a client task on
// node 4 over the VXLAN overlay — by name (the VIP), by VIP spread over every replica, `tasks.NAME`,
// dnsrr; a scaled-down task leaves the rotation; two stacks' services of one name do not see each
// other; and nothing of the overlay is left on any node once the services and networks are gone.
// Real kernel objects in the bed's namespaces; waits bounded by counts, never timed assertions.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { busyboxArchive } from '../helpers/busybox.js';
import { Bed, sweep, until as untilFor } from './bed.js';

const HTTPD = 'mkdir -p /www; hostname > /www/index.html; exec httpd -f -p 80 -h /www';

describe('e2e/cluster: overlay networks, service VIPs and DNS on a 4-node bed', function () {
  this.timeout(300_000);
  const bed = new Bed();
  let work = '';

  const must = (k: number, args: string[]): Promise<string> => bed.must(k, args);
  const until = <T>(what: string, check: () => Promise<T | undefined>, tries = 300): Promise<T> => untilFor(what, check, tries, 200);
  const running = async (service: string): Promise<number> => {
    const out = await must(1, ['service', 'ps', '--filter', 'desired-state=running', '--format', '{{.CurrentState}}', service]);
    return out.split('\n').filter((l) => l.startsWith('Running')).length;
  };
  /** The client task's container on node 4, and a shell command run in it. */
  const client = async (name = 'client'): Promise<(cmd: string) => Promise<string>> => {
    const id = (await must(4, ['ps', '-q', '--filter', `label=com.docker.swarm.service.name=${name}`])).trim().split('\n')[0]!;
    assert.ok(id, `a ${name} task runs on node 4`);
    return async (cmd) => (await bed.cli(4, ['exec', id, 'sh', '-c', cmd])).stdout;
  };
  /** nslookup's answers for a name, from inside a task. */
  const lookup = async (sh: (c: string) => Promise<string>, name: string): Promise<string[]> =>
    [...(await sh(`nslookup ${name} 2>/dev/null`)).matchAll(/^Address: (\d+\.\d+\.\d+\.\d+)$/gm)].map((m) => m[1]!).filter((a) => !a.endsWith('.1')).sort();
  /** Hostnames answering HTTP at addr, over `n` requests (busybox nc; its wget needs NSS). */
  const hostnames = async (sh: (c: string) => Promise<string>, addr: string, n: number): Promise<Set<string>> => {
    const out = await sh(`for i in $(seq ${n}); do printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 2 ${addr} 80 | tail -1; echo; done`);
    return new Set(out.split('\n').map((l) => l.trim()).filter(Boolean));
  };
  /** What of the overlays a node has: links in its namespace, and each overlay's own namespace (with its links). */
  const overlayLinks = (k: number): string[] => {
    const links = (ns: string): string[] =>
      spawnSync('nsenter', [`--net=${ns}`, 'ip', '-o', 'link', 'show'], { encoding: 'utf8' })
        .stdout.split('\n')
        .map((l) => l.split(': ')[1]?.split('@')[0] ?? '')
        .filter((n) => /(ov|vx)\d+$|ig[0h]$/.test(n));
    const dir = join(bed.node(k).dataRoot, 'network', 'overlay');
    const sandboxes = existsSync(dir) ? readdirSync(dir) : [];
    return [...links(`/run/netns/${bed.node(k).netns}`), ...sandboxes.flatMap((f) => [`namespace ${f}`, ...links(join(dir, f))])];
  };

  before(async function () {
    sweep();
    await bed.boot(4);
    work = mkdtempSync('/tmp/tsswarm-ovl-');
    const archive = await busyboxArchive(work);
    for (const k of [1, 2, 3, 4]) await must(k, ['load', '-i', archive]);
    await bed.formSwarm([2, 3, 4]);
    await until('4 ready nodes', async () => ((await must(1, ['node', 'ls', '--format', '{{.Status}}'])).split('\n').filter((l) => l === 'Ready').length === 4 ? true : undefined));
    await must(1, ['node', 'update', '--label-add', 'role=client', bed.node(4).name]);
  });
  after(async function () {
    await bed.teardown();
    rmSync(work, { recursive: true, force: true });
  });

  it('a 3-replica service on three nodes answers a client on a fourth by name, by VIP over every replica, and tasks.NAME', async function () {
    await must(1, ['network', 'create', '-d', 'overlay', 'front']);
    await must(1, ['service', 'create', '-d', '--name', 'web', '--network', 'front', '--replicas', '3', '--replicas-max-per-node', '1', '--constraint', 'node.labels.role!=client', 'busybox:latest', 'sh', '-c', HTTPD]);
    await must(1, ['service', 'create', '-d', '--name', 'client', '--network', 'front', '--constraint', 'node.labels.role==client', 'busybox:latest', 'sleep', '3600']);
    await until('web 3/3 and client 1/1', async () => ((await running('web')) === 3 && (await running('client')) === 1 ? true : undefined));
    const vip = JSON.parse(await must(1, ['service', 'inspect', '--format', '{{json .Endpoint.VirtualIPs}}', 'web'])) as { Addr: string }[];
    const vipAddr = vip[0]!.Addr.split('/')[0]!;
    const sh = await client();
    assert.deepEqual(await until('web resolves to its VIP', async () => {
      const a = await lookup(sh, 'web');
      return a.length ? a : undefined;
    }), [vipAddr]);
    const tasks = await until('tasks.web lists 3 addresses', async () => {
      const a = await lookup(sh, 'tasks.web');
      return a.length === 3 ? a : undefined;
    });
    assert.ok(!tasks.includes(vipAddr));
    // Each task answers directly over the overlay (two of them from other nodes through VXLAN).
    for (const ip of tasks) assert.equal((await hostnames(sh, ip, 1)).size, 1, `task ${ip} answers`);
    const seen = await until('requests to the VIP reach all 3 replicas', async () => {
      const h = await hostnames(sh, vipAddr, 30);
      return h.size === 3 ? h : undefined;
    });
    assert.equal(seen.size, 3);
  });

  it('dnsrr: the name answers with the task addresses, and there is no VIP', async function () {
    await must(1, ['service', 'create', '-d', '--name', 'rr', '--network', 'front', '--endpoint-mode', 'dnsrr', '--replicas', '2', '--constraint', 'node.labels.role!=client', 'busybox:latest', 'sh', '-c', HTTPD]);
    await until('rr 2/2', async () => ((await running('rr')) === 2 ? true : undefined));
    const vips = (await must(1, ['service', 'inspect', '--format', '{{json .Endpoint.VirtualIPs}}', 'rr'])).trim();
    assert.ok(vips === 'null' || vips === '[]', `no VIP (got ${vips})`);
    const sh = await client();
    const a = await until('rr resolves to 2 task addresses', async () => {
      const x = await lookup(sh, 'rr');
      return x.length === 2 ? x : undefined;
    });
    assert.deepEqual(a, await lookup(sh, 'tasks.rr'));
  });

  it('scaling down takes the gone task out of rotation', async function () {
    await must(1, ['service', 'scale', '-d', 'web=2']);
    const sh = await client();
    await until('tasks.web down to 2', async () => ((await lookup(sh, 'tasks.web')).length === 2 ? true : undefined));
    const vipAddr = (await lookup(sh, 'web'))[0]!;
    const seen = await until('the VIP spreads over exactly the 2 left', async () => {
      const h = await hostnames(sh, vipAddr, 30);
      return h.size === 2 ? h : undefined;
    });
    assert.equal(seen.size, 2);
  });

  it("two stacks with the same service names do not see each other's", async function () {
    for (const s of ['alpha', 'beta']) {
      const file = join(work, `${s}.yml`);
      writeFileSync(
        file,
        `services:\n  api:\n    image: busybox:latest\n    command: ["sh", "-c", "mkdir -p /www; echo ${s} > /www/index.html; exec httpd -f -p 80 -h /www"]\n  probe:\n    image: busybox:latest\n    command: ["sleep", "3600"]\n    deploy:\n      placement:\n        constraints: [node.labels.role==client]\n`,
      );
      await must(1, ['stack', 'deploy', '-c', file, s]);
    }
    await until('both stacks running', async () => ((await running('alpha_api')) + (await running('beta_api')) + (await running('alpha_probe')) + (await running('beta_probe')) === 4 ? true : undefined));
    for (const s of ['alpha', 'beta']) {
      const sh = await client(`${s}_probe`);
      const other = s === 'alpha' ? 'beta' : 'alpha';
      const addr = await until(`${s}: api resolves`, async () => {
        const a = await lookup(sh, 'api');
        return a.length === 1 ? a[0] : undefined;
      });
      assert.deepEqual([...(await until(`${s}: api answers`, async () => {
        const h = await hostnames(sh, addr!, 3);
        return h.size ? h : undefined;
      }))], [s]);
      assert.deepEqual(await lookup(sh, `${other}_api`), [], `${s} cannot resolve ${other}'s service`);
    }
    for (const s of ['alpha', 'beta']) await must(1, ['stack', 'rm', s]);
  });

  /** What answers HTTP on node k's address at port, asked from node `from`'s namespace. */
  const fromNode = (from: number, k: number, port: number): string =>
    bed.exec(from, 'busybox', ['sh', '-c', `printf 'GET / HTTP/1.0\r\n\r\n' | busybox nc -w 2 ${bed.node(k).address} ${port} | tail -1`]).stdout.trim();

  it('the routing mesh: a published port answers on every node, also those without a task', async function () {
    // Also on `front`: a task on two overlays (ingress and front) keeps both networks' VIPs.
    await must(1, ['service', 'create', '-d', '--name', 'pub', '--network', 'front', '-p', '8080:80', '--constraint', `node.hostname==${bed.node(2).name}`, 'busybox:latest', 'sh', '-c', HTTPD]);
    await until('pub 1/1', async () => ((await running('pub')) === 1 ? true : undefined));
    const hostname = await until('node 2 answers on 8080', async () => fromNode(4, 2, 8080) || undefined);
    for (const k of [1, 3, 4]) assert.equal(await until(`node ${k} answers on 8080`, async () => fromNode(k === 4 ? 1 : 4, k, 8080) || undefined), hostname, `node ${k} forwards to the task on node 2`);
    const id = (await must(2, ['ps', '-q', '--filter', 'label=com.docker.swarm.service.name=pub'])).trim().split('\n')[0]!;
    const sh = async (cmd: string) => (await bed.cli(2, ['exec', id, 'sh', '-c', cmd])).stdout;
    const vip = (await lookup(sh, 'web'))[0];
    assert.ok(vip, 'web resolves from the published task');
    assert.ok((await until('web answers through its VIP from a task on front and ingress', async () => {
      const h = await hostnames(sh, vip, 6);
      return h.size ? h : undefined;
    }, 20)).size >= 1);
    await must(1, ['service', 'rm', 'pub']);
    await until('8080 closed again', async () => (fromNode(4, 1, 8080) === '' ? true : undefined));
  });

  it("keeps the client's address on a port that asks for it (only this node's tasks; beyond Docker, moby#25526)", async function () {
    const cgi = 'mkdir -p /www/cgi-bin; printf \'#!/bin/sh\\necho Content-Type: text/plain\\necho\\necho $REMOTE_ADDR\\n\' > /www/cgi-bin/ip; chmod +x /www/cgi-bin/ip; exec httpd -f -p 80 -h /www';
    await must(1, ['service', 'create', '-d', '--name', 'src', '-p', '8082:80', '-p', '8083:80', '--label', 'com.tsswarm.ingress.keep-source=8082', '--constraint', `node.hostname==${bed.node(2).name}`, 'busybox:latest', 'sh', '-c', cgi]);
    await until('src 1/1', async () => ((await running('src')) === 1 ? true : undefined));
    // httpd gives REMOTE_ADDR as [::ffff:a.b.c.d].
    const ask = (k: number, port: number) => bed.exec(4, 'busybox', ['sh', '-c', `printf 'GET /cgi-bin/ip HTTP/1.0\r\n\r\n' | busybox nc -w 2 ${bed.node(k).address} ${port} | tail -1`]).stdout.trim().replace(/^\[::ffff:|\]$/g, '');
    assert.equal(await until('8082 answers on the task node', async () => ask(2, 8082) || undefined), bed.node(4).address, 'the task sees the client');
    const masq = await until('8083 answers on the task node', async () => ask(2, 8083) || undefined);
    assert.notEqual(masq, bed.node(4).address, 'the default port masquerades');
    assert.equal(ask(1, 8082), '', 'a node without a task of the service does not forward a keep-source port');
    await must(1, ['service', 'rm', 'src']);
  });

  it('mode host publishes only where a task runs', async function () {
    // A second host-mode port with no number: the node picks one, and `service ps` shows which.
    await must(1, ['service', 'create', '-d', '--name', 'hostp', '-p', 'published=8081,target=80,mode=host', '-p', 'target=8000,mode=host', '--constraint', `node.hostname==${bed.node(3).name}`, 'busybox:latest', 'sh', '-c', HTTPD]);
    await until('hostp 1/1', async () => ((await running('hostp')) === 1 ? true : undefined));
    assert.ok(await until('node 3 answers on 8081', async () => fromNode(4, 3, 8081) || undefined));
    assert.equal(fromNode(4, 1, 8081), '', 'node 1 does not publish a host-mode port');
    const ports = (await must(1, ['service', 'ps', '--filter', 'desired-state=running', '--format', '{{.Ports}}', 'hostp'])).trim();
    const m = /^\*:8081->80\/tcp,\*:(\d+)->8000\/tcp$/.exec(ports);
    assert.ok(m, `service ps shows the host ports as bound (got "${ports}")`);
    assert.ok(Number(m[1]) > 0);
    await must(1, ['service', 'rm', 'hostp']);
  });

  it('an attachable overlay takes a standalone container on a node without its tasks; it reaches the service by name and VIP', async function () {
    await must(1, ['network', 'create', '-d', 'overlay', '--attachable', 'att']);
    await must(1, ['service', 'create', '-d', '--name', 'aweb', '--network', 'att', '--replicas', '2', '--constraint', 'node.labels.role!=client', 'busybox:latest', 'sh', '-c', HTTPD]);
    await until('aweb 2/2', async () => ((await running('aweb')) === 2 ? true : undefined));
    await must(4, ['run', '-d', '--name', 'probe', '--network', 'att', 'busybox:latest', 'sleep', '600']);
    const sh = async (cmd: string) => (await bed.cli(4, ['exec', 'probe', 'sh', '-c', cmd])).stdout;
    const vip = await until('aweb resolves from the standalone container', async () => {
      const a = await lookup(sh, 'aweb');
      return a.length === 1 ? a[0] : undefined;
    });
    const seen = await until('both replicas answer through the VIP', async () => {
      const h = await hostnames(sh, vip!, 20);
      return h.size === 2 ? h : undefined;
    });
    assert.equal(seen.size, 2);
    // A network made without --attachable refuses standalone containers, naming the flag.
    const refused = await bed.cli(4, ['run', '--rm', '--network', 'front', 'busybox:latest', 'true']);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /not attachable/);
    await must(4, ['rm', '-f', 'probe']);
    await must(1, ['service', 'rm', 'aweb']);
    await until('att removable once the container gave its address back', async () => ((await bed.cli(1, ['network', 'rm', 'att'])).code === 0 ? true : undefined));
  });

  it('tasks of two overlays on one node do not reach each other through the gateway bridge they share', async function () {
    for (const n of ['gwa', 'gwb']) await must(1, ['network', 'create', '-d', 'overlay', n]);
    const on2 = `node.hostname==${bed.node(2).name}`;
    await must(1, ['service', 'create', '-d', '--name', 'gwsrv', '--network', 'gwa', '--constraint', on2, 'busybox:latest', 'sh', '-c', HTTPD]);
    await must(1, ['service', 'create', '-d', '--name', 'gwpeer', '--network', 'gwa', '--constraint', on2, 'busybox:latest', 'sleep', '3600']);
    await must(1, ['service', 'create', '-d', '--name', 'gwother', '--network', 'gwb', '--constraint', on2, 'busybox:latest', 'sleep', '3600']);
    await until('gwsrv, gwpeer and gwother running', async () => ((await running('gwsrv')) === 1 && (await running('gwpeer')) === 1 && (await running('gwother')) === 1 ? true : undefined));
    const task = async (svc: string) => (await must(2, ['ps', '-q', '--filter', `label=com.docker.swarm.service.name=${svc}`])).trim().split('\n')[0]!;
    const srv = await task('gwsrv');
    const ip = (net: string) => must(2, ['inspect', '-f', `{{(index .NetworkSettings.Networks "${net}").IPAddress}}`, srv]).then((s) => s.trim());
    const [gwIp, ovIp] = [await ip('docker_gwbridge'), await ip('gwa')];
    const get = async (from: string, addr: string) => (await bed.cli(2, ['exec', await task(from), 'sh', '-c', `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 2 ${addr} 80 | tail -1`])).stdout.trim();
    // The control: a task of the same overlay reaches it over the overlay.
    assert.equal(await until('gwpeer reaches gwsrv over gwa', async () => (await get('gwpeer', ovIp)) || undefined), srv.slice(0, 12));
    assert.equal(await get('gwother', gwIp), '', "a task of another overlay does not reach it at its docker_gwbridge address");
    assert.equal(await get('gwpeer', gwIp), '', 'nor does a task of its own overlay, there (only over the overlay)');
    for (const s of ['gwsrv', 'gwpeer', 'gwother']) await must(1, ['service', 'rm', s]);
    for (const n of ['gwa', 'gwb']) await until(`${n} removable`, async () => ((await bed.cli(1, ['network', 'rm', n])).code === 0 ? true : undefined));
  });

  it('an --internal overlay: its tasks reach each other by name, and nothing beyond their node', async function () {
    await must(1, ['network', 'create', '-d', 'overlay', '--internal', 'sealed']);
    await must(1, ['service', 'create', '-d', '--name', 'inner', '--network', 'sealed', '--constraint', `node.hostname==${bed.node(2).name}`, 'busybox:latest', 'sh', '-c', HTTPD]);
    await must(1, ['service', 'create', '-d', '--name', 'sealedc', '--network', 'sealed', '--constraint', `node.hostname==${bed.node(3).name}`, 'busybox:latest', 'sleep', '3600']);
    await until('inner and sealedc running', async () => ((await running('inner')) === 1 && (await running('sealedc')) === 1 ? true : undefined));
    const id = (await must(3, ['ps', '-q', '--filter', 'label=com.docker.swarm.service.name=sealedc'])).trim().split('\n')[0]!;
    const sh = async (cmd: string) => (await bed.cli(3, ['exec', id, 'sh', '-c', cmd])).stdout;
    // Names and the overlay work: the task on node 2 answers through its VIP.
    const vip = await until('inner resolves inside the internal overlay', async () => {
      const a = await lookup(sh, 'inner');
      return a.length === 1 ? a[0] : undefined;
    });
    assert.equal((await until('inner answers through its VIP', async () => {
      const h = await hostnames(sh, vip!, 3);
      return h.size ? h : undefined;
    })).size, 1);
    // No way out: no default route, and node 1's manager port (which a task on a normal overlay reaches) is unreachable.
    const out = `printf x | nc -w 2 ${bed.node(1).address} 2377 >/dev/null 2>&1 && echo reached || echo blocked`;
    assert.equal((await (await client())(out)).trim(), 'reached', 'the control: a task on a normal overlay reaches node 1');
    assert.equal((await sh(out)).trim(), 'blocked');
    assert.doesNotMatch(await sh('ip route'), /^default/m);
    for (const s of ['inner', 'sealedc']) await must(1, ['service', 'rm', s]);
    await until('sealed removable', async () => ((await bed.cli(1, ['network', 'rm', 'sealed'])).code === 0 ? true : undefined));
  });

  it('removing the services and networks leaves no overlay device on any node', async function () {
    for (const s of ['web', 'rr', 'client']) await must(1, ['service', 'rm', s]);
    // Whatever an earlier failed test left publishing (so the mesh can go too).
    for (const s of ['pub', 'src', 'hostp']) await bed.cli(1, ['service', 'rm', s]);
    await until('front removable', async () => ((await bed.cli(1, ['network', 'rm', 'front'])).code === 0 ? true : undefined));
    for (const k of [1, 2, 3, 4]) {
      await until(`no overlay links on node ${k}`, async () => (overlayLinks(k).length === 0 ? true : undefined)).catch((e: Error) => {
        throw new Error(`${e.message} (left: ${overlayLinks(k).join(', ')})`);
      });
    }
  });

  it('a node that leaves the swarm removes its side of every overlay, the mesh and its tasks', async function () {
    await must(1, ['network', 'create', '-d', 'overlay', 'lv']);
    await must(1, ['service', 'create', '-d', '--name', 'lvs', '--network', 'lv', '-p', '8089:80', '--constraint', `node.hostname==${bed.node(3).name}`, 'busybox:latest', 'sh', '-c', HTTPD]);
    await until('lvs running', async () => ((await running('lvs')) === 1 ? true : undefined));
    await until('node 3 has lv, ingress and the mesh endpoint', async () => (overlayLinks(3).filter((l) => l.startsWith('namespace')).length === 2 && overlayLinks(3).some((l) => l.endsWith('ig0')) ? true : undefined));
    const ingressTable = () => spawnSync('nsenter', [`--net=/run/netns/${bed.node(3).netns}`, 'nft', 'list', 'table', 'ip', 'tsswarm_ingress'], { encoding: 'utf8' }).status === 0;
    assert.ok(ingressTable(), 'the mesh table is there before the leave');
    await must(3, ['swarm', 'leave']);
    assert.deepEqual(overlayLinks(3), [], 'no overlay namespace, bridge, VXLAN or mesh link left on node 3');
    assert.equal(ingressTable(), false, 'no mesh table left on node 3');
    assert.equal((await must(3, ['ps', '-aq', '--filter', 'label=com.docker.swarm.service.name'])).trim(), '', 'no task container left on node 3');
    await must(1, ['service', 'rm', 'lvs']);
    await until('lv removable', async () => ((await bed.cli(1, ['network', 'rm', 'lv'])).code === 0 ? true : undefined));
  });
});
