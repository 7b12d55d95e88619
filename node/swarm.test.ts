import assert from 'node:assert/strict';
import { networkInterfaces } from 'node:os';
import { InvalidArgumentError } from '../lib/errors.js';
import { parseListenAddr, resolveAdvertise } from './swarm.js';

describe('node/swarm addresses', () => {
  it('reads --listen-addr as IP[:PORT] or an interface name, port 2377 by default', () => {
    assert.deepEqual(parseListenAddr('10.0.0.1'), { host: '10.0.0.1', port: 2377 });
    assert.deepEqual(parseListenAddr('10.0.0.1:4567'), { host: '10.0.0.1', port: 4567 });
    assert.deepEqual(parseListenAddr(':4567'), { host: '0.0.0.0', port: 4567 });
    assert.deepEqual(parseListenAddr('lo:2400'), { host: '127.0.0.1', port: 2400 });
  });
  it('names the flag and what is wrong', () => {
    assert.throws(() => parseListenAddr('10.0.0.1:70000'), (e: unknown) => e instanceof InvalidArgumentError && /--listen-addr.*port 70000 is out of range/.test(e.message));
    assert.throws(() => parseListenAddr('nosuch0'), /"nosuch0" is neither an IPv4 address nor an interface/);
    assert.throws(() => resolveAdvertise('999.1.1.1', { host: '0.0.0.0', port: 2377 }), /--advertise-addr/);
    assert.throws(() => resolveAdvertise('0.0.0.0', { host: '0.0.0.0', port: 2377 }), /non-zero IP address/);
  });
  it('advertises the listen address, the given one with the listen port, or the only non-loopback address', () => {
    assert.equal(resolveAdvertise(undefined, { host: '10.0.0.5', port: 2377 }), '10.0.0.5:2377');
    assert.equal(resolveAdvertise('10.0.0.6', { host: '0.0.0.0', port: 2400 }), '10.0.0.6:2400');
    const external = [...new Set(Object.values(networkInterfaces()).flat().filter((a) => a && a.family === 'IPv4' && !a.internal).map((a) => a!.address))];
    if (external.length === 1) assert.equal(resolveAdvertise(undefined, { host: '0.0.0.0', port: 2377 }), `${external[0]}:2377`);
    else assert.throws(() => resolveAdvertise(undefined, { host: '0.0.0.0', port: 2377 }), /use --advertise-addr/);
  });
});
