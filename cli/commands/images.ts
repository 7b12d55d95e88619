// Image commands: load, save, images / image ls, image inspect, rmi / image rm, tag, pull, push, image prune.
import { createReadStream, createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { FlagError } from '../../lib/flags.js';
import { formatInspect, formatList } from '../../lib/format/index.js';
import { humanSize, timeAgo } from '../../lib/units.js';
import type { ImageSummary } from '../../api/images.js';
import { DaemonError } from '../client.js';
import { dockerTime } from './base.js';
import { body, bool, client, eachArg, enc, filtersParam, list, needArgs, parse, parseFilters, str } from './common.js';

export async function load(argv: string[]): Promise<number> {
  const p = parse(argv, 'tsswarm load [OPTIONS]', [
    { name: 'input', short: 'i', type: 'string', description: 'Read from tar archive file, instead of STDIN' },
    { name: 'quiet', short: 'q', type: 'bool', description: 'Suppress the load output' },
  ]);
  if (!p) return 0;
  const file = str(p, 'input');
  const input = file ? createReadStream(file) : process.stdin;
  if (file) await new Promise<void>((resolve, reject) => input.once('open', () => resolve()).once('error', (e: Error) => reject(new Error(`open ${file}: ${e.message} (-i, --input)`))));
  const res = await client().rawStream('/images/load', input);
  const text = await body(res);
  if (!bool(p, 'quiet')) {
    for (const line of text.split('\n').filter(Boolean)) process.stdout.write((JSON.parse(line) as { stream?: string }).stream ?? '');
  }
  return 0;
}

export async function save(argv: string[]): Promise<number> {
  const usage = 'tsswarm save [OPTIONS] IMAGE [IMAGE...]';
  const p = parse(argv, usage, [{ name: 'output', short: 'o', type: 'string', description: 'Write to a file, instead of STDOUT' }]);
  if (!p) return 0;
  needArgs(p, 1, 'save', usage);
  const out = str(p, 'output');
  if (!out && process.stdout.isTTY) throw new FlagError('cowardly refusing to save to a terminal. Use the -o flag or redirect');
  const qs = p.args.map((n) => `names=${enc(n)}`).join('&');
  const res = await client().raw(`/images/get?${qs}`);
  if ((res.statusCode ?? 0) >= 400) await body(res);
  await pipeline(res, out ? createWriteStream(out) : process.stdout);
  return 0;
}

export async function images(argv: string[]): Promise<number> {
  const p = parse(argv, 'tsswarm images [OPTIONS] [REPOSITORY[:TAG]]', [
    { name: 'all', short: 'a', type: 'bool', description: 'Show all images' },
    { name: 'quiet', short: 'q', type: 'bool', description: 'Only show image IDs' },
    { name: 'format', type: 'string', description: 'Format output using a custom template' },
    { name: 'filter', short: 'f', type: 'list', description: 'Filter output based on conditions provided' },
    { name: 'no-trunc', type: 'bool', description: "Don't truncate output" },
  ]);
  if (!p) return 0;
  const filters = parseFilters(list(p, 'filter'));
  if (p.args[0]) (filters.reference ??= []).push(p.args[0]);
  const summaries = await client().call<ImageSummary[]>('/images/json', { query: { all: bool(p, 'all') ? 1 : undefined, filters: filtersParam(filters) } });
  const now = Date.now();
  const noTrunc = bool(p, 'no-trunc');
  const rows = summaries.flatMap((i) => {
    const tags = i.RepoTags.length ? i.RepoTags : ['<none>:<none>'];
    return tags.map((t) => {
      const at = t.lastIndexOf(':');
      return {
        Repository: t.slice(0, at),
        Tag: t.slice(at + 1),
        ID: noTrunc ? i.Id : i.Id.slice(7, 19),
        Digest: i.RepoDigests[0]?.split('@')[1] ?? '<none>',
        CreatedSince: timeAgo(i.Created * 1000, now),
        CreatedAt: dockerTime(i.Created),
        Size: humanSize(i.Size),
        // The rest of Docker's ImageContext fields, so a template naming them is not an error.
        VirtualSize: humanSize(i.Size),
        Containers: 'N/A',
        SharedSize: 'N/A',
        UniqueSize: 'N/A',
      };
    });
  });
  if (bool(p, 'quiet') && !str(p, 'format')) {
    process.stdout.write([...new Set(rows.map((r) => r.ID))].map((r) => `${r}\n`).join(''));
    return 0;
  }
  process.stdout.write(
    formatList(str(p, 'format'), rows, {
      defaultTable: 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}',
      headers: { ID: 'IMAGE ID', CreatedSince: 'CREATED' },
      rowType: '*formatter.ImageContext',
    }),
  );
  return 0;
}

