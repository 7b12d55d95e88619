// tsswarm: the Docker-style CLI. Each command lives in its own module, loaded only when used, so that
// `tsswarm version` stays fast; bundled, each is one self-contained file (scripts/build.mjs). Keep this
// file's static imports to what every command needs.
import { VERSION } from '../lib/version.js';
import { BROKEN_PIPE_EXIT, errorLine, exitQuietlyOnBrokenPipe, isBrokenPipe } from './commands/base.js';

type Command = (argv: string[]) => Promise<number>;

type Entry = { load: () => Promise<{ default: Command }>; help: string };
const containers = (name: keyof typeof import('./commands/containers.js'), help: string): Entry => ({
  load: () => import('./commands/containers.js').then((m) => ({ default: m[name] })),
  help,
});
const imagesCmd = (name: keyof typeof import('./commands/images.js'), help: string): Entry => ({
  load: () => import('./commands/images.js').then((m) => ({ default: m[name] })),
  help,
});
const objects = (name: 'network' | 'volume' | 'system', help: string): Entry => ({
  load: () => import('./commands/objects.js').then((m) => ({ default: m[name] })),
  help,
});

const commands: Record<string, Entry> = {
  daemon: { load: () => import('./commands/daemon.js'), help: 'Run the engine daemon in the foreground' },
  info: { load: () => import('./commands/info.js'), help: 'Display system-wide information' },
  version: { load: () => import('./commands/version.js'), help: 'Show the client and daemon versions' },
  run: { load: () => import('./commands/run.js'), help: 'Create and run a new container from an image' },
  create: { load: () => import('./commands/run.js').then((m) => ({ default: m.create })), help: 'Create a new container' },
  container: { load: () => import('./commands/container.js'), help: 'Manage containers' },
  update: { load: () => import('./commands/snapshot.js').then((m) => ({ default: m.update })), help: 'Update configuration of one or more containers' },
  commit: { load: () => import('./commands/snapshot.js').then((m) => ({ default: m.commit })), help: "Create a new image from a container's changes" },
  diff: { load: () => import('./commands/snapshot.js').then((m) => ({ default: m.diff })), help: "Inspect changes to files or directories on a container's filesystem" },
  export: { load: () => import('./commands/snapshot.js').then((m) => ({ default: m.exportCmd })), help: "Export a container's filesystem as a tar archive" },
  import: { load: () => import('./commands/snapshot.js').then((m) => ({ default: m.importCmd })), help: 'Import the contents from a tarball to create a filesystem image' },
  attach: containers('attach', 'Attach local standard input, output, and error streams to a running container'),
  ps: containers('ps', 'List containers'),
  start: containers('start', 'Start one or more stopped containers'),
  stop: containers('stop', 'Stop one or more running containers'),
  restart: containers('restart', 'Restart one or more containers'),
  kill: containers('kill', 'Kill one or more running containers'),
  rm: containers('rm', 'Remove one or more containers'),
  wait: containers('wait', 'Block until one or more containers stop, then print their exit codes'),
  logs: containers('logs', 'Fetch the logs of a container'),
  inspect: containers('inspect', 'Return low-level information on objects'),
  exec: containers('exec', 'Execute a command in a running container'),
  top: containers('top', 'Display the running processes of a container'),
  stats: containers('stats', 'Display resource usage statistics of containers'),
  pause: containers('pause', 'Pause all processes within one or more containers'),
  unpause: containers('unpause', 'Unpause all processes within one or more containers'),
  rename: containers('rename', 'Rename a container'),
  port: containers('port', 'List port mappings or a specific mapping for the container'),
  images: imagesCmd('images', 'List images'),
  image: imagesCmd('default', 'Manage images'),
  load: imagesCmd('load', 'Load an image from a tar archive or STDIN'),
  save: imagesCmd('save', 'Save one or more images to a tar archive'),
  rmi: imagesCmd('rmi', 'Remove one or more images'),
  tag: imagesCmd('tag', 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE'),
  pull: imagesCmd('pull', 'Download an image from a registry'),
  push: imagesCmd('push', 'Upload an image to a registry'),
  build: { load: () => import('./commands/build.js'), help: 'Build an image from a Dockerfile' },
  cp: { load: () => import('./commands/cp.js'), help: 'Copy files/folders between a container and the local filesystem' },
  history: { load: () => import('./commands/history.js'), help: 'Show the history of an image' },
  events: { load: () => import('./commands/events.js'), help: 'Get real time events from the server' },
  login: { load: () => import('./commands/login.js').then((m) => ({ default: m.login })), help: 'Log in to a registry' },
  logout: { load: () => import('./commands/login.js').then((m) => ({ default: m.logout })), help: 'Log out from a registry' },
  network: objects('network', 'Manage networks'),
  volume: objects('volume', 'Manage volumes'),
  system: objects('system', 'Manage tsswarm (df, prune)'),
  swarm: { load: () => import('./commands/swarm.js').then((m) => ({ default: m.swarm })), help: 'Manage Swarm' },
  node: { load: () => import('./commands/swarm.js').then((m) => ({ default: m.node })), help: 'Manage Swarm nodes' },
  service: { load: () => import('./commands/service.js'), help: 'Manage Swarm services' },
  init: { load: () => import('./commands/swarm.js').then((m) => ({ default: m.init })), help: 'Initialize a swarm (short for swarm init)' },
  join: { load: () => import('./commands/swarm.js').then((m) => ({ default: m.join })), help: 'Join a swarm as a node and/or manager (short for swarm join)' },
  stack: { load: () => import('./commands/stack.js'), help: 'Manage Swarm stacks' },
  secret: { load: () => import('./commands/secret.js'), help: 'Manage Swarm secrets' },
  config: { load: () => import('./commands/config.js'), help: 'Manage Swarm configs' },
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
  // `tsswarm logs c | head -1`: the reader going away ends the CLI quietly, as it does Docker's. Not for
  // the daemon, which must outlive whatever reads its output.
  if (name !== 'daemon') exitQuietlyOnBrokenPipe();
  if (!cmd) {
    process.stderr.write(`tsswarm: '${name}' is not a tsswarm command.\nSee 'tsswarm --help'.\n`);
    return 1;
  }
  return (await cmd.load()).default(rest);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (isBrokenPipe(err)) process.exit(BROKEN_PIPE_EXIT);
    process.stderr.write(`${errorLine(err)}\n`);
    // Docker exits 125 when the error is the CLI's own (bad flags), 1 otherwise. By name, not
    // instanceof: bundled, each command is its own file with its own copy of lib/flags.ts.
    const code = (err as { exitCode?: unknown }).exitCode;
    process.exit(typeof code === 'number' ? code : (err as { name?: unknown }).name === 'FlagError' ? 125 : 1);
  },
);
