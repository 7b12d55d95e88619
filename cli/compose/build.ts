// Building service images on the client, because the daemon has no build endpoint yet: the base image
// comes from `GET /images/get` (a docker-archive), each COPY/ADD becomes one new layer, the metadata
// instructions edit the image config, and the result goes back with `POST /images/load`. RUN needs a
// container to commit and is refused with a clear message.
import { lstatSync, readdirSync, readFileSync, readlinkSync, mkdtempSync, rmSync, createWriteStream, existsSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix, relative, resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createHash } from 'node:crypto';
import type { Project, Service } from '../../compose-spec/index.js';
import { indexTarFile, TarWriter, type TarHeader } from '../../image/tar.js';
import type { Api } from './engine.js';
import type { Progress } from './progress.js';
import { CommandError } from './project.js';
import { serviceImage } from './plan.js';

export interface Instruction {
  op: string;
  /** Arguments: the JSON array form, else whitespace-split (quotes respected). */
  args: string[];
  /** The raw text after the instruction word (for the shell form of CMD/ENTRYPOINT). */
  raw: string;
  json: boolean;
  line: number;
}

function splitWords(s: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s))) out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : (m[2] ?? m[3]!));
  return out;
}

/** Parses a Dockerfile into instructions: comments dropped, `\` continuations joined. Pure. */
export function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  const lines = text.split(/\r?\n/);
  let buf = '';
  let start = 0;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (buf === '' && /^\s*(#|$)/.test(l)) continue;
    if (buf === '') start = i + 1;
    if (/^\s*#/.test(l)) continue;
    if (l.endsWith('\\')) {
      buf += `${l.slice(0, -1)} `;
      continue;
    }
    buf += l;
    const m = /^\s*(\w+)\s*(.*)$/s.exec(buf);
    buf = '';
    if (!m) continue;
    const raw = m[2]!.trim();
    let args: string[] | undefined;
    let json = false;
    if (raw.startsWith('[')) {
      try {
        const v = JSON.parse(raw) as unknown;
        if (Array.isArray(v) && v.every((x) => typeof x === 'string')) {
          args = v;
          json = true;
        }
      } catch {
        /* shell form */
      }
    }
    out.push({ op: m[1]!.toUpperCase(), args: args ?? splitWords(raw), raw, json, line: start });
  }
  return out;
}

interface ImageConfig {
  Env?: string[];
  Cmd?: string[];
  Entrypoint?: string[];
  WorkingDir?: string;
  User?: string;
  Labels?: Record<string, string>;
  ExposedPorts?: Record<string, object>;
  StopSignal?: string;
}

interface Archive {
  config: Record<string, unknown> & { config?: ImageConfig; rootfs?: { type: string; diff_ids: string[] }; history?: unknown[] };
  /** Base layers: path in the saved archive file. */
  layers: Array<{ file: string; offset: number; size: number }>;
}

function substitute(s: string, vars: Record<string, string>): string {
  return s.replace(/\$\{(\w+)(?::-([^}]*))?\}|\$(\w+)/g, (_m, a: string | undefined, d: string | undefined, b: string | undefined) => vars[a ?? b!] ?? d ?? '');
}

function setEnv(env: string[], key: string, value: string): string[] {
  return [...env.filter((e) => e.split('=')[0] !== key), `${key}=${value}`];
}

/** Pairs of KEY=VALUE, or the legacy `KEY value` form. */
function keyValues(i: Instruction): Array<[string, string]> {
  if (i.args.length >= 1 && !i.args[0]!.includes('=')) return [[i.args[0]!, i.raw.slice(i.raw.indexOf(i.args[0]!) + i.args[0]!.length).trim()]];
  return i.args.map((a) => {
    const eq = a.indexOf('=');
    return [a.slice(0, eq), a.slice(eq + 1)];
  });
}

async function loadBase(api: Api, ref: string, dir: string): Promise<Archive> {
  if (ref === 'scratch') return { config: { architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [] }, history: [] }, layers: [] };
  if (!(await api.imageExists(ref))) {
    try {
      await api.pull(ref, () => {});
    } catch (e) {
      throw new CommandError(`FROM ${ref}: the image is not present and could not be pulled: ${(e as Error).message}`);
    }
  }
  const file = join(dir, 'base.tar');
  const res = await api.client.raw('/images/get', { query: { names: ref } });
  if ((res.statusCode ?? 0) >= 400) throw new CommandError(`FROM ${ref}: the daemon could not export it (status ${res.statusCode})`);
  await pipeline(res, createWriteStream(file));
  const entries = await indexTarFile(file);
  const fh = await open(file, 'r');
  try {
    const read = async (name: string): Promise<Buffer> => {
      const e = entries.find((x) => x.name === name || x.name === `./${name}`);
      if (!e) throw new CommandError(`FROM ${ref}: the exported archive has no ${name}`);
      const b = Buffer.alloc(e.size);
      await fh.read(b, 0, e.size, e.offset);
      return b;
    };
    const manifest = JSON.parse((await read('manifest.json')).toString()) as Array<{ Config: string; Layers: string[] }>;
    const m = manifest[0]!;
    const config = JSON.parse((await read(m.Config)).toString()) as Archive['config'];
    const layers = m.Layers.map((l) => {
      const e = entries.find((x) => x.name === l || x.name === `./${l}`);
      if (!e) throw new CommandError(`FROM ${ref}: the exported archive lacks layer ${l}`);
      return { file, offset: e.offset, size: e.size };
    });
    return { config, layers };
  } finally {
    await fh.close();
  }
}

