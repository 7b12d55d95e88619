// `tsswarm info`: what the daemon reports about itself.
import { Client } from '../client.js';

export default async function info(argv: string[]): Promise<number> {
  const i = await new Client().call<Record<string, unknown>>('/info');
  if (argv.includes('--format') && argv[argv.indexOf('--format') + 1] === 'json') {
    process.stdout.write(JSON.stringify(i) + '\n');
    return 0;
  }
  const rows: [string, unknown][] = [
    ['Server Version', i.ServerVersion],
    ['Storage Driver', i.Driver],
    ['Kernel Version', i.KernelVersion],
    ['Operating System', i.OperatingSystem],
    ['CPUs', i.NCPU],
    ['Total Memory', `${(Number(i.MemTotal) / 2 ** 30).toFixed(2)}GiB`],
    ['Name', i.Name],
    ['Data Root Dir', i.DockerRootDir],
    ['Exec Root Dir', i.ExecRoot],
  ];
  process.stdout.write(rows.map(([k, v]) => ` ${k}: ${String(v)}`).join('\n') + '\n');
  return 0;
}