export async function inspect(argv: string[]): Promise<number> {
  const usage = 'tsswarm image inspect [OPTIONS] IMAGE [IMAGE...]';
  const p = parse(argv, usage, [{ name: 'format', short: 'f', type: 'string', description: 'Format output using a custom template' }]);
  if (!p) return 0;
  needArgs(p, 1, 'image inspect', usage);
  const c = client();
  const items: unknown[] = [];
  let code = 0;
  for (const a of p.args) {
    try {
      items.push(await c.call(`/images/${enc(a)}/json`));
    } catch (e) {
      process.stderr.write(`Error: ${(e as Error).message}\n`);
      code = 1;
    }
  }
  if (items.length) process.stdout.write(formatInspect(str(p, 'format'), items));
  return code;
}

export async function rmi(argv: string[]): Promise<number> {
  const usage = 'tsswarm rmi [OPTIONS] IMAGE [IMAGE...]';
  const p = parse(argv, usage, [{ name: 'force', short: 'f', type: 'bool', description: 'Force removal of the image' }]);
  if (!p) return 0;
  needArgs(p, 1, 'rmi', usage);
  const c = client();
  return eachArg(p.args, async (a) => {
    const r = await c.call<{ Untagged?: string; Deleted?: string }[]>(`/images/${enc(a)}`, { method: 'DELETE', query: { force: bool(p, 'force') ? 1 : undefined } });
    return r.map((x) => (x.Untagged ? `Untagged: ${x.Untagged}` : `Deleted: ${x.Deleted}`)).join('\n');
  });
}

export async function tag(argv: string[]): Promise<number> {
  const usage = 'tsswarm tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]';
  const p = parse(argv, usage, []);
  if (!p) return 0;
  needArgs(p, 2, 'tag', usage);
  await client().call(`/images/${enc(p.args[0]!)}/tag`, { method: 'POST', query: { repo: p.args[1] } });
  return 0;
}

/**
 * Prints a pull/push JSON-message stream. An error before anything was printed is the daemon refusing
 * the request (Docker's daemon answers those with an HTTP error: "Error response from daemon: …"); one
 * after progress began is printed bare, as Docker's CLI prints a stream's error.
 */
async function progress(path: string, query: Record<string, string | undefined>, quiet: boolean, headers: Record<string, string> = {}): Promise<number> {
  const res = await client().raw(path, { method: 'POST', query, headers });
  if ((res.statusCode ?? 0) >= 400) await body(res);
  let rest = '';
  let code = 0;
  let started = false;
  for await (const chunk of res) {
    const lines = (rest + (chunk as Buffer).toString()).split('\n');
    rest = lines.pop() ?? '';
    for (const l of lines.filter(Boolean)) {
      const m = JSON.parse(l) as { status?: string; id?: string; error?: string };
      if (m.error) {
        process.stderr.write(`${started ? '' : 'Error response from daemon: '}${m.error}\n`);
        code = 1;
      } else if (m.status) {
        started = true;
        if (!quiet && (!m.id || !/^(Downloading|Uploading|Extracting)/.test(m.status))) process.stdout.write(`${m.id ? `${m.id}: ` : ''}${m.status}\n`);
      }
    }
  }
  return code;
}

/**
 * NAME[:TAG|@DIGEST] split as Docker's CLI sends it (repository, and the tag or digest apart), the tag
 * defaulting to "latest", so that the daemon's summary names the tag it worked on.
 */
function splitReference(name: string): { repo: string; tag: string; defaulted: boolean; digest: boolean } {
  const at = name.indexOf('@');
  if (at >= 0) return { repo: name.slice(0, at), tag: name.slice(at + 1), defaulted: false, digest: true };
  const colon = name.lastIndexOf(':');
  if (colon > name.lastIndexOf('/')) return { repo: name.slice(0, colon), tag: name.slice(colon + 1), defaulted: false, digest: false };
  return { repo: name, tag: 'latest', defaulted: true, digest: false };
}

