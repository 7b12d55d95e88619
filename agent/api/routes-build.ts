// Engine API: POST /build. The body is the build context as a tar (plain or gzip), the options are
// query parameters (Docker's names), and the answer streams JSON lines: {"stream": …} for each line of
// output, {"aux": {"ID": …}} for the result and {"error": …, "errorDetail": {…}} when the build fails.
import { lstat, mkdir, readFile, realpath, rm } from 'node:fs/promises';
import { dirname, isAbsolute, join, posix, relative, sep } from 'node:path';
import type { ServerResponse } from 'node:http';
import { ApiError, HANDLED, badRequest, type Router, truthy } from './router.js';
import type { Engine } from '../engine.js';
import { Builder, BuildError, DockerfileError, hostPlatform, planBuild, runtimeExecutor } from '../../image/build/index.js';
import { InvalidReferenceError, NoSuchImageError } from '../../image/index.js';
import { parseReference } from '../../image/reference.js';
import { pullImage } from '../../image/registry/pull.js';
import { processLayerStream, UnsafeLayerError } from '../../image/unpack.js';


/** A JSON object of strings from a query parameter; `null` values (Docker: "unset") are dropped. */
function stringMap(query: URLSearchParams, name: string): Record<string, string> {
  const raw = query.get(name);
  if (raw === null || raw === '') return {};
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch (err) {
    throw badRequest(`build: query parameter ${name} is not valid JSON: ${(err as Error).message}`);
  }
  if (v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw badRequest(`build: query parameter ${name} must be a JSON object of strings`);
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (x === null) continue;
    if (typeof x !== 'string') throw badRequest(`build: ${name}: the value of ${JSON.stringify(k)} must be a string`);
    out[k] = x;
  }
  return out;
}

/**
 * The Dockerfile path inside the context. It is read by the daemon, so neither the name nor a symlink
 * in the uploaded context may point at a file outside it (e.g. the daemon host's /etc/shadow).
 */
async function dockerfileIn(context: string, name: string): Promise<string> {
  const norm = posix.normalize(name.replace(/\\/gu, '/'));
  if (isAbsolute(norm) || norm === '..' || norm.startsWith('../')) {
    throw badRequest(`build: dockerfile ${JSON.stringify(name)} must be a path inside the build context`);
  }
  const path = join(context, norm);
  const st = await lstat(path).catch(() => undefined);
  // A missing file is the builder's error to report (it names the path and suggests -f).
  if (!st) return norm;
  const real = await realpath(path).catch(() => path);
  const rel = relative(await realpath(context), real);
  if (rel.startsWith(`..${sep}`) || rel === '..' || isAbsolute(rel)) {
    throw badRequest(`build: dockerfile ${JSON.stringify(name)} resolves to a path outside the build context`);
  }
  return norm;
}

function errorLine(res: ServerResponse, message: string): void {
  res.write(JSON.stringify({ error: message, errorDetail: { message } }) + '\n');
}

export function buildRoutes(router: Router, e: Engine): void {
  const images = e.images;
  const insecureRegistries = (process.env.TSSWARM_INSECURE_REGISTRIES ?? '').split(',').filter(Boolean);
  const pull = async (ref: string, output: (line: string) => void): Promise<void> => {
    output(`Pulling ${ref}`);
    const r = await pullImage(images, ref, { insecureRegistries });
    output(`Digest: ${r.digest}`);
  };
  const BUILDKIT_UNSUPPORTED = 'BuildKit is not supported by this daemon (build version 2, /session): build with the legacy builder (DOCKER_BUILDKIT=0, which is also the default against this daemon)';
  // One builder for the daemon: its cache index lives in <data-root>/build and is shared by all builds.
  const builder = new Builder({ store: images, executor: runtimeExecutor(e.runtime), root: join(dirname(images.root), 'build'), pull });

  // Without BuildKit (/_ping says Builder-Version 1) the CLI builds the legacy way; a client that
  // insists on BuildKit (DOCKER_BUILDKIT=1, buildx) gets an answer it reports as it is.
  router.post('/session', async () => {
    throw badRequest(BUILDKIT_UNSUPPORTED);
  });

  router.post('/build', async ({ req, res, query }) => {
    if (query.get('version') === '2') {
      req.resume();
      throw badRequest(BUILDKIT_UNSUPPORTED);
    }
    const tags = query.getAll('t').filter((t) => t !== '');
    for (const t of tags) {
      try {
        parseReference(t);
      } catch (err) {
        if (err instanceof InvalidReferenceError) throw badRequest(`build: invalid tag ${JSON.stringify(t)}: ${err.message}`);
        throw err;
      }
    }
    const buildArgs = stringMap(query, 'buildargs');
    const labels = stringMap(query, 'labels');
    const target = query.get('target') || undefined;
    const quiet = truthy(query.get('q'));
    const dir = await images.tempDir('build-');
    try {
      const context = join(dir, 'context');
      await mkdir(context);
      try {
        // tsunpack refuses entries that would escape the directory (.., absolute names, links out).
        await processLayerStream(req, { unpackDir: context, what: 'build context', plain: true });
      } catch (err) {
        const msg = err instanceof Error ? err.message : String(err);
        throw new ApiError(400, err instanceof UnsafeLayerError ? msg : `build: cannot unpack the build context (a tar, optionally gzip): ${msg}`);
      }
      const dockerfile = await dockerfileIn(context, query.get('dockerfile') || 'Dockerfile');

      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.flushHeaders();
      // A client that goes away mid-build must not take the daemon down with an unhandled write error;
      // the build runs to its end (its layers are cached for the next try).
      res.on('error', () => undefined);
      const output = (line: string): void => {
        if (!quiet) res.write(JSON.stringify({ stream: `${line}\n` }) + '\n');
      };
      try {
        if (truthy(query.get('pull'))) await pullBases(context, dockerfile, buildArgs, target, (ref) => pull(ref, output));
        const r = await builder.build({ context, dockerfile, tags, buildArgs, ...(target ? { target } : {}), noCache: truthy(query.get('nocache')), labels, output });
        res.write(JSON.stringify({ aux: { ID: r.imageId } }) + '\n');
      } catch (err) {
        // The build's own errors name the Dockerfile line; anything else is unexpected, so say so.
        const known = err instanceof DockerfileError || err instanceof BuildError || err instanceof NoSuchImageError;
        errorLine(res, known ? (err as Error).message : `build failed: ${err instanceof Error ? err.message : String(err)}`);
      }
      res.end();
      return HANDLED;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
}

/**
 * `pull=1`: fetch every base image named by FROM before building, even when present. A Dockerfile the
 * planner rejects is left for the build itself to report with its line.
 */
async function pullBases(context: string, dockerfile: string, buildArgs: Record<string, string>, target: string | undefined, pull: (ref: string) => Promise<void>): Promise<void> {
  const text = await readFile(join(context, dockerfile), 'utf8').catch(() => undefined);
  if (text === undefined) return;
  let refs: string[];
  try {
    const plan = planBuild(text, { file: dockerfile, buildArgs, ...(target ? { target } : {}), platform: hostPlatform() });
    refs = plan.order.flatMap((i) => {
      const b = plan.stages[i]?.base;
      return b?.kind === 'image' ? [b.ref] : [];
    });
  } catch {
    return;
  }
  for (const ref of new Set(refs)) await pull(ref);
}
