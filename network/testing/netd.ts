// Test helper: a NetworkManager "daemon" run inside a test network namespace, driven over stdio
// with JSON lines ({id, method, args} in; {id, result} or {id, error} out). Sockets (DNS, port
// holds) live in the namespace the process runs in, which is why the manager runs here and not in
// the mocha process.

import { createInterface } from 'node:readline';
import { NetworkManager, type NetworkManagerOptions } from '../manager.js';
import { parsePublish, type PortRequest } from '../ports.js';

type Call = { id: number; method: string; args: unknown[] };

async function main(): Promise<void> {
  const opts = JSON.parse(process.argv[2] ?? '{}') as NetworkManagerOptions;
  const logs: string[] = [];
  const events: { action: string; id: string; attributes: Record<string, string> }[] = [];
  const mgr = await NetworkManager.open({ ...opts, log: (m) => logs.push(m), events: (action, id, attributes) => events.push({ action, id, attributes }) });
  const send = (v: unknown): void => void process.stdout.write(JSON.stringify(v) + '\n');

  const methods: Record<string, (...a: never[]) => unknown> = {
    createNetwork: (r: Parameters<NetworkManager['createNetwork']>[0]) => mgr.createNetwork(r),
    removeNetwork: (ref: string) => mgr.removeNetwork(ref),
    pruneNetworks: () => mgr.pruneNetworks(),
    listNetworks: () => mgr.listNetworks(),
    inspectNetwork: (ref: string) => mgr.inspectNetwork(ref),
    connect: (r: Parameters<NetworkManager['connect']>[0]) => mgr.connect(r),
    disconnect: (net: string, c: string) => mgr.disconnect(net, c),
    connectContainer: (r: Parameters<NetworkManager['connectContainer']>[0]) => mgr.connectContainer(r),
    disconnectContainer: (net: string, c: string, running: boolean) => mgr.disconnectContainer(net, c, running),
    events: () => events,
    releaseContainer: (c: string) => mgr.releaseContainer(c),
    endpoints: (c: string) => mgr.endpoints(c),
    publish: (c: string, reqs: PortRequest[]) => mgr.publish(c, reqs),
    // What the CLI would do with -p values: parse (clear error on bad input), then publish.
    publishSpecs: (c: string, specs: string[]) => mgr.publish(c, specs.flatMap(parsePublish)),
    unpublish: (c: string) => mgr.unpublish(c),
    ports: (c: string) => mgr.ports(c),
    resolvConf: (c: string) => mgr.resolvConf(c),
    teardown: () => mgr.teardown(),
    logs: () => logs,
    close: async () => {
      await mgr.close();
      setImmediate(() => process.exit(0));
    },
  };

  const rl = createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    const call = JSON.parse(line) as Call;
    const fn = methods[call.method];
    if (!fn) return send({ id: call.id, error: `unknown method ${call.method}` });
    Promise.resolve()
      .then(() => (fn as (...a: unknown[]) => unknown)(...call.args))
      .then(
        (result) => send({ id: call.id, result: result ?? null }),
        (e: Error) => send({ id: call.id, error: e.message }),
      );
  });
  rl.on('close', () => void mgr.close().then(() => process.exit(0)));
  send({ ready: true });
}

main().catch((e: Error) => {
  process.stdout.write(JSON.stringify({ fatal: e.message }) + '\n');
  process.exit(1);
});
