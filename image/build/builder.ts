// `tsswarm build`: runs a Dockerfile plan step by step. FROM takes an image from the store (or
// scratch, or an earlier stage); RUN runs in our runtime on an overlay of the layers so far and its
// upper dir becomes a layer; COPY/ADD write their files straight into a layer tar; everything else
// changes the config. Before each step the cache is asked for the state after it (keyed like Docker's),
// so an unchanged rebuild only hashes the context and commits the same image again.

import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { digestHex, type Digest } from '../digest.js';
import { NoSuchImageError } from '../errors.js';
import type { ImageLayer } from '../records.js';
import { parseReference } from '../reference.js';
import { MediaType, type ContainerConfig, type History, type ImageConfig } from '../schemas.js';
import type { ImageStore, Lease } from '../store.js';
import { archiveCompression, unpackArchive, type ArchiveCompression } from './archive.js';
import { baseKey, contentChecksum, stepKey } from './cache-key.js';
import { CacheIndex, type CachedState } from './cache-index.js';
import { applyInstruction, argvOf, historyLine } from './config.js';
import { contextRecords, openContext, type BuildContext } from './context.js';
import { planCopy, resolveSources, type CopyOp, type SourceTree } from './copy-plan.js';
import { IgnoreMatcher } from './dockerignore.js';
import { DockerfileError, InstructionError } from './errors.js';
import type { RunExecutor } from './executor.js';
import { ArgScope, at, expandInstruction, platformArgs, PROXY_ARGS, stageLookup } from './expand.js';
import { DiskTree, diskLookup } from './fs-tree.js';
import { parseInstruction, type Instruction, type InstructionOf, type Loc } from './instructions.js';
import { copyItems, diffItems, tarStream, upperIsEmpty, type TarItem } from './layer-tar.js';
import { mountView } from './mounts.js';
import { splitInstruction } from './parse.js';
import { planBuild, resolveFromRef, type BuildPlan, type Stage, type TargetPlatform } from './plan.js';
import { envLookup } from './shell-lex.js';
import { resolveChown, resolveUser } from './users.js';

export interface BuildOptions {
  /** The build context directory. */
  context: string;
  /** Relative to the context unless absolute; default `Dockerfile`. */
  dockerfile?: string;
  tags: string[];
  buildArgs: Record<string, string>;
  target?: string;
  noCache?: boolean;
  /** Added to the final image's labels (`--label`). */
  labels: Record<string, string>;
  /** Receives the step-by-step output, one line per call (no trailing newline). */
  output: (line: string) => void;
}

export interface BuildResult {
  imageId: string;
}

export interface BuilderDeps {
  store: ImageStore;
  executor: RunExecutor;
  /** Holds the cache index and scratch dirs, e.g. `<data-root>/build`. */
  root: string;
  /** Makes a missing base image available (a pull); without it a missing image is an error. */
  pull?: (ref: string, output: (line: string) => void) => Promise<void>;
  platform?: TargetPlatform;
}

export const DEFAULT_PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export function hostPlatform(): TargetPlatform {
  const arch: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
  return { os: 'linux', architecture: arch[process.arch] ?? process.arch };
}

/** The state of a stage between steps: what the next step builds on. */
interface StageState {
  key: string;
  layers: ImageLayer[];
  config: ContainerConfig;
  cmdSet: boolean;
  author?: string;
  history: History[];
  base: { architecture?: string; os?: string; variant?: string };
}

function short(id: string): string {
  return id.replace(/^sha256:/u, '').slice(0, 12);
}

function describe(instr: Instruction): unknown {
  // Where an instruction sits in the file is not part of what it does.
  const { loc, ...rest } = instr;
  void loc;
  return rest;
}

async function atAsync<T>(loc: Loc, keyword: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof InstructionError) throw new DockerfileError({ file: loc.file, line: loc.line }, keyword, err.message);
    throw err;
  }
}