/** One layer with the files a COPY adds: the sources (files or directory contents) under dest. */
async function copyLayer(context: string, srcs: string[], dest: string, workdir: string, chmod: number | undefined): Promise<Buffer> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  const w = new TarWriter(out);
  const absDest = posix.isAbsolute(dest) ? dest : posix.join(workdir || '/', dest);
  const toDir = dest.endsWith('/') || srcs.length > 1;
  const seen = new Set<string>();
  const addDir = async (p: string, mode = 0o755): Promise<void> => {
    const rel = p.replace(/^\/+/, '');
    if (!rel || seen.has(rel)) return;
    const parent = posix.dirname(p);
    if (parent !== '/' && parent !== '.') await addDir(parent);
    seen.add(rel);
    await w.add({ name: `${rel}/`, type: 'dir', mode, mtime: 0 });
  };
  const addPath = async (src: string, target: string): Promise<void> => {
    const st = lstatSync(src);
    const rel = target.replace(/^\/+/, '');
    const h: Omit<TarHeader, 'type'> = { name: rel, mode: chmod ?? st.mode & 0o7777, mtime: Math.floor(st.mtimeMs / 1000) };
    if (st.isDirectory()) {
      await addDir(target, chmod ?? st.mode & 0o7777);
      for (const n of readdirSync(src).sort()) await addPath(join(src, n), posix.join(target, n));
    } else if (st.isSymbolicLink()) {
      await addDir(posix.dirname(target));
      await w.add({ ...h, type: 'symlink', linkname: readlinkSync(src) });
    } else if (st.isFile()) {
      await addDir(posix.dirname(target));
      await w.add({ ...h, type: 'file' }, readFileSync(src));
    }
  };
  for (const s of srcs) {
    const abs = resolve(context, s);
    if (relative(context, abs).startsWith('..')) throw new CommandError(`COPY ${s}: outside the build context ${context}`);
    if (!existsSync(abs)) throw new CommandError(`COPY ${s}: no such file in the build context ${context}`);
    const isDir = lstatSync(abs).isDirectory();
    if (isDir) {
      await addDir(absDest);
      for (const n of readdirSync(abs).sort()) await addPath(join(abs, n), posix.join(absDest, n));
    } else await addPath(abs, toDir ? posix.join(absDest, posix.basename(s)) : absDest);
  }
  await w.finish();
  return Buffer.concat(chunks);
}

