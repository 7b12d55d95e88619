import assert from 'node:assert/strict';
import { FlagError, parseFlags } from '../lib/flags.js';
import { RUN_FLAGS, CREATE_FLAGS, buildRunOptions, parseKeyValueFile, parseMountFlag, parseRestart, parseUlimit, type RunFlagsIo, type RunOptions } from './run-flags.js';
import { parseCreateBody } from '../api/containers.js';

const files: Record<string, string> = {
  'app.env': '# comment\n\nA=1\n  B=two words\nHOME\nMISSING\nQ="quoted"\n',
  'labels': 'com.x=1\nflag\n',
  'bad.env': 'MY VAR=1\n',
};
const io: RunFlagsIo = {
  readFile: (p) => {
    const t = files[p];
    if (t === undefined) throw new Error(`ENOENT: no such file or directory, open '${p}'`);
    return t;
  },
  lookupEnv: (k) => ({ HOME: '/root', USER: 'alice' })[k],
  cwd: '/work/proj',
};

const run = (...argv: string[]): RunOptions => buildRunOptions(parseFlags(argv, RUN_FLAGS, { stopAtPositional: true }), io);

function throwsFlag(argv: string[], ...res: RegExp[]): void {
  assert.throws(
    () => run(...argv),
    (e: unknown) => {
      assert.ok(e instanceof FlagError, `${argv.join(' ')}: ${String(e)}`);
      for (const re of res) assert.match(e.message, re);
      return true;
    },
  );
}