/** One build: the plan, its scratch space, its store lease and where output goes. */
class BuildRun {
  private readonly results = new Map<number, StageState>();
  private readonly verified = new Set<string>();
  private step = 0;
  private views = 0;
  /** The stage being built: COPY --from may only name stages before it. */
  private stageIndex = 0;
  private readonly empty: string;
  private readonly now = new Date().toISOString();

  constructor(
    private readonly deps: BuilderDeps,
    private readonly cache: CacheIndex,
    private readonly opts: BuildOptions,
    private readonly ctx: BuildContext,
    private readonly plan: BuildPlan,
    private readonly lease: Lease,
    private readonly tmp: string,
    private readonly platform: TargetPlatform,
  ) {
    this.empty = join(tmp, 'empty');
  }

  private out(line: string): void {
    this.opts.output(line);
  }

  private get escape() {
    return this.plan.directives.escape;
  }

  private lowerDirs(layers: readonly ImageLayer[]): string[] {
    return layers.map((l) => this.deps.store.layers.diffDir(l.chainId)).reverse();
  }

  /** Mounts the layers read-only for the duration of fn. */
  private async withView<T>(layers: readonly ImageLayer[], fn: (root: string) => Promise<T>): Promise<T> {
    const view = await mountView(this.lowerDirs(layers), this.empty, join(this.tmp, `view-${++this.views}`));
    try {
      return await fn(view.root);
    } finally {
      await view.unmount();
    }
  }

  private async hold(layers: readonly ImageLayer[]): Promise<void> {
    for (const l of layers) {
      this.lease.layers.add(l.chainId);
      this.lease.blobs.add(l.blob);
    }
  }

  /** A cache entry is usable only while the store still has its layers. */
  private async usable(entry: CachedState): Promise<boolean> {
    for (const l of entry.layers) {
      if (this.verified.has(l.chainId)) continue;
      if (!(await this.deps.store.layers.has(l.chainId)) || !(await this.deps.store.blobs.has(l.blob))) return false;
      this.verified.add(l.chainId);
    }
    return true;
  }

  private async lookup(key: string): Promise<StageState | undefined> {
    if (this.opts.noCache) return undefined;
    const e = await this.cache.get(key);
    if (!e || !(await this.usable(e))) return undefined;
    await this.cache.touch(key);
    return { key, layers: e.layers, config: e.config, cmdSet: e.cmdSet, history: e.history, base: {}, ...(e.author !== undefined ? { author: e.author } : {}) };
  }

  private async remember(s: StageState): Promise<void> {
    await this.cache.put(s.key, { layers: s.layers, config: s.config, cmdSet: s.cmdSet, history: s.history, ...(s.author !== undefined ? { author: s.author } : {}) });
  }

  /** Looks the step up in the cache, else runs `make`; prints Docker's step trailer either way. */
  private async cached(prev: StageState, key: string, make: () => Promise<StageState>): Promise<StageState> {
    const hit = await this.lookup(key);
    if (hit) {
      this.out(' ---> Using cache');
      this.out(` ---> ${short(key)}`);
      await this.hold(hit.layers);
      return { ...hit, base: prev.base };
    }
    const next = await make();
    await this.remember(next);
    this.out(` ---> ${short(key)}`);
    return next;
  }

  private async ingest(prev: StageState, items: AsyncIterable<TarItem>, what: string): Promise<ImageLayer> {
    const parent = prev.layers.length ? (prev.layers[prev.layers.length - 1] as ImageLayer).chainId : null;
    const layer = await this.deps.store.ingestLayer(this.lease, () => tarStream(items), { parent, what, mediaType: MediaType.OciLayer });
    await this.hold([layer]);
    return layer;
  }

  private history(instr: Instruction, state: StageState, emptyLayer: boolean, runArgs: Array<[string, string]> = []): History[] {
    const h: History = { created: this.now, created_by: historyLine(instr, state.config, runArgs) };
    if (emptyLayer) h.empty_layer = true;
    return [...state.history, h];
  }

  // ------------------------------------------------------------------ stages

  async run(): Promise<StageState> {
    for (const idx of this.plan.order) {
      const stage = this.plan.stages[idx] as Stage;
      this.results.set(idx, await this.runStage(stage));
    }
    return this.results.get(this.plan.target) as StageState;
  }

