import assert from 'node:assert/strict';
import { ApiError, Router, httpStatus } from './router.js';
import { compareVersions, parseVersionPrefix } from './api-version.js';
import { conflict, DomainError, forbidden, invalid, notFound, unavailable } from '../../lib/errors.js';
import { ImageConflictError, InvalidImageError, NoSuchImageError } from '../../image/errors.js';
import { InvalidReferenceError } from '../../image/reference.js';
import { FilterError } from '../../lib/filters.js';

describe('agent/api/router httpStatus', () => {
  it('maps each domain kind to its status, like dockerd', () => {
    assert.equal(httpStatus(notFound('x')), 404);
    assert.equal(httpStatus(conflict('x')), 409);
    assert.equal(httpStatus(invalid('x')), 400);
    assert.equal(httpStatus(forbidden('x')), 403);
    assert.equal(httpStatus(unavailable('x')), 503);
    assert.equal(httpStatus(new DomainError('internal', 'x')), 500);
  });

  it('maps the image and filter errors through their kinds', () => {
    assert.equal(httpStatus(new NoSuchImageError('busybox')), 404);
    assert.equal(httpStatus(new ImageConflictError('x')), 409);
    assert.equal(httpStatus(new InvalidImageError('x')), 400);
    assert.equal(httpStatus(new InvalidReferenceError('A', 'upper case')), 400);
    assert.equal(httpStatus(new FilterError('x')), 400);
    assert.equal(new NoSuchImageError('busybox').name, 'NoSuchImageError');
  });

  it('keeps an ApiError status and answers 500 for anything else', () => {
    assert.equal(httpStatus(new ApiError(405, 'x')), 405);
    assert.equal(httpStatus(new Error('x')), 500);
    assert.equal(httpStatus('x'), 500);
  });
});

describe('agent/api/router paths and versions', () => {
  const h = async (): Promise<unknown> => undefined;
  const r = new Router().get('/images/json', h).get('/images/{name*}/json', h).delete('/images/{name*}', h).get('/containers/{id}/json', h);

  it('takes a name with slashes as the rest of the path', () => {
    assert.deepEqual(r.match('GET', '/images/registry:5000/ns/app:tag/json')?.params, { name: 'registry:5000/ns/app:tag' });
    assert.deepEqual(r.match('DELETE', '/images/team/t1:v4')?.params, { name: 'team/t1:v4' });
    assert.deepEqual(r.match('GET', '/images/busybox/json')?.params, { name: 'busybox' });
  });

  it('prefers a literal route over a {name*} one', () => {
    assert.deepEqual(r.match('GET', '/images/json')?.params, {});
  });

  it('keeps one segment for {id}', () => {
    assert.equal(r.match('GET', '/containers/a/b/json'), undefined);
  });

  it('splits the version prefix and orders versions numerically', () => {
    assert.deepEqual(parseVersionPrefix('/v1.50/images/json'), { version: '1.50', path: '/images/json' });
    assert.deepEqual(parseVersionPrefix('/_ping'), { path: '/_ping' });
    assert.ok(compareVersions('1.9', '1.24') < 0);
    assert.ok(compareVersions('1.50', '1.41') > 0);
    assert.equal(compareVersions('1.24', '1.24'), 0);
  });
});
