import assert from 'node:assert/strict';
import { planSync, rulesFor } from './forward-compat.js';

describe('forward-compat planSync', () => {
  const tag = 'tsswarm';
  it('inserts the three rules of a new bridge at the top, in order', () => {
    const lines = planSync({ target: 'FORWARD', lines: ['-P FORWARD DROP', '-A FORWARD -j DOCKER-FORWARD'] }, tag, ['br-a']);
    assert.deepEqual(
      lines,
      rulesFor('FORWARD', tag, 'br-a')
        .reverse()
        .map((l) => `-I${l.slice(2)}`),
    );
  });
  it('changes nothing when the rules are there', () => {
    assert.deepEqual(planSync({ target: 'FORWARD', lines: ['-P FORWARD DROP', ...rulesFor('FORWARD', tag, 'br-a')] }, tag, ['br-a']), []);
  });
  it('deletes rules of bridges that are gone and of our rules left in the wrong chain, never others', () => {
    const lines = planSync(
      {
        target: 'DOCKER-USER',
        lines: ['-P FORWARD DROP', '-A FORWARD -j DOCKER-USER', ...rulesFor('FORWARD', tag, 'br-a'), ...rulesFor('FORWARD', 'other', 'br-x'), '-N DOCKER-USER'],
      },
      tag,
      ['br-a'],
    );
    assert.equal(lines.filter((l) => l.startsWith('-D')).length, 3);
    assert.ok(lines.filter((l) => l.startsWith('-D')).every((l) => l.startsWith('-D FORWARD') && l.includes('tsswarm:tsswarm:br-a')));
    assert.equal(lines.filter((l) => l.startsWith('-I DOCKER-USER')).length, 3);
    assert.ok(!lines.some((l) => l.includes('tsswarm:other:')));
  });
  it('reads an unquoted comment as the same rule', () => {
    const unquoted = rulesFor('FORWARD', tag, 'br-a').map((l) => l.replace(/"/g, ''));
    assert.deepEqual(planSync({ target: 'FORWARD', lines: unquoted }, tag, ['br-a']), []);
  });
});