  private async resolveImage(ref: string, loc: Loc, keyword: string): Promise<Digest> {
    const store = this.deps.store;
    let rec = store.resolve(ref);
    if (!rec && this.deps.pull) {
      await this.deps.pull(ref, (l) => this.out(l));
      rec = store.resolve(ref);
    }
    if (!rec) throw new DockerfileError({ file: loc.file, line: loc.line }, keyword, new NoSuchImageError(ref).message);
    return rec.id;
  }

  private async fromImage(id: Digest): Promise<StageState> {
    const store = this.deps.store;
    const rec = store.get(id);
    const cfg: ImageConfig = await store.config(id);
    await this.hold(rec.layers);
    const base: StageState['base'] = {};
    if (cfg.architecture !== undefined) base.architecture = cfg.architecture;
    if (cfg.os !== undefined) base.os = cfg.os;
    if (cfg.variant !== undefined) base.variant = cfg.variant;
    const s: StageState = {
      key: baseKey({ imageId: id }, `${this.platform.os}/${this.platform.architecture}`),
      layers: rec.layers,
      config: cfg.config ?? {},
      cmdSet: false,
      history: cfg.history ?? [],
      base,
    };
    if (cfg.author !== undefined) s.author = cfg.author;
    return s;
  }

  private async runStage(stage: Stage): Promise<StageState> {
    const from = stage.from;
    this.stageIndex = stage.index;
    this.out(`Step ${++this.step}/${this.plan.totalSteps} : ${from.loc.original}`);
    let state: StageState;
    let triggers: string[] = [];
    if (stage.base.kind === 'scratch') {
      state = {
        key: baseKey('scratch', `${this.platform.os}/${this.platform.architecture}`),
        layers: [],
        config: { Env: [DEFAULT_PATH_ENV] },
        cmdSet: false,
        history: [],
        base: {},
      };
      this.out(' ---> scratch');
    } else if (stage.base.kind === 'stage') {
      const prev = this.results.get(stage.base.index) as StageState;
      state = { ...prev, cmdSet: false };
      this.out(` ---> ${short(prev.key)}`);
    } else {
      const id = await this.resolveImage(stage.base.ref, from.loc, 'FROM');
      state = await this.fromImage(id);
      triggers = state.config.OnBuild ?? [];
      this.out(` ---> ${short(id)}`);
    }

    const inherited = new Map<string, string | undefined>([...platformArgs(this.platform), ...this.plan.globalArgs]);
    const args = new ArgScope(this.opts.buildArgs, inherited, this.escape);

    if (triggers.length > 0) {
      this.out(`# Executing ${triggers.length} build trigger${triggers.length > 1 ? 's' : ''}`);
      state = { ...state, config: { ...state.config, OnBuild: null } };
      for (const t of triggers) {
        const sub = splitInstruction(t);
        const raw = { keyword: sub.keyword, flags: sub.flags, rest: sub.rest, line: from.loc.line, endLine: from.loc.endLine, original: t };
        const instr = parseInstruction(raw, from.loc.file, this.escape);
        state = await this.runInstruction(instr, state, args, true);
      }
    }
    for (const instr of stage.body) {
      this.out(`Step ${++this.step}/${this.plan.totalSteps} : ${instr.loc.original}`);
      state = await this.runInstruction(instr, state, args, false);
    }
    return state;
  }

  // ------------------------------------------------------------------ steps

