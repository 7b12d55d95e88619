import assert from 'node:assert/strict';
import { containerConfig, imageHealth, mergeEnv, mergeHealth } from './create-defaults.js';

describe('agent/containers/create-defaults', () => {
  it('mergeEnv keeps the image order and lets the container override by name', () => {
    assert.deepEqual(mergeEnv(['PATH=/bin', 'A=1', 'FLAG'], ['A=2', 'B=3']), ['PATH=/bin', 'A=2', 'FLAG', 'B=3']);
    assert.deepEqual(mergeEnv([], []), []);
  });

  it('mergeHealth takes the image value where the container leaves a field unset or zero', () => {
    assert.equal(mergeHealth(undefined, undefined), undefined);
    const img = { Test: ['CMD', 'true'], Interval: 5e9, Retries: 3 };
    assert.deepEqual(mergeHealth(undefined, img), img);
    assert.deepEqual(mergeHealth({ Interval: 1e9 }, img), { Test: ['CMD', 'true'], Interval: 1e9, Timeout: undefined, Retries: 3, StartPeriod: undefined, StartInterval: undefined });
    assert.deepEqual(mergeHealth({ Test: [] , Retries: 0 }, img)?.Test, ['CMD', 'true']);
  });

  it('imageHealth drops a null Test and absent fields', () => {
    assert.equal(imageHealth(null), undefined);
    assert.deepEqual(imageHealth({ Test: null, Interval: 2 }), { Interval: 2 });
    assert.deepEqual(imageHealth({ Test: ['NONE'] }), { Test: ['NONE'] });
  });
});

describe('agent/containers/create-defaults containerConfig', () => {
  const rc = {
    Env: [], Cmd: ['sh'], Entrypoint: [], WorkingDir: '/srv', User: '', ExposedPorts: ['80', '53/udp'], Volumes: ['/data'],
    Labels: { a: 'image', b: 'image' }, StopSignal: 'SIGQUIT', Healthcheck: null, Shell: [],
  };
  const resolved = { hostname: 'h', user: '', env: ['A=1'], cmd: ['sh'], entrypoint: null, healthcheck: undefined };

  it('takes the image defaults under the body and normalises ports to port/proto', () => {
    const c = containerConfig({ Image: 'img', Labels: { b: 'mine' } }, rc, resolved);
    assert.equal(c.WorkingDir, '/srv');
    assert.equal(c.StopSignal, 'SIGQUIT');
    assert.deepEqual(c.Labels, { a: 'image', b: 'mine' });
    assert.deepEqual(c.ExposedPorts, { '80/tcp': {}, '53/udp': {} });
    assert.deepEqual(c.Volumes, { '/data': {} });
    assert.equal(c.Tty, false);
    assert.equal('StdinOnce' in c, false);
    assert.equal('StopTimeout' in c, false);
  });

  it('lets the body override and add', () => {
    const c = containerConfig({ Image: 'img', WorkingDir: '/w', StopSignal: 'SIGINT', StopTimeout: 3, Tty: true, OpenStdin: true, StdinOnce: true }, rc, resolved);
    assert.deepEqual([c.WorkingDir, c.StopSignal, c.StopTimeout, c.Tty, c.OpenStdin, c.StdinOnce], ['/w', 'SIGINT', 3, true, true, true]);
    assert.equal(containerConfig({ Image: 'img' }, { ...rc, WorkingDir: '', StopSignal: '' }, resolved).WorkingDir, '/');
  });
});
