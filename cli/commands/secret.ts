// `tsswarm secret create|ls|inspect|rm`, with Docker's flags, texts and exit codes. `config` is the
// same command over /configs (config.ts), so both are built here from one description.
import { readFileSync } from 'node:fs';
import type { Config, Secret } from '../../api/swarm.js';
import { FlagError, type FlagSpec } from '../../lib/flags.js';
import { formatInspect, formatList } from '../../lib/format/index.js';
import { CONFIG_TABLE, OBJECT_HEADERS, SECRET_TABLE, labelMap, objectRows, prettyConfig, prettySecret, type ObjectKind } from '../stack/objects.js';
import { bool, client, eachArg, errorLine, filtersParam, group, list, needArgs, parse, parseFilters, str } from './common.js';

/** Docker reads at most twice swarm's 500 KiB limit, so a wrong file is not read whole into memory. */
const MAX_READ = 2 * 500 * 1024;

function readData(file: string, kind: ObjectKind): Buffer {
  const what = file === '-' ? 'STDIN' : file;
  let data: Buffer;
  try {
    data = readFileSync(file === '-' ? 0 : file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(`error reading from ${what}: ${code === 'ENOENT' ? `open ${file}: no such file or directory` : (e as Error).message}`);
  }
  if (data.length === 0) throw new Error(`error reading from ${what}: data is empty`);
  if (data.length > MAX_READ) throw new Error(`error reading from ${what}: the ${kind} is larger than ${MAX_READ} bytes`);
  return data;
}

function labels(items: string[]): Record<string, string> {
  for (const l of items)
    if (l.startsWith('=') || l === '') throw new FlagError(`invalid argument "${l}" for "-l, --label" flag: invalid label '${l}': empty name`);
  return labelMap(items);
}

export function objectCommand(kind: ObjectKind): (argv: string[]) => Promise<number> {
  const plural = `${kind}s`;
  const Kind = kind.toUpperCase();

  const create = async (argv: string[]): Promise<number> => {
    const usage = kind === 'secret' ? 'tsswarm secret create [OPTIONS] SECRET [file|-]' : 'tsswarm config create [OPTIONS] CONFIG file|-';
    const specs: FlagSpec[] = [
      { name: 'label', short: 'l', type: 'list', description: `${kind === 'secret' ? 'Secret' : 'Config'} labels` },
      { name: 'template-driver', type: 'string', description: 'Template driver' },
    ];
    if (kind === 'secret') specs.push({ name: 'driver', short: 'd', type: 'string', description: 'Secret driver' });
    const p = parse(argv, usage, specs);
    if (!p) return 0;
    const min = kind === 'secret' ? 1 : 2;
    needArgs(p, min, `${kind} create`, usage);
    if (p.args.length > 2)
      throw new FlagError(
        `"tsswarm ${kind} create" requires ${kind === 'secret' ? 'at least 1 and at most 2 arguments' : 'exactly 2 arguments'}.\nSee 'tsswarm ${kind} create --help'.\n\nUsage:  ${usage}`,
      );
    const [name, file] = p.args as [string, string | undefined];
    const driver = str(p, 'driver');
    const template = str(p, 'template-driver');
    const spec: Record<string, unknown> = { Name: name, Labels: labels(list(p, 'label')) };
    if (driver) {
      if (file !== undefined) throw new Error('When using secret driver secret data must be empty');
      spec.Driver = { Name: driver };
    } else {
      if (file === undefined) throw new Error('secret file is required');
      spec.Data = readData(file, kind).toString('base64');
    }
    if (template) spec.Templating = { Name: template };
    const r = await client().call<{ ID: string }>(`/${plural}/create`, { method: 'POST', body: spec });
    process.stdout.write(`${r.ID}\n`);
    return 0;
  };

  const ls = async (argv: string[]): Promise<number> => {
    const p = parse(argv, `tsswarm ${kind} ls [OPTIONS]`, [
      { name: 'quiet', short: 'q', type: 'bool', description: 'Only display IDs' },
      { name: 'format', type: 'string', description: 'Format output using a custom template' },
      { name: 'filter', short: 'f', type: 'list', description: 'Filter output based on conditions provided' },
    ]);
    if (!p) return 0;
    const items = await client().call<(Secret | Config)[]>(`/${plural}`, { query: { filters: filtersParam(parseFilters(list(p, 'filter'))) } });
    const rows = objectRows(items, Date.now());
    if (bool(p, 'quiet') && !str(p, 'format')) {
      process.stdout.write(rows.map((r) => `${r.ID}\n`).join(''));
      return 0;
    }
    process.stdout.write(formatList(str(p, 'format'), rows, { defaultTable: kind === 'secret' ? SECRET_TABLE : CONFIG_TABLE, headers: OBJECT_HEADERS }));
    return 0;
  };

  const inspect = async (argv: string[]): Promise<number> => {
    const usage = `tsswarm ${kind} inspect [OPTIONS] ${Kind} [${Kind}...]`;
    const p = parse(argv, usage, [
      { name: 'format', short: 'f', type: 'string', description: 'Format output using a custom template' },
      { name: 'pretty', type: 'bool', description: 'Print the information in a human friendly format' },
    ]);
    if (!p) return 0;
    needArgs(p, 1, `${kind} inspect`, usage);
    if (bool(p, 'pretty') && str(p, 'format')) throw new FlagError('--format is incompatible with human friendly format');
    const found: (Secret | Config)[] = [];
    const errors: string[] = [];
    for (const a of p.args) {
      try {
        found.push(await client().call<Secret | Config>(`/${plural}/${encodeURIComponent(a)}`));
      } catch (e) {
        errors.push(errorLine(e));
      }
    }
    if (bool(p, 'pretty')) process.stdout.write(found.map((o) => `${kind === 'secret' ? prettySecret(o as Secret) : prettyConfig(o as Config)}\n`).join(''));
    else process.stdout.write(formatInspect(str(p, 'format'), found));
    for (const e of errors) process.stderr.write(`${e}\n`);
    return errors.length > 0 ? 1 : 0;
  };

  const rm = async (argv: string[]): Promise<number> => {
    const usage = `tsswarm ${kind} rm ${Kind} [${Kind}...]`;
    const p = parse(argv, usage, []);
    if (!p) return 0;
    needArgs(p, 1, `${kind} rm`, usage);
    return eachArg(p.args, async (a) => {
      await client().call(`/${plural}/${encodeURIComponent(a)}`, { method: 'DELETE' });
      return a;
    });
  };

  return group(kind, { create, ls, list: ls, inspect, rm, remove: rm });
}

export const secret = objectCommand('secret');
export default secret;