  private async runInstruction(raw: Instruction, state: StageState, args: ArgScope, trigger: boolean): Promise<StageState> {
    const lookup = stageLookup(state.config.Env, args);
    if (raw.kind === 'ARG') {
      at(raw.loc, 'ARG', () => args.declare(raw.args, envLookup(state.config.Env ?? [])));
      if (trigger) return state;
      // Docker's classic builder commits an ARG step like ENV or LABEL, so an unchanged rebuild prints
      // " ---> Using cache" for it. The values are not part of the key (as in Docker): the RUN steps
      // that see them carry them in theirs.
      const key = stepKey(state.key, { kind: 'ARG', args: raw.args });
      return this.cached(state, key, async () => ({ ...state, key }));
    }
    if (raw.kind === 'FROM') {
      throw new DockerfileError({ file: raw.loc.file, line: raw.loc.line }, 'FROM', 'not allowed here');
    }
    const { instr } = expandInstruction(raw, lookup, this.escape);
    switch (instr.kind) {
      case 'RUN':
        return this.runStep(instr, state, args);
      case 'COPY':
      case 'ADD':
        return this.copyStep(instr, state);
      case 'WORKDIR':
        return this.workdirStep(instr, state);
      case 'VOLUME':
        return this.volumeStep(instr, state);
      default: {
        const key = stepKey(state.key, describe(instr));
        return this.cached(state, key, async () => {
          const next = at(instr.loc, instr.kind, () => applyInstruction(state, instr));
          const s: StageState = { ...state, key, config: next.config, cmdSet: next.cmdSet, history: this.history(instr, state, true) };
          if (next.author !== undefined) s.author = next.author;
          return s;
        });
      }
    }
  }

  private async workdirStep(instr: InstructionOf<'WORKDIR'>, state: StageState): Promise<StageState> {
    const key = stepKey(state.key, describe(instr));
    return this.cached(state, key, async () => {
      const next = at(instr.loc, 'WORKDIR', () => applyInstruction(state, instr));
      const dir = next.config.WorkingDir ?? '/';
      // Docker creates the directory; only a missing one costs a layer.
      const layers = await this.makeDirs(state, [dir], `WORKDIR ${dir}`);
      return { ...state, key, layers, config: next.config, history: this.history(instr, state, layers.length === state.layers.length) };
    });
  }

  /**
   * VOLUME: the config's volumes, and the directories themselves (root's, 0755) when missing, as
   * Docker's builder leaves them in the image, so a later RUN can write there.
   */
  private async volumeStep(instr: InstructionOf<'VOLUME'>, state: StageState): Promise<StageState> {
    const key = stepKey(state.key, describe(instr));
    return this.cached(state, key, async () => {
      const next = at(instr.loc, 'VOLUME', () => applyInstruction(state, instr));
      const dirs = instr.paths.map((p) => posix.resolve('/', state.config.WorkingDir ?? '/', p));
      const layers = await this.makeDirs(state, dirs, `VOLUME ${instr.paths.join(' ')}`);
      return { ...state, key, layers, config: next.config, history: this.history(instr, state, layers.length === state.layers.length) };
    });
  }

  /** The layers with one more holding whichever of `dirs` (and their parents) are missing; unchanged when none is. */
  private async makeDirs(state: StageState, dirs: string[], what: string): Promise<ImageLayer[]> {
    const ops = await this.withView(state.layers, async (root) => {
      const look = diskLookup(root);
      const made = new Set<string>();
      const missing: CopyOp[] = [];
      for (const dir of dirs) {
        const chain: CopyOp[] = [];
        let p = dir;
        while (p !== '/' && p !== '' && !look(p) && !made.has(p)) {
          chain.unshift({ dest: p, type: 'dir', mode: 0o755, uid: 0, gid: 0, size: 0 });
          p = p.slice(0, p.lastIndexOf('/')) || '/';
        }
        // The existing parent goes into the layer as it is, so the layer's tar has the whole path.
        if (chain.length && p !== '/' && !made.has(p)) {
          const e = look(p);
          if (e?.type === 'dir') chain.unshift({ dest: p, type: 'dir', mode: e.mode, uid: e.uid, gid: e.gid, size: 0 });
        }
        for (const op of chain) {
          made.add(op.dest);
          missing.push(op);
        }
      }
      return missing;
    });
    if (ops.length === 0) return state.layers;
    return [...state.layers, await this.ingest(state, copyItems(ops, { abs: (x) => x, mtime: () => 0 }, Math.floor(Date.now() / 1000)), what)];
  }