export async function buildService(api: Api, project: Project, svc: Service, progress: Progress): Promise<void> {
  const b = svc.build!;
  const tag = serviceImage(project, svc);
  progress.update('Image', tag, 'Building');
  const dir = mkdtempSync(join(tmpdir(), 'tscompose-build-'));
  try {
    const text = b.dockerfile_inline ?? readFileSync(resolve(b.context, b.dockerfile ?? 'Dockerfile'), 'utf8');
    const steps = parseDockerfile(text);
    const args: Record<string, string> = Object.fromEntries(Object.entries(b.args).filter((e): e is [string, string] => e[1] !== null));
    let base: Archive | undefined;
    const newLayers: Buffer[] = [];
    const history: Array<Record<string, unknown>> = [];
    const fail = (i: Instruction, why: string): never => {
      throw new CommandError(`service ${svc.name}: build: Dockerfile line ${i.line} (${i.op}): ${why}`);
    };
    for (const i of steps) {
      const vars = { ...args, ...Object.fromEntries((base?.config.config?.Env ?? []).map((e) => [e.split('=')[0]!, e.split('=').slice(1).join('=')])) };
      const sub = (s: string) => substitute(s, vars);
      if (i.op === 'ARG') {
        for (const a of i.args) {
          const eq = a.indexOf('=');
          const k = eq === -1 ? a : a.slice(0, eq);
          if (!(k in args) && eq !== -1) args[k] = a.slice(eq + 1);
        }
        continue;
      }
      if (i.op === 'FROM') {
        if (base) fail(i, 'multi-stage builds are not supported by the client-side builder');
        base = await loadBase(api, sub(i.args[0]!), dir);
        continue;
      }
      if (!base) fail(i, 'the first instruction must be FROM');
      const cfg = (base!.config.config ??= {});
      history.push({ created: new Date().toISOString(), created_by: `${i.op} ${i.raw}`, ...(i.op === 'COPY' || i.op === 'ADD' ? {} : { empty_layer: true }) });
      switch (i.op) {
        case 'COPY':
        case 'ADD': {
          const flags = i.args.filter((a) => a.startsWith('--'));
          const rest = i.args.filter((a) => !a.startsWith('--')).map(sub);
          let chmod: number | undefined;
          for (const f of flags) {
            const m = /^--chmod=([0-7]+)$/.exec(f);
            if (m) chmod = parseInt(m[1]!, 8);
            else if (!f.startsWith('--chown=')) fail(i, `flag ${f} is not supported`);
          }
          if (rest.length < 2) fail(i, 'expected SOURCE... DEST');
          if (rest.some((s) => /^https?:\/\//.test(s))) fail(i, 'URLs are not supported');
          newLayers.push(await copyLayer(b.context, rest.slice(0, -1), rest.at(-1)!, cfg.WorkingDir ?? '/', chmod));
          break;
        }
        case 'ENV':
          for (const [k, v] of keyValues(i)) cfg.Env = setEnv(cfg.Env ?? [], k, sub(v));
          break;
        case 'LABEL':
          cfg.Labels = { ...(cfg.Labels ?? {}), ...Object.fromEntries(keyValues(i).map(([k, v]) => [k, sub(v)])) };
          break;
        case 'WORKDIR':
          cfg.WorkingDir = posix.resolve(cfg.WorkingDir ?? '/', sub(i.raw));
          break;
        case 'USER':
          cfg.User = sub(i.raw);
          break;
        case 'EXPOSE':
          cfg.ExposedPorts = { ...(cfg.ExposedPorts ?? {}), ...Object.fromEntries(i.args.map((p) => [p.includes('/') ? p : `${p}/tcp`, {}])) };
          break;
        case 'STOPSIGNAL':
          cfg.StopSignal = i.raw;
          break;
        case 'CMD':
          cfg.Cmd = i.json ? i.args : ['/bin/sh', '-c', i.raw];
          break;
        case 'ENTRYPOINT':
          cfg.Entrypoint = i.json ? i.args : ['/bin/sh', '-c', i.raw];
          break;
        case 'RUN':
          fail(i, 'RUN is not supported yet: the daemon has no build or commit endpoint, and tscompose builds on the client (use COPY of prepared files)');
          break;
        default:
          fail(i, 'unsupported instruction');
      }
    }
    if (!base) throw new CommandError(`service ${svc.name}: build: the Dockerfile has no FROM`);
    cfg(base).Labels = { ...(cfg(base).Labels ?? {}), ...b.labels };
    const diffIds = newLayers.map((l) => `sha256:${createHash('sha256').update(l).digest('hex')}`);
    const config = {
      ...base.config,
      created: new Date().toISOString(),
      rootfs: { type: 'layers', diff_ids: [...(base.config.rootfs?.diff_ids ?? []), ...diffIds] },
      history: [...(base.config.history ?? []), ...history],
    };
    const tags = [tag.includes(':') ? tag : `${tag}:latest`, ...b.tags];
    const archive = await writeArchive(base, newLayers, Buffer.from(JSON.stringify(config)), tags);
    progress.update('Image', tag, 'Loading');
    await api.load(archive, () => {});
    progress.update('Image', tag, 'Built', 'done');
  } catch (e) {
    progress.update('Image', tag, 'Error', 'error');
    throw e;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function cfg(a: Archive): ImageConfig {
  return (a.config.config ??= {});
}

async function writeArchive(base: Archive, layers: Buffer[], config: Buffer, tags: string[]): Promise<Buffer> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  const w = new TarWriter(out);
  const names: string[] = [];
  let n = 0;
  for (const l of base.layers) {
    const fh = await open(l.file, 'r');
    try {
      const b = Buffer.alloc(l.size);
      await fh.read(b, 0, l.size, l.offset);
      const name = `${n++}/layer.tar`;
      await w.add({ name, type: 'file', mode: 0o644, size: b.length }, b);
      names.push(name);
    } finally {
      await fh.close();
    }
  }
  for (const l of layers) {
    const name = `${n++}/layer.tar`;
    await w.add({ name, type: 'file', mode: 0o644, size: l.length }, l);
    names.push(name);
  }
  const cfgName = `${createHash('sha256').update(config).digest('hex')}.json`;
  await w.add({ name: cfgName, type: 'file', mode: 0o644, size: config.length }, config);
  const manifest = Buffer.from(JSON.stringify([{ Config: cfgName, RepoTags: tags, Layers: names }]));
  await w.add({ name: 'manifest.json', type: 'file', mode: 0o644, size: manifest.length }, manifest);
  await w.finish();
  return Buffer.concat(chunks);
}
