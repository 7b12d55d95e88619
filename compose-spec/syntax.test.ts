// Short-syntax parsers: ports, volumes, durations, sizes, shell words.
import { strict as assert } from 'node:assert';
import { parsePort, PortError } from './ports.js';
import { parseMount, MountError } from './mounts.js';
import { formatDuration, bytesOrUndefined as parseBytes, durationOrUndefined as parseDuration } from '../lib/units.js';
import { splitShellWords } from './shellwords.js';

describe('ports', () => {
  it('parses the short forms', () => {
    assert.deepEqual(parsePort(80), [{ target: 80, protocol: 'tcp', mode: 'ingress' }]);
    assert.deepEqual(parsePort('8080:80'), [{ target: 80, published: '8080', protocol: 'tcp', mode: 'ingress' }]);
    assert.deepEqual(parsePort('127.0.0.1:53:53/udp'), [{ target: 53, published: '53', host_ip: '127.0.0.1', protocol: 'udp', mode: 'ingress' }]);
    assert.deepEqual(parsePort('[::1]:6001:6001'), [{ target: 6001, published: '6001', host_ip: '::1', protocol: 'tcp', mode: 'ingress' }]);
    assert.deepEqual(parsePort('127.0.0.1::5000'), [{ target: 5000, host_ip: '127.0.0.1', protocol: 'tcp', mode: 'ingress' }]);
  });
  it('expands ranges', () => {
    assert.deepEqual(parsePort('9090-9091:8080-8081').map((p) => `${p.published}->${p.target}`), ['9090->8080', '9091->8081']);
    assert.deepEqual(parsePort('3000-3002').map((p) => p.target), [3000, 3001, 3002]);
    assert.deepEqual(parsePort('8000-8010:80'), [{ target: 80, published: '8000-8010', protocol: 'tcp', mode: 'ingress' }]);
  });
  it('rejects what is not a port mapping', () => {
    assert.throws(() => parsePort('80:80:80'), /'80:80:80' is not a port mapping/);
    assert.throws(() => parsePort('abc'), PortError);
    assert.throws(() => parsePort('70000'), PortError);
    assert.throws(() => parsePort('80/xyz'), /unknown protocol/);
    assert.throws(() => parsePort('1-3:1-2'), /ranges differ/);
  });
  it('parses the long form', () => {
    assert.deepEqual(parsePort({ target: '80', published: 8080, host_ip: '0.0.0.0', mode: 'host', protocol: 'udp' }), [
      { target: 80, published: '8080', host_ip: '0.0.0.0', mode: 'host', protocol: 'udp' },
    ]);
    assert.throws(() => parsePort({ published: 80 }), /target is required/);
  });
});

describe('volumes', () => {
  it('parses short forms', () => {
    assert.deepEqual(parseMount('/data'), { type: 'volume', target: '/data', read_only: false });
    assert.deepEqual(parseMount('db:/var/lib/db:ro'), { type: 'volume', source: 'db', target: '/var/lib/db', read_only: true });
    assert.deepEqual(parseMount('/host:/c:rw,z'), { type: 'bind', source: '/host', target: '/c', read_only: false, bind: { create_host_path: true, selinux: 'z' } });
    assert.deepEqual(parseMount('v:/c:nocopy').volume, { nocopy: true });
  });
  it('rejects bad short forms', () => {
    assert.throws(() => parseMount('a:b:c:d'), MountError);
    assert.throws(() => parseMount('/h:relative'), /not absolute/);
    assert.throws(() => parseMount('/h:/c:bogus'), /unknown option 'bogus'/);
    assert.throws(() => parseMount('v:/c:z'), /bind mounts only/);
  });
  it('parses long forms', () => {
    assert.deepEqual(parseMount({ type: 'tmpfs', target: '/t', tmpfs: { size: '64m', mode: '1777' } }), { type: 'tmpfs', target: '/t', read_only: false, tmpfs: { size: 64 * 1024 * 1024, mode: 0o1777 } });
    assert.deepEqual(parseMount({ type: 'bind', source: '/s', target: '/t', bind: { create_host_path: false } }).bind, { create_host_path: false });
    assert.throws(() => parseMount({ type: 'bind', target: '/t' }), /needs a source/);
    assert.throws(() => parseMount({ type: 'volume', source: 'v' }), /target is required/);
  });
});

describe('units', () => {
  it('parses and prints Go durations', () => {
    assert.equal(parseDuration('1m30s'), 90e9);
    assert.equal(parseDuration('1.5s'), 1.5e9);
    assert.equal(parseDuration('0'), 0);
    assert.equal(parseDuration('10'), undefined);
    assert.equal(parseDuration('10 s'), undefined);
    assert.equal(formatDuration(90e9), '1m30s');
    assert.equal(formatDuration(3600e9), '1h0m0s');
    assert.equal(formatDuration(1.5e9), '1.5s');
    assert.equal(formatDuration(300e6), '300ms');
  });
  it('parses sizes in binary units', () => {
    assert.equal(parseBytes('512m'), 512 * 1024 ** 2);
    assert.equal(parseBytes('1GB'), 1024 ** 3);
    assert.equal(parseBytes('1.5k'), 1536);
    assert.equal(parseBytes(1000), 1000);
    assert.equal(parseBytes('lots'), undefined);
  });
});

describe('shell words', () => {
  it('splits like a shell, without expansion', () => {
    assert.deepEqual(splitShellWords(`nginx -g "daemon off;"`), ['nginx', '-g', 'daemon off;']);
    assert.deepEqual(splitShellWords(`echo 'a  b' c\\ d "x\\"y" $HOME`), ['echo', 'a  b', 'c d', 'x"y', '$HOME']);
    assert.deepEqual(splitShellWords(`  `), []);
    assert.deepEqual(splitShellWords(`a ''`), ['a', '']);
    assert.throws(() => splitShellWords(`echo "open`), /unterminated/);
  });
});