describe('cli/run-flags', () => {
  it('minimal run: image, command, attach defaults, default network', () => {
    const o = run('busybox', 'echo', '-n', 'hi');
    assert.equal(o.image, 'busybox');
    assert.deepEqual(o.body.Cmd, ['echo', '-n', 'hi']);
    assert.equal(o.body.AttachStdout, true);
    assert.equal(o.body.AttachStderr, true);
    assert.equal(o.body.AttachStdin, false);
    assert.equal(o.body.HostConfig?.NetworkMode, 'default');
    assert.equal(o.detach, false);
    assert.equal(o.name, undefined);
    // Whatever the CLI builds, the daemon's schema accepts.
    parseCreateBody(o.body);
  });

  it('-dit --rm --name', () => {
    const o = run('-dit', '--rm', '--name', 'web', 'nginx');
    assert.deepEqual([o.detach, o.interactive, o.tty, o.rm, o.name], [true, true, true, true, 'web']);
    assert.equal(o.body.AttachStdin, false);
    assert.equal(o.body.AttachStdout, false);
    assert.equal(o.body.OpenStdin, true);
    assert.equal(o.body.StdinOnce, false);
    assert.equal(o.body.Tty, true);
    assert.equal(o.body.HostConfig?.AutoRemove, true);
    const it = run('-it', 'alpine', 'sh');
    assert.equal(it.body.AttachStdin, true);
    assert.equal(it.body.StdinOnce, true);
  });

  it('requires an image', () => {
    throwsFlag([], /"tsswarm run" requires at least 1 argument/);
    assert.throws(() => buildRunOptions(parseFlags([], CREATE_FLAGS), io, 'create'), /"tsswarm create" requires/);
    assert.ok(!CREATE_FLAGS.some((f) => f.name === 'detach'));
  });

  it('env: -e, bare -e from env, --env-file first', () => {
    const o = run('--env-file', 'app.env', '-e', 'X=1', '-e', 'USER', '-e', 'NOPE', 'img');
    assert.deepEqual(o.body.Env, ['A=1', 'B=two words', 'HOME=/root', 'Q="quoted"', 'X=1', 'USER=alice']);
    throwsFlag(['-e', '=x', 'img'], /invalid argument "=x" for "-e, --env" flag/);
    throwsFlag(['--env-file', 'nope.env', 'img'], /invalid argument "nope.env" for "--env-file" flag: cannot read/);
    throwsFlag(['--env-file', 'bad.env', 'img'], /variable 'MY VAR' contains whitespaces/);
  });

  it('parseKeyValueFile keeps bare keys when no lookup is given', () => {
    assert.deepEqual(parseKeyValueFile('\uFEFFa=1\r\nb\n', 'f', '--label-file'), ['a=1', 'b']);
    assert.throws(() => parseKeyValueFile('=1', 'f', '--env-file'), /no variable name on line 1/);
  });

  it('labels: --label-file then -l; bare label is empty', () => {
    const o = run('--label-file', 'labels', '-l', 'a=b', '--label', 'com.x=2', 'img');
    assert.deepEqual(o.body.Labels, { 'com.x': '2', flag: '', a: 'b' });
  });

  it('-p and --expose and -P', () => {
    const o = run('-p', '8080:80', '-p', '127.0.0.1::53/udp', '-p', '9000-9001:90-91', '-p', '443', '--expose', '7000-7001', '-P', 'img');
    assert.deepEqual(o.body.HostConfig?.PortBindings, {
      '80/tcp': [{ HostIp: '', HostPort: '8080' }],
      '53/udp': [{ HostIp: '127.0.0.1', HostPort: '' }],
      '90/tcp': [{ HostIp: '', HostPort: '9000' }],
      '91/tcp': [{ HostIp: '', HostPort: '9001' }],
      '443/tcp': [{ HostIp: '', HostPort: '' }],
    });
    assert.deepEqual(Object.keys(o.body.ExposedPorts ?? {}).sort(), ['443/tcp', '53/udp', '7000/tcp', '7001/tcp', '80/tcp', '90/tcp', '91/tcp']);
    assert.equal(o.body.HostConfig?.PublishAllPorts, true);
    const two = run('-p', '8080:80', '-p', '8081:80', 'img');
    assert.equal(two.body.HostConfig?.PortBindings?.['80/tcp']?.length, 2);
    parseCreateBody(o.body);
  });

  it('-p errors name the flag and the expected form', () => {
    throwsFlag(['-p', '8080:abc', 'img'], /^invalid argument "8080:abc" for "-p, --publish" flag: container port "abc" is not a port/, /\(expected \[IP:\]\[HOST\[-RANGE\]:\]CONTAINER/);
    throwsFlag(['-p', '1:2:3:4', 'img'], /for "-p, --publish" flag: too many ":"/);
    throwsFlag(['--expose', 'x', 'img'], /invalid argument "x" for "--expose" flag/);
  });

  it('-v: named, bind, relative bind, anonymous, modes', () => {
    const o = run('-v', 'data:/var/lib/data', '-v', '/etc/hosts:/h:ro', '-v', './src:/src:rw,z', '-v', '/cache', 'img');
    assert.deepEqual(o.body.HostConfig?.Binds, ['data:/var/lib/data', '/etc/hosts:/h:ro', '/work/proj/src:/src:rw,z']);
    assert.deepEqual(o.body.Volumes, { '/cache': {} });
    throwsFlag(['-v', 'data:rel', 'img'], /for "-v, --volume" flag: invalid mount path: 'rel' mount path must be absolute/);
    throwsFlag(['-v', 'data:/x:bogus', 'img'], /invalid mode: bogus/);
    throwsFlag(['-v', 'a b:/x', 'img'], /includes invalid characters for a local volume name/);
    throwsFlag(['-v', '/a:/', 'img'], /destination can't be '\/'/);
    throwsFlag(['-v', 'aa:/x', '-v', 'bb:/x/', 'img'], /Duplicate mount point: \/x/);
  });

  it('--mount and --tmpfs', () => {
    const o = run(
      '--mount', 'type=bind,source=/srv,target=/srv,readonly',
      '--mount', 'source=vol,target=/data,volume-nocopy,volume-label=a=b',
      '--mount', 'type=tmpfs,target=/scratch,tmpfs-size=64m,tmpfs-mode=1770',
      '--tmpfs', '/run:rw,size=1m',
      'img',
    );
    assert.deepEqual(o.body.HostConfig?.Mounts, [
      { Type: 'bind', Source: '/srv', Target: '/srv', ReadOnly: true },
      { Type: 'volume', Source: 'vol', Target: '/data', VolumeOptions: { NoCopy: true, Labels: { a: 'b' } } },
      { Type: 'tmpfs', Target: '/scratch', TmpfsOptions: { SizeBytes: 64 * 2 ** 20, Mode: 0o1770 } },
    ]);
    assert.deepEqual(o.body.HostConfig?.Tmpfs, { '/run': 'rw,size=1m' });
    assert.deepEqual(parseMountFlag('type=bind,src=rel,dst=/x,ro=false', '/cwd'), { Type: 'bind', Source: '/cwd/rel', Target: '/x' });
    const errs: [string, RegExp][] = [
      ['type=bind,target=/x', /source is required for bind mounts/],
      ['source=v', /target is required/],
      ['type=nfs,target=/x', /invalid mount type 'nfs'/],
      ['type=volume,target=/x,foo=bar', /unexpected key 'foo' in 'foo=bar'/],
      ['type=tmpfs,source=x,target=/x', /source is not allowed for tmpfs/],
      ['type=tmpfs,target=/x,tmpfs-size=lots', /invalid value for tmpfs-size: lots/],
      ['type=volume,target=/x,tmpfs-size=1m', /only apply to tmpfs/],
      ['type=bind,source=/a,target=/x,readonly=maybe', /invalid value for readonly: maybe/],
    ];
    for (const [v, re] of errs) {
      assert.throws(() => parseMountFlag(v), (e: unknown) => e instanceof FlagError && re.test(e.message) && e.message.startsWith(`invalid argument "${v}" for "--mount" flag`), v);
    }
    throwsFlag(['--tmpfs', 'run', 'img'], /for "--tmpfs" flag: invalid mount path/);
  });

  it('networking: --network, aliases, --ip, --dns, --add-host, hostname', () => {
    const o = run('--network', 'app', '--network-alias', 'db', '--network-alias', 'pg', '--ip', '10.1.0.5', '--dns', '1.1.1.1', '--add-host', 'h:10.0.0.1', '--add-host', 'gw=host-gateway', '-h', 'db.example.com', 'img');
    assert.equal(o.body.HostConfig?.NetworkMode, 'app');
    assert.deepEqual(o.body.NetworkingConfig, { EndpointsConfig: { app: { Aliases: ['db', 'pg'], IPAMConfig: { IPv4Address: '10.1.0.5' } } } });
    assert.deepEqual(o.body.HostConfig?.Dns, ['1.1.1.1']);
    assert.deepEqual(o.body.HostConfig?.ExtraHosts, ['h:10.0.0.1', 'gw:host-gateway']);
    assert.equal(o.body.Hostname, 'db');
    assert.equal(o.body.Domainname, 'example.com');
    throwsFlag(['--network-alias', 'x', 'img'], /--network-alias is only supported for user-defined networks/);
    throwsFlag(['--network', 'n', '--ip', '300.1.1.1', 'img'], /invalid argument "300.1.1.1" for "--ip" flag/);
    throwsFlag(['--dns', 'x', 'img'], /x is not an ip address/);
    throwsFlag(['--add-host', 'nohost', 'img'], /bad format for add-host: "nohost"/);
    throwsFlag(['-h', '-bad', 'img'], /hostname/);
  });

  it('resources', () => {
    const o = run('-m', '512m', '--memory-swap', '-1', '--cpus', '1.5', '-c', '512', '--cpuset-cpus', '0-1,3', '--pids-limit', '100', '--shm-size', '64m', '--ulimit', 'nofile=1024:2048', '--sysctl', 'net.core.somaxconn=1024', 'img');
    const h = o.body.HostConfig!;
    assert.equal(h.Memory, 512 * 2 ** 20);
    assert.equal(h.MemorySwap, -1);
    assert.equal(h.NanoCpus, 1_500_000_000);
    assert.equal(h.CpuShares, 512);
    assert.equal(h.CpusetCpus, '0-1,3');
    assert.equal(h.PidsLimit, 100);
    assert.equal(h.ShmSize, 64 * 2 ** 20);
    assert.deepEqual(h.Ulimits, [{ Name: 'nofile', Soft: 1024, Hard: 2048 }]);
    assert.deepEqual(h.Sysctls, { 'net.core.somaxconn': '1024' });
    throwsFlag(['-m', 'lots', 'img'], /invalid argument "lots" for "-m, --memory" flag/);
    throwsFlag(['--cpus', 'abc', 'img'], /failed to parse abc as a rational number/);
    throwsFlag(['--cpuset-cpus', 'a', 'img'], /--cpuset-cpus/);
    throwsFlag(['--sysctl', 'x', 'img'], /expected KEY=VALUE/);
    assert.deepEqual(parseUlimit('nproc=10'), { Name: 'nproc', Soft: 10, Hard: 10 });
    assert.throws(() => parseUlimit('bogus=1'), /invalid ulimit type: bogus/);
    assert.throws(() => parseUlimit('nofile=10:5'), /soft limit must be less than or equal to hard limit/);
  });

  it('restart policies', () => {
    assert.deepEqual(parseRestart('on-failure:3'), { Name: 'on-failure', MaximumRetryCount: 3 });
    assert.deepEqual(parseRestart('unless-stopped'), { Name: 'unless-stopped', MaximumRetryCount: 0 });
    assert.throws(() => parseRestart('sometimes'), /invalid argument "sometimes" for "--restart" flag: invalid restart policy sometimes/);
    assert.throws(() => parseRestart('on-failure:x'), /maximum retry count must be a non-negative integer/);
    assert.throws(() => parseRestart('always:2'), /can only be used with 'on-failure'/);
    throwsFlag(['--rm', '--restart', 'always', 'img'], /cannot specify both --restart and --rm/);
    assert.equal(run('--rm', '--restart', 'no', 'img').rm, true);
  });

  it('healthcheck flags', () => {
    const o = run('--health-cmd', 'curl -f localhost', '--health-interval', '10s', '--health-timeout', '2s', '--health-retries', '5', '--health-start-period', '1m', 'img');
    assert.deepEqual(o.body.Healthcheck, { Test: ['CMD-SHELL', 'curl -f localhost'], Interval: 10e9, Timeout: 2e9, StartPeriod: 60e9, Retries: 5 });
    assert.deepEqual(run('--no-healthcheck', 'img').body.Healthcheck, { Test: ['NONE'] });
    throwsFlag(['--no-healthcheck', '--health-cmd', 'x', 'img'], /--no-healthcheck conflicts with --health-\* options/);
    throwsFlag(['--health-interval', '10', 'img'], /invalid argument "10" for "--health-interval" flag: expected a duration/);
    throwsFlag(['--health-interval', '-1s', 'img'], /cannot be negative/);
    throwsFlag(['--health-retries', '-1', 'img'], /cannot be negative/);
  });

  it('lifecycle and security flags', () => {
    const o = run('--init', '--read-only', '--privileged', '--cap-add', 'NET_ADMIN', '--cap-drop', 'ALL', '--stop-signal', 'SIGINT', '--stop-timeout', '5', '-w', '/app', '-u', '1000:1000', '--entrypoint', '', 'img');
    const h = o.body.HostConfig!;
    assert.deepEqual([h.Init, h.ReadonlyRootfs, h.Privileged], [true, true, true]);
    assert.deepEqual(h.CapAdd, ['NET_ADMIN']);
    assert.deepEqual(h.CapDrop, ['ALL']);
    assert.equal(o.body.StopSignal, 'SIGINT');
    assert.equal(o.body.StopTimeout, 5);
    assert.equal(o.body.WorkingDir, '/app');
    assert.equal(o.body.User, '1000:1000');
    assert.deepEqual(o.body.Entrypoint, ['']);
    assert.deepEqual(run('--entrypoint', '/bin/sh -c', 'img').body.Entrypoint, ['/bin/sh -c']);
    throwsFlag(['-w', 'rel', 'img'], /for "-w, --workdir" flag: the working directory must be an absolute path/);
    throwsFlag(['--stop-signal', 'SIG TERM', 'img'], /--stop-signal/);
    parseCreateBody(o.body);
  });
});