  private async runStep(instr: InstructionOf<'RUN'>, state: StageState, args: ArgScope): Promise<StageState> {
    const envNames = new Set((state.config.Env ?? []).map((kv) => kv.split('=', 1)[0] as string));
    // Build args a RUN sees (not shadowed by ENV): part of its key, like Docker's `|N a=b` prefix.
    const runArgs = args.entries().filter(([k]) => !envNames.has(k) && !PROXY_ARGS.has(k));
    const proxies = Object.entries(this.opts.buildArgs).filter(([k]) => PROXY_ARGS.has(k) && !envNames.has(k));
    const argv = argvOf(instr.command, state.config);
    const key = stepKey(state.key, { kind: 'RUN', argv, args: runArgs, network: instr.network });
    return this.cached(state, key, async () => {
      const id = `build-${randomBytes(6).toString('hex')}`;
      this.out(` ---> Running in ${id.slice(6)}`);
      const work = join(this.tmp, id);
      const upper = join(work, 'upper');
      const ovWork = join(work, 'work');
      await mkdir(upper, { recursive: true });
      await mkdir(ovWork, { recursive: true });
      const layers = [...state.layers];
      try {
        await this.withView(state.layers, async (before) => {
          const user = await atAsync(instr.loc, 'RUN', async () => {
            const [passwd, group] = await Promise.all([readText(join(before, 'etc/passwd')), readText(join(before, 'etc/group'))]);
            return resolveUser(state.config.User ?? '', passwd, group);
          });
          let env = [...(state.config.Env ?? [])];
          if (!envNames.has('PATH')) env.unshift(DEFAULT_PATH_ENV);
          env = [...env, ...runArgs.map(([k, v]) => `${k}=${v}`), ...proxies.map(([k, v]) => `${k}=${v}`)];
          if (!envNames.has('HOME')) env.push(`HOME=${user.home || '/'}`);
          let pending = '';
          const result = await this.deps.executor.run({
            id,
            rootfs: { lower: state.layers.length ? this.lowerDirs(state.layers) : [this.empty], upper, work: ovWork },
            args: argv,
            env,
            cwd: state.config.WorkingDir || '/',
            user: { uid: user.uid, gid: user.gid, additionalGids: user.additionalGids },
            network: instr.network,
            workDir: join(work, 'run'),
            output: (_stream, text) => {
              const lines = (pending + text).split('\n');
              pending = lines.pop() ?? '';
              for (const l of lines) this.out(l);
            },
          });
          if (pending) this.out(pending);
          if (result.exitCode !== 0) {
            const cmd = argv.join(' ');
            throw new DockerfileError(
              { file: instr.loc.file, line: instr.loc.line },
              'RUN',
              `the command '${cmd}' returned a non-zero code: ${result.exitCode}${result.error ? ` (${result.error})` : ''}`,
            );
          }
          if (!(await upperIsEmpty(upper))) {
            const after = await mountView([upper, ...this.lowerDirs(state.layers)], this.empty, join(this.tmp, `view-${++this.views}`));
            try {
              layers.push(await this.ingest(state, diffItems(upper, before, after.root), `RUN step ${this.step}`));
            } finally {
              await after.unmount();
            }
          }
        });
      } finally {
        await rm(work, { recursive: true, force: true });
      }
      const emptyLayer = layers.length === state.layers.length;
      return { ...state, key, layers, history: this.history(instr, state, emptyLayer, runArgs) };
    });
  }

  /** Where COPY/ADD reads from, and what of it goes into the cache key. */
  private async copySource(instr: InstructionOf<'COPY' | 'ADD'>): Promise<{ keyPart: unknown; layers?: ImageLayer[] }> {
    if (instr.from === undefined) return { keyPart: 'context' };
    let ref;
    try {
      ref = resolveFromRef(instr.from, this.plan.stages, this.stageIndex);
    } catch (err) {
      throw new DockerfileError({ file: instr.loc.file, line: instr.loc.line }, instr.kind, (err as Error).message);
    }
    if (ref.kind === 'stage') {
      const r = this.results.get(ref.index);
      if (!r) throw new DockerfileError({ file: instr.loc.file, line: instr.loc.line }, instr.kind, `stage ${instr.from} was not built (its name came from a variable the plan could not see)`);
      return { keyPart: { stage: r.key }, layers: r.layers };
    }
    const id = await this.resolveImage(ref.kind === 'image' ? ref.ref : instr.from, instr.loc, instr.kind);
    const rec = this.deps.store.get(id);
    await this.hold(rec.layers);
    return { keyPart: { image: id }, layers: rec.layers };
  }

