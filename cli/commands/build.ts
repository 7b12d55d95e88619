// `tsswarm build` / `tsswarm image build`: sends the build context to the daemon's POST /build as a tar
// (honouring .dockerignore, like the Docker CLI) and prints the build's output as it streams back.
// requestBuild() is also what tscompose builds service images with.
import { randomBytes } from 'node:crypto';
import { createReadStream, type Stats } from 'node:fs';
import { lstat, readFile, readdir, readlink, stat } from 'node:fs/promises';
import { request, type IncomingMessage } from 'node:http';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { PassThrough } from 'node:stream';
import { socketPath } from '../../api/daemon.js';
import { IgnoreMatcher, readDockerignore } from '../../image/build/dockerignore.js';
import { readTextIfExists } from '../../image/build/optional-file.js';
import { TarWriter } from '../../lib/tar/index.js';
import { FlagError } from '../../lib/flags.js';
import { Client, DaemonError, NoDaemonError } from '../client.js';
import { ExitError, bool, client, list, parse, str } from './common.js';

export interface BuildRequest {
  /** The context directory. */
  context: string;
  /** Absolute path of the Dockerfile (inside the context or not); default `<context>/Dockerfile`. */
  dockerfile?: string;
  /** Dockerfile text to send instead of a file (compose's dockerfile_inline). */
  dockerfileText?: string;
  tags: string[];
  buildArgs: Record<string, string>;
  labels: Record<string, string>;
  target?: string;
  noCache?: boolean;
  pull?: boolean;
  quiet?: boolean;
}

/** The build ran and failed (a Dockerfile error, a RUN that exited non-zero …): the daemon's message. */
export class BuildFailedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BuildFailedError';
  }
}

const posixRel = (root: string, abs: string): string => relative(root, abs).split(sep).join('/');
const inside = (rel: string): boolean => rel !== '' && rel !== '..' && !rel.startsWith('../') && !isAbsolute(rel);

/** As readTextIfExists, with the path in other errors' messages (the CLI prints them as they are). */
async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readTextIfExists(path);
  } catch (err) {
    throw new Error(`read ${path}: ${(err as Error).message}`);
  }
}

/**
 * Writes the context as a tar: every file .dockerignore keeps, plus the Dockerfile and .dockerignore
 * themselves (the daemon needs them even when ignored, as with Docker). Owners are 0:0 like the Docker
 * CLI's; sockets and devices are left out. `extra` entries (an out-of-context or inline Dockerfile) go
 * at the top level.
 */
export async function writeContextTar(out: PassThrough, context: string, ignore: IgnoreMatcher, keep: ReadonlySet<string>, extra: Record<string, Buffer>): Promise<void> {
  const w = new TarWriter(out);
  const emitted = new Set<string>();
  const keepUnder = (dir: string): boolean => [...keep].some((k) => k.startsWith(`${dir}/`));

  // A re-included file under an ignored directory still needs its parent dirs in the tar.
  const ensureParents = async (rel: string): Promise<void> => {
    const parts = rel.split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (emitted.has(dir)) continue;
      const st = await lstat(join(context, dir));
      await w.add({ name: `${dir}/`, type: 'dir', mode: st.mode & 0o7777, mtime: Math.floor(st.mtimeMs / 1000) });
      emitted.add(dir);
    }
  };

  const addEntry = async (rel: string, abs: string, st: Stats): Promise<void> => {
    const base = { mode: st.mode & 0o7777, uid: 0, gid: 0, mtime: Math.floor(st.mtimeMs / 1000) };
    await ensureParents(rel);
    if (st.isDirectory()) {
      if (!emitted.has(rel)) await w.add({ name: `${rel}/`, type: 'dir', ...base });
      emitted.add(rel);
    } else if (st.isSymbolicLink()) {
      await w.add({ name: rel, type: 'symlink', linkname: await readlink(abs), ...base });
    } else if (st.isFile()) {
      await w.add({ name: rel, type: 'file', size: st.size, ...base }, createReadStream(abs));
    }
  };

  const walk = async (dirRel: string): Promise<void> => {
    const abs = dirRel ? join(context, dirRel) : context;
    let names: string[];
    try {
      names = (await readdir(abs)).sort();
    } catch (err) {
      throw new Error(`build context: cannot read ${abs}: ${(err as Error).message}`);
    }
    for (const name of names) {
      const rel = dirRel ? `${dirRel}/${name}` : name;
      const p = join(abs, name);
      let st: Stats;
      try {
        st = await lstat(p);
      } catch (err) {
        throw new Error(`build context: cannot stat ${p}: ${(err as Error).message}`);
      }
      const ignored = ignore.ignores(rel) && !keep.has(rel);
      if (st.isDirectory()) {
        if (ignored && !ignore.mayReinclude(rel) && !keepUnder(rel)) continue;
        if (!ignored) await addEntry(rel, p, st);
        await walk(rel);
      } else if (!ignored) {
        try {
          await addEntry(rel, p, st);
        } catch (err) {
          throw new Error(`build context: cannot send ${p}: ${(err as Error).message}`);
        }
      }
    }
  };

  await walk('');
  for (const [name, data] of Object.entries(extra)) await w.add({ name, type: 'file', mode: 0o644, size: data.length, mtime: Math.floor(Date.now() / 1000) }, data);
  await w.finish();
}

