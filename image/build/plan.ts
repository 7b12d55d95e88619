// The stage graph of a Dockerfile: global ARGs, stages (`FROM … AS name`), what each stage's base is
// (scratch, an image, an earlier stage), which stages it copies from, and which stages a build of
// `--target` needs — in the order to build them, with the step count for `Step N/M` output.

import { DockerfileError } from './errors.js';
import { ArgScope, at, platformArgs, PROXY_ARGS } from './expand.js';
import { parseInstructions, type Instruction, type InstructionOf } from './instructions.js';
import { parseDockerfile, type Directives } from './parse.js';
import { processWord } from './shell-lex.js';

export interface TargetPlatform {
  os: string;
  architecture: string;
  variant?: string;
}

export type BaseRef = { kind: 'scratch' } | { kind: 'stage'; index: number } | { kind: 'image'; ref: string };

export interface Stage {
  index: number;
  /** Lower-cased `AS` name. */
  name?: string;
  from: InstructionOf<'FROM'>;
  base: BaseRef;
  /** FROM --platform after expansion, if given. */
  platform?: string;
  /** Instructions after FROM. */
  body: Instruction[];
  /** Stages this one needs built first (its base and its COPY --from sources). */
  deps: number[];
}

export interface BuildPlan {
  file: string;
  directives: Directives;
  /** Global-scope ARGs with their values (build args applied), which `ARG X` in a stage inherits. */
  globalArgs: Map<string, string | undefined>;
  stages: Stage[];
  /** The stage whose result is the image. */
  target: number;
  /** Stages to build, dependencies first. */
  order: number[];
  /** Steps in the stages to build (FROM counts), for `Step N/M`. */
  totalSteps: number;
  warnings: string[];
}

export interface PlanOptions {
  file?: string;
  buildArgs?: Readonly<Record<string, string>>;
  target?: string;
  platform?: TargetPlatform;
}

export const DEFAULT_PLATFORM: TargetPlatform = { os: 'linux', architecture: 'amd64' };

/** A COPY --from value: a stage by name or index (earlier than `current`), otherwise an image name. */
export function resolveFromRef(value: string, stages: readonly Pick<Stage, 'index' | 'name'>[], current: number): BaseRef {
  const lower = value.toLowerCase();
  const byName = stages.find((s) => s.name === lower);
  if (byName) {
    if (byName.index >= current) {
      throw new Error(
        byName.index === current ? `stage ${JSON.stringify(value)} cannot copy from itself` : `stage ${JSON.stringify(value)} is defined later in the Dockerfile; move it above`,
      );
    }
    return { kind: 'stage', index: byName.index };
  }
  if (/^\d+$/u.test(value)) {
    const n = Number.parseInt(value, 10);
    if (n >= current) throw new Error(`--from=${value} refers to stage ${n}, but only stages 0..${current - 1} come before this one`);
    return { kind: 'stage', index: n };
  }
  return { kind: 'image', ref: value };
}

