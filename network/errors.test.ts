import assert from 'node:assert/strict';
import { DomainError, errorKind } from '../lib/errors.js';
import { httpStatus } from '../agent/api/router.js';
import { NetworkError } from './errors.js';
import { IpamError, parseCidr } from './ipam.js';
import { PortInUseError } from './ports-host.js';
import { PortSpecError, parsePublish } from './ports.js';

describe('network/errors', () => {
  it('network errors are domain errors whose kind the router maps to the status clients always got', () => {
    const cases = [
      ['invalid', 400],
      ['forbidden', 403],
      ['not-found', 404],
      ['conflict', 409],
      ['unavailable', 503],
      ['internal', 500],
    ] as const;
    for (const [kind, status] of cases) {
      const e = new NetworkError(kind, 'm');
      assert.ok(e instanceof DomainError);
      assert.equal(httpStatus(e), status);
    }
  });

  it('IPAM and -p parse errors are invalid input; a taken port is a conflict', () => {
    assert.throws(() => parseCidr('10.0.0.1/8'), (e: unknown) => e instanceof IpamError && errorKind(e) === 'invalid');
    assert.throws(() => parsePublish('nope'), (e: unknown) => e instanceof PortSpecError && errorKind(e) === 'invalid');
    assert.equal(errorKind(new PortInUseError('taken')), 'conflict');
    assert.equal(new PortInUseError('taken').name, 'PortInUseError');
  });
});
