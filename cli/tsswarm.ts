// tsswarm: the Docker-style CLI. Each command lives in its own module, loaded only when used, so that
// `tsswarm version` stays fast.
import { VERSION } from '../lib/version.js';
import { FlagError } from '../lib/flags.js';

type Command = (argv: string[]) => Promise<number>;

const commands: Record<string, { load: () => Promise<{ default: Command }>; help: string }> = {
  daemon: { load: () => import('./commands/daemon.js'), help: 'Run the engine daemon in the foreground' },
  info: { load: () => import('./commands/info.js'), help: 'Display system-wide information' },
  version: { load: () => import('./commands/version.js'), help: 'Show the client and daemon versions' },
};

function usage(): string {
  const width = Math.max(...Object.keys(commands).map((c) => c.length)) + 2;
  return `Usage:  tsswarm [OPTIONS] COMMAND\n\nA container engine and Swarm-style orchestrator.\n\nCommands:\n${Object.entries(commands)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([c, { help }]) => `  ${c.padEnd(width)}${help}`)
    .join('\n')}\n\nRun 'tsswarm COMMAND --help' for more information on a command.\n`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    (name ? process.stdout : process.stderr).write(usage());
    return name ? 0 : 1;
  }
  if (name === '--version' || name === '-v') {
    process.stdout.write(`tsswarm version ${VERSION}\n`);
    return 0;
  }
  const cmd = commands[name];
  if (!cmd) {
    process.stderr.write(`tsswarm: '${name}' is not a tsswarm command.\nSee 'tsswarm --help'.\n`);
    return 1;
  }
  return (await cmd.load()).default(rest);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    const msg = err instanceof Error ? err.message : String(err);
    process.stderr.write(`tsswarm: ${msg}\n`);
    // Docker exits 125 when the error is the CLI's own (bad flags), 1 otherwise.
    process.exit(err instanceof FlagError ? 125 : 1);
  },
);
