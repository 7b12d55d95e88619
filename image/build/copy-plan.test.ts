import assert from 'node:assert/strict';
import { IgnoreMatcher } from './dockerignore.js';
import { cleanSource, planCopy, type CopyOp, type CopyPlanInput, type SourceTree, type TreeEntry } from './copy-plan.js';

const F = (size = 1, mode = 0o644): TreeEntry => ({ type: 'file', mode, uid: 1000, gid: 1000, size });
const D = (mode = 0o755): TreeEntry => ({ type: 'dir', mode, uid: 1000, gid: 1000, size: 0 });
const L = (to: string): TreeEntry => ({ type: 'symlink', mode: 0o777, uid: 1000, gid: 1000, size: 0, linkTarget: to });

function tree(entries: Record<string, TreeEntry>): SourceTree {
  const all: Record<string, TreeEntry> = { '': D(), ...entries };
  return {
    stat: (p) => all[p],
    descendants: (dir) => Object.keys(all).filter((p) => p !== '' && (dir === '' || p.startsWith(dir + '/'))),
  };
}

function image(entries: Record<string, TreeEntry>): (p: string) => TreeEntry | undefined {
  const all: Record<string, TreeEntry> = { '/': D(), ...entries };
  return (p) => all[p];
}

const ctx = tree({
  'a.txt': F(1),
  'b.txt': F(2),
  'run.sh': F(3, 0o755),
  src: D(0o750),
  'src/main.js': F(4),
  'src/lib': D(),
  'src/lib/x.js': F(5),
  'src/link': L('main.js'),
  'alias.txt': L('a.txt'),
});

const rootfs = image({
  '/tmp': { type: 'dir', mode: 0o1777, uid: 0, gid: 0, size: 0 },
  '/var': D(),
  '/var/run': L('../run'),
  '/run': D(),
  '/app': { type: 'dir', mode: 0o700, uid: 5, gid: 5, size: 0 },
});

function plan(over: Partial<CopyPlanInput>): Array<[string, string, string, number, number]> {
  const ops = planCopy({ instruction: 'COPY', sources: [], dest: '/', workdir: '/', tree: ctx, target: rootfs, sourceName: 'the build context', ...over });
  return ops.map((o: CopyOp) => [o.dest, o.type, o.source ?? o.linkTarget ?? '', o.mode, o.uid]);
}

describe('image/build/copy-plan', () => {
  it('copies a file to a path, and into a directory by name', () => {
    assert.deepEqual(plan({ sources: ['a.txt'], dest: '/opt/x.txt' }), [
      ['/opt', 'dir', '', 0o755, 0],
      ['/opt/x.txt', 'file', 'a.txt', 0o644, 0],
    ]);
    assert.deepEqual(plan({ sources: ['a.txt'], dest: '/opt/' }).map((o) => o[0]), ['/opt', '/opt/a.txt']);
  });

  it('resolves a relative destination against WORKDIR', () => {
    assert.deepEqual(plan({ sources: ['a.txt'], dest: '.', workdir: '/work' }).map((o) => o[0]), ['/work', '/work/a.txt']);
    assert.deepEqual(plan({ sources: ['a.txt'], dest: 'sub/f', workdir: '/work' }).map((o) => o[0]), ['/work', '/work/sub', '/work/sub/f']);
  });

  it('copies the contents of a directory, keeping symlinks inside it', () => {
    assert.deepEqual(plan({ sources: ['src'], dest: '/code' }), [
      ['/code', 'dir', '', 0o750, 0],
      ['/code/lib', 'dir', '', 0o755, 0],
      ['/code/lib/x.js', 'file', 'src/lib/x.js', 0o644, 0],
      ['/code/link', 'symlink', 'main.js', 0o777, 0],
      ['/code/main.js', 'file', 'src/main.js', 0o644, 0],
    ]);
  });

  it('expands wildcards (never across /) and requires a directory for several matches', () => {
    assert.deepEqual(plan({ sources: ['*.txt'], dest: '/d/' }).map((o) => o[0]), ['/d', '/d/a.txt', '/d/alias.txt', '/d/b.txt']);
    assert.throws(() => plan({ sources: ['*.txt'], dest: '/d' }), /must be a directory and end with a \/: write "\/d\/"/);
    assert.throws(() => plan({ sources: ['*.nope'], dest: '/d/' }), /no files in the build context match "\*\.nope"/);
  });

  it('follows a symlink given as the source, naming the copy after the link', () => {
    assert.deepEqual(plan({ sources: ['alias.txt'], dest: '/d/' }).map((o) => [o[0], o[2]]), [
      ['/d', ''],
      ['/d/alias.txt', 'a.txt'],
    ]);
  });

  it('names a missing source and refuses paths outside the context', () => {
    assert.throws(() => plan({ sources: ['missing/file.txt'], dest: '/' }), /"missing\/file\.txt" not found in the build context/);
    assert.throws(() => cleanSource('../etc/passwd', 'the build context'), /forbidden path outside the build context/);
    assert.equal(cleanSource('/./src//x/', 'the build context'), 'src/x');
  });

  it('applies --chown and --chmod to what it creates', () => {
    assert.deepEqual(plan({ sources: ['run.sh'], dest: '/new/bin/', chown: { uid: 7, gid: 8 }, chmod: 0o500 }), [
      ['/new', 'dir', '', 0o755, 7],
      ['/new/bin', 'dir', '', 0o755, 7],
      ['/new/bin/run.sh', 'file', 'run.sh', 0o500, 7],
    ]);
  });

  it('keeps the metadata of existing parent directories and writes through image symlinks', () => {
    assert.deepEqual(plan({ sources: ['a.txt'], dest: '/tmp/' }), [
      ['/tmp', 'dir', '', 0o1777, 0],
      ['/tmp/a.txt', 'file', 'a.txt', 0o644, 0],
    ]);
    assert.deepEqual(plan({ sources: ['a.txt'], dest: '/var/run/' }).map((o) => o[0]), ['/run', '/run/a.txt']);
    // An existing directory is a directory destination even without the slash.
    assert.deepEqual(plan({ sources: ['a.txt'], dest: '/app' }).map((o) => [o[0], o[3], o[4]]), [
      ['/app', 0o700, 5],
      ['/app/a.txt', 0o644, 0],
    ]);
  });

  it('honours --exclude', () => {
    const exclude = new IgnoreMatcher(['**/*.js']);
    assert.deepEqual(plan({ sources: ['src'], dest: '/c', exclude }).map((o) => o[0]), ['/c', '/c/lib', '/c/link']);
  });

  it('marks an ADD of a local archive for extraction', () => {
    const ops = planCopy({
      instruction: 'ADD',
      sources: ['b.txt'],
      dest: '/x',
      workdir: '/',
      tree: ctx,
      target: rootfs,
      sourceName: 'the build context',
      isArchive: (p) => p === 'b.txt',
    });
    assert.deepEqual(ops.map((o) => [o.dest, o.extract ?? false, o.source]), [['/x', true, 'b.txt']]);
  });
});
