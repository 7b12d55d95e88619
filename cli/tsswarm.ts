// tsswarm: the Docker-style CLI. Commands are loaded lazily so that `tsswarm version` stays fast.
import { VERSION, API_VERSION } from '../lib/version.js';

type Command = (argv: string[]) => Promise<number>;

const commands: Record<string, () => Promise<Command>> = {
  version: async () => async () => {
    process.stdout.write(
      `Client:\n Version:     ${VERSION}\n API version: ${API_VERSION}\n Node.js:     ${process.version}\n OS/Arch:     ${process.platform}/${process.arch}\n`,
    );
    return 0;
  },
};

function usage(): string {
  return `Usage: tsswarm COMMAND [OPTIONS]\n\nCommands:\n${Object.keys(commands)
    .sort()
    .map((c) => `  ${c}`)
    .join('\n')}\n`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name ? 0 : 1;
  }
  if (name === '--version' || name === '-v') {
    process.stdout.write(`tsswarm version ${VERSION}\n`);
    return 0;
  }
  const load = commands[name];
  if (!load) {
    process.stderr.write(`tsswarm: '${name}' is not a tsswarm command.\nSee 'tsswarm --help'.\n`);
    return 1;
  }
  return (await load())(rest);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`tsswarm: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
