// tscompose: the Compose CLI. Global options are parsed here; each command is imported lazily so
// that start-up stays fast.
import { parseGlobalArgs, UsageError, type GlobalOptions } from './compose/args.js';
import { mark, report } from './compose/timing.js';
import { BROKEN_PIPE_EXIT, exitQuietlyOnBrokenPipe, isBrokenPipe } from './commands/base.js';

// `tscompose logs | head -1`: the reader going away ends us quietly, as it does docker compose.
exitQuietlyOnBrokenPipe();

type Command = (opts: GlobalOptions, argv: string[]) => Promise<number>;

const commands: Record<string, () => Promise<Command>> = {
  config: async () => (await import('./compose/config.js')).configCommand,
  up: async () => (await import('./compose/up.js')).upCommand,
  create: async () => {
    const { upCommand } = await import('./compose/up.js');
    return (o, a) => upCommand(o, a, true);
  },
  down: async () => (await import('./compose/down.js')).downCommand,
  ps: async () => (await import('./compose/ps.js')).psCommand,
  logs: async () => (await import('./compose/logs.js')).logsCommand,
  start: async () => (await import('./compose/lifecycle.js')).simpleCommand('start'),
  stop: async () => (await import('./compose/lifecycle.js')).simpleCommand('stop'),
  restart: async () => (await import('./compose/lifecycle.js')).simpleCommand('restart'),
  kill: async () => (await import('./compose/lifecycle.js')).simpleCommand('kill'),
  pause: async () => (await import('./compose/lifecycle.js')).simpleCommand('pause'),
  unpause: async () => (await import('./compose/lifecycle.js')).simpleCommand('unpause'),
  rm: async () => (await import('./compose/lifecycle.js')).rmCommand,
  exec: async () => (await import('./compose/lifecycle.js')).execCommand,
  run: async () => (await import('./compose/lifecycle.js')).runCommand,
  port: async () => (await import('./compose/lifecycle.js')).portCommand,
  top: async () => (await import('./compose/lifecycle.js')).topCommand,
  images: async () => (await import('./compose/lifecycle.js')).imagesCommand,
  ls: async () => (await import('./compose/lifecycle.js')).lsCommand,
  pull: async () => (await import('./compose/lifecycle.js')).pullCommand,
  push: async () => (await import('./compose/lifecycle.js')).pushCommand,
  build: async () => (await import('./compose/lifecycle.js')).buildCommand,
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
  mark('nodeStartAndEntry');
  const command = await load();
  mark('commandModules');
  return command(options, args);
}

main(process.argv.slice(2)).then(
  (code) => {
    report();
    process.exit(code);
  },
  (err: unknown) => {
    if (isBrokenPipe(err)) process.exit(BROKEN_PIPE_EXIT);
    if (err instanceof Error && err.name === 'CommandError') {
      process.stderr.write(`${err.message}\n`);
      process.exit((err as Error & { code?: number }).code ?? 1);
    }
    if (err instanceof UsageError) {
      process.stderr.write(`tscompose: ${err.message}\nSee 'tscompose --help'.\n`);
      process.exit(2);
    }
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
