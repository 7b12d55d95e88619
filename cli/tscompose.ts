// tscompose: the Compose CLI. Global options are parsed here; each command is imported lazily so
// that start-up stays fast.
import { parseGlobalArgs, UsageError, type GlobalOptions } from './compose/args.js';

type Command = (opts: GlobalOptions, argv: string[]) => Promise<number>;

const commands: Record<string, () => Promise<Command>> = {
  config: async () => (await import('./compose/config.js')).configCommand,
};

function usage(): string {
  return `Usage: tscompose [OPTIONS] COMMAND

Options:
  -f, --file FILE             Compose file (repeatable)
  -p, --project-name NAME     Project name
      --project-directory DIR Project directory (default: directory of the first file)
      --env-file FILE         Environment file (repeatable)
      --profile NAME          Profile to enable (repeatable)

Commands:
${Object.keys(commands)
  .sort()
  .map((c) => `  ${c}`)
  .join('\n')}
`;
}

async function main(argv: string[]): Promise<number> {
  const { options, rest } = parseGlobalArgs(argv);
  const [name, ...args] = rest;
  if (!name || name === 'help' || options.help) {
    process.stdout.write(usage());
    return name || options.help ? 0 : 1;
  }
  const load = commands[name];
  if (!load) {
    process.stderr.write(`tscompose: '${name}' is not a tscompose command.\nSee 'tscompose --help'.\n`);
    return 1;
  }
  return (await load())(options, args);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError) {
      process.stderr.write(`tscompose: ${err.message}\nSee 'tscompose --help'.\n`);
      process.exit(2);
    }
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
