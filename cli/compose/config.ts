// `tscompose config`: loads, validates and prints the normalised model (or parts of it).
import { stringify } from 'yaml';
import { loadProject, toPrintable, ComposeError } from '../../compose-spec/index.js';
import { parseFlags, UsageError, type GlobalOptions } from './args.js';
import { loadOptions } from './project.js';

export interface Output {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

const FLAGS = {
  services: { names: ['--services'], value: false },
  volumes: { names: ['--volumes'], value: false },
  networks: { names: ['--networks'], value: false },
  profiles: { names: ['--profiles'], value: false },
  images: { names: ['--images'], value: false },
  format: { names: ['--format'], value: true },
  quiet: { names: ['-q', '--quiet'], value: false },
  output: { names: ['-o', '--output'], value: true },
  help: { names: ['-h', '--help'], value: false },
};

const HELP = `Usage: tscompose config [OPTIONS] [SERVICE...]

Parse, resolve and render the compose file in canonical format.

Options:
      --format yaml|json   Output format (default yaml)
      --services           Print the service names, one per line
      --volumes            Print the volume names, one per line
      --networks           Print the network names, one per line
      --profiles           Print the profile names, one per line
      --images             Print the image names, one per line
  -q, --quiet              Only validate the configuration, print nothing
`;

export async function runConfig(global: GlobalOptions, argv: string[], out: Output, cwd = process.cwd(), env: Record<string, string | undefined> = process.env): Promise<number> {
  const { parsed } = parseFlags(argv, FLAGS, false);
  if (parsed.values.has('help')) {
    out.stdout(HELP);
    return 0;
  }
  const format = parsed.values.get('format')?.at(-1) ?? 'yaml';
  if (format !== 'yaml' && format !== 'json') throw new UsageError(`unsupported format '${format}': use yaml or json`);
  let result;
  try {
    result = loadProject({ ...loadOptions(global, cwd, env), services: parsed.positional.length > 0 ? parsed.positional : undefined });
  } catch (e) {
    if (e instanceof ComposeError) {
      out.stderr(`${e.message}\n`);
      return 1;
    }
    throw e;
  }
  for (const w of result.warnings) out.stderr(`WARN ${w}\n`);
  const { project } = result;
  const lines = (list: string[]) => out.stdout(list.length > 0 ? `${list.join('\n')}\n` : '');
  if (parsed.values.has('quiet')) return 0;
  if (parsed.values.has('services')) lines(Object.keys(project.services).sort());
  else if (parsed.values.has('volumes')) lines(Object.keys(project.volumes).sort());
  else if (parsed.values.has('networks')) lines(Object.keys(project.networks).sort());
  else if (parsed.values.has('profiles')) {
    const all = new Set<string>();
    for (const s of Object.values(project.services)) s.profiles.forEach((p) => all.add(p));
    lines([...all].sort());
  } else if (parsed.values.has('images')) {
    lines(Object.values(project.services).map((s) => s.image ?? `${project.name}-${s.name}`).sort());
  } else {
    const printable = toPrintable(project);
    const text = format === 'json' ? `${JSON.stringify(printable, null, 2)}\n` : stringify(printable, { lineWidth: 0, aliasDuplicateObjects: false });
    const outFile = parsed.values.get('output')?.at(-1);
    if (outFile) {
      const { writeFileSync } = await import('node:fs');
      writeFileSync(outFile, text);
    } else out.stdout(text);
  }
  return 0;
}

export async function configCommand(global: GlobalOptions, argv: string[]): Promise<number> {
  return runConfig(global, argv, { stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s) });
}
