// The test registry's proxy as a process of its own, so it can run inside another network namespace
// (`nsenter --net=NS node --import tsx proxy-main.ts CONFIG`): a hook function cannot cross into a
// child, so auth is given as data. Protocol on stdout, one line each: "listening HOST:PORT" once,
// then "request LINE" per request. It exits on SIGTERM, or when its stdin closes (its parent died).
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { createProxyServer, type ProxyHook } from './proxy-server.js';
import { basicAuthHook } from './registry.js';

export const ProxyChildConfig = z.object({
  upstream: z.string().min(1),
  addr: z.string().min(1),
  port: z.number().int().min(0).max(65535),
  basicAuth: z.object({ user: z.string(), password: z.string() }).optional(),
  cutBlobAfter: z.number().int().nonnegative().optional(),
  cutTimes: z.number().int().positive().optional(),
});
export type ProxyChildConfig = z.infer<typeof ProxyChildConfig>;

function main(): void {
  const parsed = ProxyChildConfig.safeParse(JSON.parse(process.argv[2] ?? 'null'));
  if (!parsed.success) {
    process.stderr.write(`proxy-main: argument 1 is not a proxy config: ${parsed.error.message}\n`);
    process.exit(2);
  }
  const cfg = parsed.data;
  const hook: ProxyHook | undefined = cfg.basicAuth ? basicAuthHook(cfg.basicAuth.user, cfg.basicAuth.password) : undefined;
  const server = createProxyServer(
    cfg.upstream,
    { ...(hook ? { hook } : {}), ...(cfg.cutBlobAfter !== undefined ? { cutBlobAfter: cfg.cutBlobAfter } : {}), ...(cfg.cutTimes ? { cutTimes: cfg.cutTimes } : {}) },
    (line) => process.stdout.write(`request ${line}\n`),
  );
  const quit = (): void => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  };
  process.on('SIGTERM', quit);
  process.stdin.on('end', quit);
  process.stdin.on('close', quit);
  process.stdin.resume();
  server.on('error', (e) => {
    process.stderr.write(`proxy-main: cannot listen on ${cfg.addr}:${cfg.port}: ${e.message}\n`);
    process.exit(1);
  });
  server.listen(cfg.port, cfg.addr, () => {
    const a = server.address() as AddressInfo;
    process.stdout.write(`listening ${cfg.addr}:${a.port}\n`);
  });
}

main();
