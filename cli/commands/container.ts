// `tsswarm container SUBCOMMAND`: the same commands as the top-level ones, grouped.
import * as c from './containers.js';
import run, { create } from './run.js';
import * as snap from './snapshot.js';

const table: Record<string, (argv: string[]) => Promise<number>> = {
  ls: c.ps,
  list: c.ps,
  ps: c.ps,
  run,
  create,
  start: c.start,
  stop: c.stop,
  restart: c.restart,
  kill: c.kill,
  rm: c.rm,
  remove: c.rm,
  wait: c.wait,
  logs: c.logs,
  inspect: c.inspect,
  exec: c.exec,
  attach: c.attach,
  top: c.top,
  stats: c.stats,
  pause: c.pause,
  unpause: c.unpause,
  rename: c.rename,
  port: c.port,
  update: snap.update,
  commit: snap.commit,
  diff: snap.diff,
  export: snap.exportCmd,
};

export default async function container(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const fn = sub ? table[sub] : undefined;
  if (!fn) {
    (sub ? process.stderr : process.stdout).write(`Usage:  tsswarm container COMMAND\n\nCommands: ${Object.keys(table).join(', ')}\n`);
    return sub ? 1 : 0;
  }
  return fn(rest);
}
