import assert from 'node:assert/strict';
import { ApiError, httpStatus } from './router.js';
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
