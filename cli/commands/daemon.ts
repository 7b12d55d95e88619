// `tsswarm daemon`: runs the engine daemon in the foreground.
import { parseFlags, helpText, type FlagSpec } from '../../lib/flags.js';
import { z } from 'zod';
import { DEFAULT_DATA_ROOT, DEFAULT_EXEC_ROOT, DEFAULT_HOST, checkCgroupParent } from '../../api/daemon.js';

const specs: FlagSpec[] = [
  { name: 'data-root', type: 'string', description: `Root of persistent state (default ${DEFAULT_DATA_ROOT})` },
  { name: 'exec-root', type: 'string', description: `Root of runtime state (default ${DEFAULT_EXEC_ROOT})` },
  { name: 'host', short: 'H', type: 'string', description: `Socket to listen on (default ${DEFAULT_HOST})` },
  { name: 'live-restore', type: 'bool', description: 'Keep containers running when the daemon stops' },
  { name: 'cgroup-parent', type: 'string', description: 'Parent cgroup for all containers (default "tsswarm")' },
  { name: 'help', type: 'bool' },
];

const DaemonOptions = z.object({
  dataRoot: z.string().startsWith('/', 'must be an absolute path'),
  execRoot: z.string().startsWith('/', 'must be an absolute path'),
  host: z.string().regex(/^unix:\/\/\/.+/, 'must be unix:///absolute/path.sock'),
  liveRestore: z.boolean(),
  cgroupParent: z.string().optional(),
});

export default async function daemon(argv: string[]): Promise<number> {
  const { flags, args } = parseFlags(argv, specs);
  if (flags.help) {
    process.stdout.write(helpText('tsswarm daemon [OPTIONS]', specs));
    return 0;
  }
  if (args.length) throw new Error(`daemon: unexpected argument "${args[0]}"`);
  const parsed = DaemonOptions.safeParse({
    dataRoot: (flags['data-root'] as string | undefined) ?? DEFAULT_DATA_ROOT,
    execRoot: (flags['exec-root'] as string | undefined) ?? DEFAULT_EXEC_ROOT,
    host: (flags.host as string | undefined) ?? DEFAULT_HOST,
    liveRestore: flags['live-restore'] === true,
    ...(flags['cgroup-parent'] ? { cgroupParent: checkCgroupParent(flags['cgroup-parent'] as string) } : {}),
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`daemon: --${String(issue.path[0]).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}: ${issue.message}`);
  }
  const { Daemon } = await import('../../node/daemon.js');
  const d = new Daemon(parsed.data);
  await d.start();
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      void d.stop().then(resolve);
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  return 0;
}
