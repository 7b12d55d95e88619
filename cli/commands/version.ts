// `tsswarm version`: client and daemon versions, like `docker version`. Exits 1 when no daemon answers.
import { VERSION, API_VERSION } from '../../lib/version.js';
import type { VersionInfo } from '../../api/daemon.js';

export default async function version(argv: string[]): Promise<number> {
  const json = argv.includes('--format') && argv[argv.indexOf('--format') + 1] === 'json';
  const client = { Version: VERSION, ApiVersion: API_VERSION, NodeVersion: process.version, Os: process.platform, Arch: process.arch };
  const { Client } = await import('../client.js');
  let server: VersionInfo | undefined;
  let error = '';
  try {
    // `version` reports; it does not start a daemon.
    server = await new Client().callNoAutostart<VersionInfo>('/version');
  } catch (err) {
    error = (err as Error).message;
  }
  if (json) {
    process.stdout.write(JSON.stringify({ Client: client, Server: server ?? null }) + '\n');
  } else {
    process.stdout.write(
      `Client:\n Version:      ${client.Version}\n API version:  ${client.ApiVersion}\n Node version: ${client.NodeVersion}\n OS/Arch:      ${client.Os}/${client.Arch}\n`,
    );
    if (server) {
      process.stdout.write(
        `\nServer:\n Engine:\n  Version:      ${server.Version}\n  API version:  ${server.ApiVersion} (minimum version ${server.MinAPIVersion})\n  Node version: ${server.NodeVersion}\n  OS/Arch:      ${server.Os}/${server.Arch}\n  Kernel:       ${server.KernelVersion}\n`,
      );
    }
  }
  if (!server) {
    process.stderr.write(`${error}\n`);
    return 1;
  }
  return 0;
}