  private async copyStep(instr: InstructionOf<'COPY' | 'ADD'>, state: StageState): Promise<StageState> {
    const loc = instr.loc;
    const kw = instr.kind;
    for (const s of instr.sources) {
      if (/^[a-z][a-z0-9+.-]*:\/\//iu.test(s) || /^git@/u.test(s)) {
        throw new DockerfileError({ file: loc.file, line: loc.line }, kw, `${kw} from a URL (${s}) is not supported; download it in the context first`);
      }
    }
    if (instr.checksum !== undefined) throw new DockerfileError({ file: loc.file, line: loc.line }, kw, '--checksum applies only to URL sources');
    let chmod: number | undefined;
    if (instr.chmod !== undefined) {
      if (!/^[0-7]{1,4}$/u.test(instr.chmod)) {
        throw new DockerfileError({ file: loc.file, line: loc.line }, kw, `invalid --chmod=${instr.chmod}: expected an octal mode such as 0755`);
      }
      chmod = Number.parseInt(instr.chmod, 8);
    }
    const exclude = instr.exclude.length ? at(loc, kw, () => new IgnoreMatcher(instr.exclude)) : undefined;
    const src = await this.copySource(instr);
    const fromContext = src.layers === undefined;
    const sourceName = fromContext ? 'the build context' : `${instr.from}`;

    const withSourceTree = async <T>(fn: (tree: SourceTree, abs: (p: string) => string) => Promise<T>): Promise<T> => {
      if (fromContext) return fn(this.ctx.tree, (p) => this.ctx.tree.abs(p));
      return this.withView(src.layers as ImageLayer[], async (root) => {
        const tree = new DiskTree(root);
        return fn(tree, (p) => tree.abs(p));
      });
    };

    // The key: for the context, a checksum of exactly what is selected; for a stage or image, its identity.
    let contentKey: unknown = src.keyPart;
    if (fromContext) {
      const matches = at(loc, kw, () => resolveSources({ sources: instr.sources, tree: this.ctx.tree, sourceName, ...(exclude ? { exclude } : {}) }));
      contentKey = contentChecksum(await contextRecords(this.ctx.tree, matches, exclude));
    }
    const key = stepKey(state.key, { ...(describe(instr) as object), content: contentKey });

    return this.cached(state, key, async () => {
      const layer = await withSourceTree(async (tree, abs) => {
        const matches = at(loc, kw, () => resolveSources({ sources: instr.sources, tree, sourceName: fromContext ? 'the build context' : `stage or image ${instr.from}`, ...(exclude ? { exclude } : {}) }));
        const archives = new Map<string, ArchiveCompression>();
        if (kw === 'ADD') {
          for (const m of matches) {
            if (m.entry.type !== 'file') continue;
            const c = await archiveCompression(abs(m.path));
            if (c !== undefined) archives.set(m.path, c);
          }
        }
        return this.withView(state.layers, async (root) => {
          const target = diskLookup(root);
          let chown: { uid: number; gid: number } | undefined;
          if (instr.chown !== undefined) {
            const spec = instr.chown;
            const [passwd, group] = await Promise.all([readText(join(root, 'etc/passwd')), readText(join(root, 'etc/group'))]);
            chown = at(loc, kw, () => resolveChown(spec, passwd, group));
          }
          const ops = at(loc, kw, () =>
            planCopy({
              instruction: kw,
              sources: instr.sources,
              dest: instr.dest,
              workdir: state.config.WorkingDir ?? '/',
              tree,
              target,
              sourceName,
              matches,
              isArchive: (p) => archives.has(p),
              ...(chown ? { chown } : {}),
              ...(chmod !== undefined ? { chmod } : {}),
              ...(exclude ? { exclude } : {}),
            }),
          );
          const tmp = this.tmp;
          let n = 0;
          const items = copyItems(
            ops,
            {
              abs,
              mtime: (p) => (tree.stat(p) as { mtime?: number } | undefined)?.mtime ?? 0,
              archive: async function* (p: string) {
                const dir = join(tmp, `archive-${++n}-${randomBytes(3).toString('hex')}`);
                await mkdir(dir, { recursive: true });
                try {
                  await unpackArchive(abs(p), archives.get(p) ?? 'none', dir);
                  yield* diffItems(dir, join(tmp, 'nonexistent'), join(tmp, 'nonexistent'));
                } finally {
                  await rm(dir, { recursive: true, force: true });
                }
              },
            },
            Math.floor(Date.now() / 1000),
            chown,
          );
          return this.ingest(state, items, `${kw} step ${this.step}`);
        });
      });
      return { ...state, key, layers: [...state.layers, layer], history: this.history(instr, state, false) };
    });
  }
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** The builder the engine keeps: one cache index per data root. */
export class Builder {
  private readonly cache: CacheIndex;