export async function pull(argv: string[]): Promise<number> {
  const usage = 'tsswarm pull [OPTIONS] NAME[:TAG|@DIGEST]';
  const p = parse(argv, usage, [{ name: 'quiet', short: 'q', type: 'bool', description: 'Suppress verbose output' }]);
  if (!p) return 0;
  needArgs(p, 1, 'pull', usage);
  const name = p.args[0]!;
  const auth = await (await import('./login.js')).registryAuthHeader(name);
  const ref = splitReference(name);
  const quiet = bool(p, 'quiet');
  if (ref.defaulted && !quiet) process.stdout.write('Using default tag: latest\n');
  const code = await progress('/images/create', { fromImage: ref.repo, tag: ref.tag }, quiet, auth);
  if (code === 0 && quiet) process.stdout.write(`${ref.digest ? `${ref.repo}@${ref.tag}` : `${ref.repo}:${ref.tag}`}\n`);
  return code;
}

export async function push(argv: string[]): Promise<number> {
  const usage = 'tsswarm push [OPTIONS] NAME[:TAG]';
  const p = parse(argv, usage, [{ name: 'quiet', short: 'q', type: 'bool', description: 'Suppress verbose output' }]);
  if (!p) return 0;
  needArgs(p, 1, 'push', usage);
  const name = p.args[0]!;
  const auth = await (await import('./login.js')).registryAuthHeader(name);
  const ref = splitReference(name);
  if (ref.defaulted && !bool(p, 'quiet')) process.stdout.write('Using default tag: latest\n');
  // The tag goes apart (as Docker's CLI sends it): the daemon names it in its "TAG: digest:" line.
  const [path, query] = ref.digest ? [`/images/${enc(name)}/push`, {}] : [`/images/${enc(ref.repo)}/push`, { tag: ref.tag }];
  try {
    return await progress(path, query, bool(p, 'quiet'), auth);
  } catch (e) {
    // The daemon answers 404 when the image is not here; Docker says so in these words, in the stream
    // after naming the repository.
    if (!(e instanceof DaemonError) || e.status !== 404) throw e;
    const { parseReference, repositoryName, familiarRepository } = await import('../../image/reference.js');
    const r = parseReference(name);
    if (!bool(p, 'quiet')) process.stdout.write(`The push refers to repository [${repositoryName(r)}]\n`);
    process.stderr.write(`An image does not exist locally with the tag: ${familiarRepository(r)}\n`);
    return 1;
  }
}

export async function prune(argv: string[]): Promise<number> {
  const p = parse(argv, 'tsswarm image prune [OPTIONS]', [
    { name: 'all', short: 'a', type: 'bool', description: 'Remove all unused images, not just dangling ones' },
    { name: 'force', short: 'f', type: 'bool', description: 'Do not prompt for confirmation' },
  ]);
  if (!p) return 0;
  const r = await client().call<{ ImagesDeleted: { Untagged?: string; Deleted?: string }[] | null; SpaceReclaimed: number }>('/images/prune', {
    method: 'POST',
    query: { filters: bool(p, 'all') ? JSON.stringify({ dangling: ['false'] }) : undefined },
  });
  for (const x of r.ImagesDeleted ?? []) process.stdout.write(x.Untagged ? `untagged: ${x.Untagged}\n` : `deleted: ${x.Deleted}\n`);
  process.stdout.write(`Total reclaimed space: ${humanSize(r.SpaceReclaimed)}\n`);
  return 0;
}

/** `tsswarm image SUBCOMMAND`. */
export default async function image(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const table: Record<string, (a: string[]) => Promise<number>> = { ls: images, list: images, inspect, rm: rmi, remove: rmi, load, save, tag, pull, push, prune, build: async (a) => (await import('./build.js')).default(a), history: async (a) => (await import('./history.js')).default(a) };
  const fn = sub ? table[sub] : undefined;
  if (!fn) {
    process.stderr.write(`Usage:  tsswarm image COMMAND\n\nCommands: ${Object.keys(table).join(', ')}\n`);
    return sub ? 1 : 0;
  }
  return fn(rest);
}