interface StreamLine {
  stream?: string;
  error?: string;
  errorDetail?: { message?: string };
  aux?: { ID?: string };
}

/**
 * Builds an image on the daemon. `onOutput` gets the build's output as it arrives (text with its
 * newlines); returns the image ID; throws BuildFailedError with the daemon's message (which names the
 * Dockerfile line) when the build fails, or an Error naming the path when the context is unusable.
 */
export async function requestBuild(c: Client, r: BuildRequest, onOutput: (text: string) => void): Promise<string> {
  const context = resolve(r.context);
  const cst = await stat(context).catch(() => undefined);
  if (!cst) throw new Error(`unable to prepare context: path "${r.context}" not found`);
  if (!cst.isDirectory()) throw new Error(`unable to prepare context: "${r.context}" is not a directory`);

  const extra: Record<string, Buffer> = {};
  let dockerfileName: string;
  // What the user calls the Dockerfile, for messages: the daemon only knows the name in the tar.
  let shownAs: string | undefined;
  let ignoreText: string | undefined;
  if (r.dockerfileText !== undefined) {
    dockerfileName = `.tsswarm-dockerfile-${randomBytes(6).toString('hex')}`;
    extra[dockerfileName] = Buffer.from(r.dockerfileText);
    shownAs = 'Dockerfile (inline)';
  } else {
    const path = resolve(r.dockerfile ?? join(context, 'Dockerfile'));
    const fst = await stat(path).catch(() => undefined);
    if (!fst) throw new Error(`unable to prepare context: cannot find the Dockerfile: ${path} does not exist${r.dockerfile ? '' : ' (use -f to name another file)'}`);
    if (!fst.isFile()) throw new Error(`unable to prepare context: the Dockerfile ${path} is not a regular file`);
    const rel = posixRel(context, path);
    if (inside(rel)) dockerfileName = rel;
    else {
      // Outside the context: sent under a private name, as the Docker CLI does.
      dockerfileName = `.tsswarm-dockerfile-${randomBytes(6).toString('hex')}`;
      extra[dockerfileName] = await readFile(path);
      shownAs = path;
    }
    ignoreText = await readIfExists(`${path}.dockerignore`);
    // The daemon looks for <Dockerfile>.dockerignore beside the name it is given: send it there too.
    if (shownAs !== undefined && ignoreText !== undefined) extra[`${dockerfileName}.dockerignore`] = Buffer.from(ignoreText);
  }
  ignoreText ??= (await readIfExists(join(context, '.dockerignore'))) ?? '';
  let ignore: IgnoreMatcher;
  try {
    ignore = new IgnoreMatcher(readDockerignore(ignoreText));
  } catch (err) {
    throw new Error(`${join(context, '.dockerignore')}: ${(err as Error).message}`);
  }
  const keep = new Set([dockerfileName, '.dockerignore', `${dockerfileName}.dockerignore`]);
  const rename = (s: string): string => (shownAs ? s.split(dockerfileName).join(shownAs) : s);

  const qs = new URLSearchParams();
  for (const t of r.tags) qs.append('t', t);
  qs.set('dockerfile', dockerfileName);
  if (Object.keys(r.buildArgs).length) qs.set('buildargs', JSON.stringify(r.buildArgs));
  if (Object.keys(r.labels).length) qs.set('labels', JSON.stringify(r.labels));
  if (r.target) qs.set('target', r.target);
  if (r.noCache) qs.set('nocache', '1');
  if (r.pull) qs.set('pull', '1');
  if (r.quiet) qs.set('q', '1');

  // Finds (or autostarts) the daemon before any of the context is read.
  await c.call('/_ping');
  const req = request({ socketPath: socketPath(c.host), path: `/v1.41/build?${qs.toString()}`, method: 'POST', headers: { 'Content-Type': 'application/x-tar' } });
  const response = new Promise<IncomingMessage>((res, rej) => {
    req.once('response', res);
    req.once('error', (err: NodeJS.ErrnoException) => rej(err.code === 'ENOENT' || err.code === 'ECONNREFUSED' ? new NoDaemonError(c.host, err.code) : err));
  });
  const tar = new PassThrough();
  // Errors surface through writeContextTar's promise; the stream's own event must not go unhandled.
  tar.on('error', () => undefined);
  tar.pipe(req);
  let tarError: Error | undefined;
  void writeContextTar(tar, context, ignore, keep, extra).catch((err: Error) => {
    tarError = err;
    req.destroy(err);
  });
  let res: IncomingMessage;
  try {
    res = await response;
  } catch (err) {
    throw tarError ?? err;
  } finally {
    // A daemon that answers early (a bad option) has stopped reading: stop producing the tar.
    if (!tar.writableEnded) tar.unpipe(req);
  }
  if ((res.statusCode ?? 0) >= 400) {
    tar.destroy(new Error('the daemon stopped reading the build context'));
    const chunks: Buffer[] = [];
    for await (const ch of res) chunks.push(ch as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    let msg = text;
    try {
      msg = (JSON.parse(text) as { message?: string }).message ?? text;
    } catch {
      // Not JSON: keep the text.
    }
    throw new DaemonError(res.statusCode ?? 0, rename(msg.trim()));
  }

  let id: string | undefined;
  let failure: string | undefined;
  let buf = '';
  const handle = (line: string): void => {
    if (!line.trim()) return;
    let m: StreamLine;
    try {
      m = JSON.parse(line) as StreamLine;
    } catch {
      throw new Error(`build: the daemon sent an unreadable line: ${line.slice(0, 200)}`);
    }
    if (m.error !== undefined) failure = rename(m.errorDetail?.message ?? m.error);
    else if (m.stream !== undefined) onOutput(rename(m.stream));
    else if (m.aux?.ID) id = m.aux.ID;
  };
  for await (const chunk of res) {
    buf += (chunk as Buffer).toString('utf8');
    let i: number;
    while ((i = buf.indexOf('\n')) !== -1) {
      handle(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
  }
  handle(buf);
  if (failure !== undefined) throw new BuildFailedError(failure);
  if (!id) throw new BuildFailedError('build: the daemon ended the stream without an image ID or an error');
  return id;
}

/** `KEY=VALUE` items; a bare `KEY` takes its value from the environment (and is dropped if unset). */
function keyValues(items: string[], flag: string, fromEnv: boolean): Record<string, string> {
  const out: Record<string, string> = {};
  for (const it of items) {
    const eq = it.indexOf('=');
    if (eq === 0) throw new FlagError(`invalid argument "${it}" for "${flag}" flag: expected KEY=VALUE`);
    if (eq === -1) {
      if (!fromEnv) throw new FlagError(`invalid argument "${it}" for "${flag}" flag: expected KEY=VALUE`);
      const v = process.env[it];
      if (v !== undefined) out[it] = v;
      continue;
    }
    out[it.slice(0, eq)] = it.slice(eq + 1);
  }
  return out;
}

export default async function build(argv: string[]): Promise<number> {
  const usage = 'tsswarm build [OPTIONS] PATH';
  const p = parse(argv, usage, [
    { name: 'tag', short: 't', type: 'list', description: 'Name and optionally a tag in the "name:tag" format' },
    { name: 'file', short: 'f', type: 'string', description: "Name of the Dockerfile (default: 'PATH/Dockerfile')" },
    { name: 'build-arg', type: 'list', description: 'Set build-time variables' },
    { name: 'target', type: 'string', description: 'Set the target build stage to build' },
    { name: 'no-cache', type: 'bool', description: 'Do not use cache when building the image' },
    { name: 'label', type: 'list', description: 'Set metadata for an image' },
    { name: 'pull', type: 'bool', description: 'Always attempt to pull a newer version of the base images' },
    { name: 'quiet', short: 'q', type: 'bool', description: 'Suppress the build output and print image ID on success' },
  ]);
  if (!p) return 0;
  if (p.args.length !== 1) throw new FlagError(`"tsswarm build" requires exactly 1 argument.\nSee 'tsswarm build --help'.\n\nUsage:  ${usage}`);
  const file = str(p, 'file');
  const quiet = bool(p, 'quiet');
  try {
    const id = await requestBuild(
      client(),
      {
        context: p.args[0]!,
        ...(file !== undefined ? { dockerfile: resolve(file) } : {}),
        tags: list(p, 'tag'),
        buildArgs: keyValues(list(p, 'build-arg'), '--build-arg', true),
        labels: keyValues(list(p, 'label'), '--label', false),
        ...(str(p, 'target') ? { target: str(p, 'target') as string } : {}),
        noCache: bool(p, 'no-cache'),
        pull: bool(p, 'pull'),
        quiet,
      },
      (text) => process.stdout.write(text),
    );
    if (quiet) process.stdout.write(`${id}\n`);
    return 0;
  } catch (err) {
    if (err instanceof FlagError || err instanceof NoDaemonError) throw err;
    throw new ExitError(err instanceof DaemonError ? `Error response from daemon: ${err.message}` : (err as Error).message, 1);
  }
}