  constructor(private readonly deps: BuilderDeps) {
    this.cache = new CacheIndex(join(deps.root, 'cache.json'));
  }

  async build(opts: BuildOptions): Promise<BuildResult> {
    for (const t of opts.tags) parseReference(t);
    const platform = this.deps.platform ?? hostPlatform();
    const ctx = await openContext(opts.context, opts.dockerfile);
    const plan = planBuild(ctx.dockerfile.text, {
      file: ctx.dockerfile.name,
      buildArgs: opts.buildArgs,
      ...(opts.target !== undefined ? { target: opts.target } : {}),
      platform,
    });
    await mkdir(this.deps.root, { recursive: true, mode: 0o700 });
    await chmod(this.deps.root, 0o700);
    await mkdir(join(this.deps.root, 'tmp'), { recursive: true });
    const tmp = await mkdtemp(join(this.deps.root, 'tmp', 'build-'));
    const lease = this.deps.store.lease();
    try {
      const run = new BuildRun(this.deps, this.cache, opts, ctx, plan, lease, tmp, platform);
      const final = await run.run();
      for (const w of plan.warnings) opts.output(w);
      const config = finalConfig(final, opts.labels, platform);
      const bytes = Buffer.from(JSON.stringify(config));
      const [id] = await this.deps.store.commitImages(lease, [{ config: bytes, configMediaType: MediaType.OciConfig, layers: final.layers, tags: opts.tags }]);
      const imageId = id as Digest;
      opts.output(`Successfully built ${digestHex(imageId).slice(0, 12)}`);
      for (const t of opts.tags) opts.output(`Successfully tagged ${t}`);
      return { imageId };
    } finally {
      lease.release();
      await this.cache.flush().catch(() => undefined);
      await rm(tmp, { recursive: true, force: true });
    }
  }
}

function finalConfig(s: StageState, labels: Record<string, string>, platform: TargetPlatform): ImageConfig {
  const config: ContainerConfig = { ...s.config };
  if (Object.keys(labels).length > 0) config.Labels = { ...(config.Labels ?? {}), ...labels };
  const last = s.history[s.history.length - 1];
  const img: ImageConfig = {
    architecture: s.base.architecture ?? platform.architecture,
    os: s.base.os ?? platform.os,
    ...(s.base.variant ?? platform.variant ? { variant: (s.base.variant ?? platform.variant) as string } : {}),
    // The time of the newest step, so an unchanged rebuild yields the same image ID.
    created: last?.created ?? new Date(0).toISOString(),
    ...(s.author !== undefined ? { author: s.author } : {}),
    config,
    rootfs: { type: 'layers', diff_ids: s.layers.map((l) => l.diffId) },
    history: s.history,
  };
  return img;
}

/** Convenience for the engine: one build with a fresh Builder (the cache is on disk either way). */
export async function build(deps: BuilderDeps, opts: BuildOptions): Promise<BuildResult> {
  return new Builder(deps).build(opts);
}