export function planBuild(text: string, opts: PlanOptions = {}): BuildPlan {
  const file = opts.file ?? 'Dockerfile';
  const parsed = parseDockerfile(text, file);
  const escape = parsed.directives.escape;
  const instrs = parseInstructions(parsed);
  const buildArgs = opts.buildArgs ?? {};
  const platform = opts.platform ?? DEFAULT_PLATFORM;
  const auto = platformArgs(platform);
  const declared = new Set<string>();
  const warnings = [...parsed.warnings];

  const global = new ArgScope(buildArgs, auto, escape, declared);
  const stages: Stage[] = [];
  let i = 0;
  for (; i < instrs.length; i++) {
    const ins = instrs[i] as Instruction;
    if (ins.kind === 'FROM') break;
    if (ins.kind !== 'ARG') {
      throw new DockerfileError(
        { file, line: ins.loc.line },
        ins.kind,
        'no build stage in current context: a Dockerfile must start with FROM (only ARG and comments may come before it)',
      );
    }
    at(ins.loc, 'ARG', () => global.declare(ins.args, (n) => auto.get(n)));
  }
  const globalArgs = global.snapshot();
  const globalLookup = (n: string): string | undefined => globalArgs.get(n) ?? auto.get(n);
  const inherited = new Map<string, string | undefined>([...auto, ...globalArgs]);

  for (; i < instrs.length; i++) {
    const ins = instrs[i] as Instruction;
    if (ins.kind === 'FROM') {
      const index = stages.length;
      const image = at(ins.loc, 'FROM', () => processWord(ins.image, globalLookup, escape).value);
      if (image === '') {
        throw new DockerfileError({ file, line: ins.loc.line }, 'FROM', `base name (${ins.image}) should not be blank; set it with --build-arg or an ARG default`);
      }
      if (ins.stageName !== undefined && stages.some((s) => s.name === ins.stageName)) {
        throw new DockerfileError({ file, line: ins.loc.line }, 'FROM', `duplicate stage name ${JSON.stringify(ins.stageName)}`);
      }
      const earlier = stages.find((s) => s.name === image.toLowerCase());
      const base: BaseRef =
        image.toLowerCase() === 'scratch' ? { kind: 'scratch' } : earlier ? { kind: 'stage', index: earlier.index } : { kind: 'image', ref: image };
      const stage: Stage = { index, from: ins, base, body: [], deps: base.kind === 'stage' ? [base.index] : [] };
      if (ins.stageName !== undefined) stage.name = ins.stageName;
      if (ins.platform !== undefined) {
        const p = ins.platform;
        stage.platform = at(ins.loc, 'FROM', () => processWord(p, globalLookup, escape).value);
      }
      stages.push(stage);
      continue;
    }
    (stages[stages.length - 1] as Stage).body.push(ins);
  }

  // COPY --from dependencies, with the stage's ARGs as far as they are known without running it.
  for (const stage of stages) {
    const scope = new ArgScope(buildArgs, inherited, escape, declared);
    for (const ins of stage.body) {
      if (ins.kind === 'ARG') at(ins.loc, 'ARG', () => scope.declare(ins.args));
      if ((ins.kind === 'COPY' || ins.kind === 'ADD') && ins.from !== undefined) {
        const raw = ins.from;
        const value = at(ins.loc, ins.kind, () => processWord(raw, (n) => scope.get(n), escape).value);
        let ref: BaseRef;
        try {
          ref = resolveFromRef(value, stages, stage.index);
        } catch (err) {
          throw new DockerfileError({ file, line: ins.loc.line }, ins.kind, (err as Error).message);
        }
        if (ref.kind === 'stage' && !stage.deps.includes(ref.index)) stage.deps.push(ref.index);
      }
    }
  }

  let target = stages.length - 1;
  if (opts.target !== undefined && opts.target !== '') {
    const t = stages.find((s) => s.name === opts.target?.toLowerCase());
    if (!t) {
      const names = stages.flatMap((s) => (s.name ? [s.name] : []));
      throw new DockerfileError(
        { file, line: 0 },
        undefined,
        `target stage ${JSON.stringify(opts.target)} could not be found${names.length ? ` (stages: ${names.join(', ')})` : ' (no stage is named; use FROM … AS NAME)'}`,
      );
    }
    target = t.index;
  }

  const needed = new Set<number>();
  const visit = (n: number): void => {
    if (needed.has(n)) return;
    needed.add(n);
    for (const d of (stages[n] as Stage).deps) visit(d);
  };
  visit(target);
  const order = [...needed].sort((a, b) => a - b);
  const totalSteps = order.reduce((sum, n) => sum + 1 + (stages[n] as Stage).body.length, 0);

  const unused = Object.keys(buildArgs).filter((k) => !declared.has(k) && !PROXY_ARGS.has(k) && !auto.has(k));
  if (unused.length > 0) warnings.push(`[Warning] One or more build-args [${unused.sort().join(' ')}] were not consumed`);

  return { file, directives: parsed.directives, globalArgs, stages, target, order, totalSteps, warnings };
}
