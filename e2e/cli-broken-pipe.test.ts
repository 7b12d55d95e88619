// A reader that goes away (`… | head -1`): run, logs, exec and tscompose logs end quietly with the
// status a shell reports for Docker's CLI. One daemon for the file.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, TSSWARM } from './helpers/daemon.js';
import { useBusyboxDaemon } from './helpers/busybox.js';

const TSCOMPOSE = join(ROOT, 'dist/tscompose.js');

/**
 * Runs a CLI with stdout on a pipe whose reader goes away after the first chunk (`… | head -c1`), and
 * returns how the CLI ended.
 */
async function cutAfterFirstChunk(script: string, args: string[], env: NodeJS.ProcessEnv, cwd?: string): Promise<{ code: number | null; signal: string | null; first: string; stderr: string }> {
  const p = spawn(process.execPath, ['--', script, ...args], { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let first = '';
  p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  p.stdout.once('data', (d: Buffer) => {
    first = d.toString();
    p.stdout.destroy();
  });
  const [code, signal] = (await once(p, 'exit')) as [number | null, string | null];
  return { code, signal, first, stderr };
}

describe('e2e: CLI — a reader that goes away', function () {
  const b = useBusyboxDaemon('/tmp/tsswarm-cli-pipe-');
  const cli = (args: string[], input?: string): Promise<{ stdout: string; stderr: string; code: number }> => b.cli(args, input === undefined ? undefined : { input });

  describe('a reader that goes away (… | head -1)', function () {
    const quiet = (r: { code: number | null; first: string; stderr: string }): void => {
      assert.ok(r.first.length > 0, 'some output arrived first');
      assert.doesNotMatch(r.stderr, /EPIPE|Unhandled|at /, r.stderr);
      assert.equal(r.stderr, '');
      // The status a shell reports for Docker's CLI, which SIGPIPE ends.
      assert.equal(r.code, 141);
    };

    /** Polls (a bounded number of times) until the container's last log line is `want`, and fails if it never is. */
    const untilLastLogLine = async (name: string, want: string): Promise<void> => {
      let last = '';
      for (let i = 0; i < 300; i++) {
        last = (await cli(['logs', '--tail', '1', name])).stdout;
        if (last === want) return;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(last, want, `${name}: the whole output never reached the log`);
    };

    it('run, logs and exec end quietly', async function () {
      quiet(await cutAfterFirstChunk(TSSWARM, ['run', '--rm', 'busybox', 'seq', '1', '300000'], b.d.env));
      const c = await cli(['run', '-d', '--name', 'pipes', 'busybox', 'sh', '-c', 'seq 1 300000; sleep 600']);
      assert.equal(c.code, 0, c.stderr);
      await untilLastLogLine('pipes', '300000\n');
      quiet(await cutAfterFirstChunk(TSSWARM, ['logs', 'pipes'], b.d.env));
      quiet(await cutAfterFirstChunk(TSSWARM, ['exec', 'pipes', 'seq', '1', '300000'], b.d.env));
      assert.equal((await cli(['rm', '-f', 'pipes'])).code, 0);
    });

    it('tscompose logs ends quietly', async function () {
      const dir = join(b.work, 'proj');
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir);
      writeFileSync(join(dir, 'compose.yaml'), 'services:\n  s:\n    image: busybox:latest\n    command: ["sh", "-c", "seq 1 300000; sleep 600"]\n');
      const compose = (args: string[]): Promise<{ code: number | null; first: string; stderr: string }> => cutAfterFirstChunk(TSCOMPOSE, args, b.d.env, dir);
      const up = spawn(process.execPath, ['--', TSCOMPOSE, 'up', '-d'], { env: b.d.env, cwd: dir, stdio: 'ignore' });
      assert.deepEqual(await once(up, 'exit'), [0, null]);
      await untilLastLogLine('proj-s-1', '300000\n');
      try {
        quiet(await compose(['logs']));
        // ps --format json: the whole command, quoted as docker compose prints it; Docker's time format.
        const { execFileSync } = await import('node:child_process');
        const ps = JSON.parse(execFileSync(process.execPath, ['--', TSCOMPOSE, 'ps', '--format', 'json'], { env: b.d.env, cwd: dir, encoding: 'utf8' }).trim()) as Record<string, unknown>;
        // Not shortened. (The single quotes Docker's daemon puts around an argument with spaces come from
        // the daemon's container list, api/container-view.ts.)
        assert.match(String(ps.Command), /^"sh -c '?seq 1 300000; sleep 600'?"$/);
        assert.match(String(ps.CreatedAt), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4} \S+$/);
      } finally {
        const down = spawn(process.execPath, ['--', TSCOMPOSE, 'down', '-t', '0'], { env: b.d.env, cwd: dir, stdio: 'ignore' });
        await once(down, 'exit');
      }
    });
  });
});
