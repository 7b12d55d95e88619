// A KV server process: one raft member (DiskStorage + TCP transport + KvStore) plus a client
// endpoint. Used by the multi-process e2e test and the benchmark.
//
// Start-up handshake (so that every member can use an ephemeral port): the process binds both ports,
// prints {"event":"listening","id","raft","client"} on stdout, then reads one JSON line on stdin:
// {"peers":[{"id","raft","client"}]}. Logs are JSON lines on stderr.
import net from 'node:net';
import readline from 'node:readline';
import { parseArgs } from 'node:util';
import { KvStore } from '../kv/kv-store.js';
import { encodeKvCommand, type KvCommand, type KvResult } from '../kv/commands.js';
import { KvRequestSchema, type KvRequest, type KvResponse } from '../kv/protocol.js';
import { DiskStorage } from '../storage/disk-storage.js';
import { encodeFrame, FrameDecoder } from '../transport/framing.js';
import { TcpTransport } from '../transport/tcp.js';
import { AmbiguousProposalError, NotLeaderError, RaftNode } from './raft-node.js';

interface PeerSpec {
  id: string;
  raft: string;
  client: string;
}

const { values: args } = parseArgs({
  options: {
    id: { type: 'string' },
    dir: { type: 'string' },
    'raft-port': { type: 'string', default: '0' },
    'client-port': { type: 'string', default: '0' },
    'tick-ms': { type: 'string', default: '50' },
    'election-tick': { type: 'string', default: '10' },
    'snapshot-every': { type: 'string', default: '10000' },
    quiet: { type: 'boolean', default: false },
  },
});
if (!args.id || !args.dir) {
  process.stderr.write('usage: kv-server --id ID --dir DIR [--raft-port N] [--client-port N] [--tick-ms N]\n');
  process.exit(2);
}
const id = args.id;
const quiet = args.quiet;

function log(event: string, fields: Record<string, unknown> = {}): void {
  if (quiet && !event.startsWith('raft.leader') && !event.endsWith('fatal') && event !== 'server.ready') return;
  process.stderr.write(`${JSON.stringify({ ts: new Date().toISOString(), event, node: id, ...fields })}\n`);
}

function readPeers(): Promise<PeerSpec[]> {
  return new Promise((resolve, reject) => {
    const rl = readline.createInterface({ input: process.stdin });
    const onClose = () => reject(new Error(`kv-server ${id}: stdin closed before the peers line`));
    rl.once('line', (line) => {
      rl.off('close', onClose);
      rl.close();
      try {
        resolve((JSON.parse(line) as { peers: PeerSpec[] }).peers);
      } catch (err) {
        reject(new Error(`kv-server ${id}: bad peers line: ${(err as Error).message}`));
      }
    });
    rl.once('close', onClose);
  });
}

async function main(): Promise<void> {
  const storage = await DiskStorage.open(args.dir!, { log });
  let node: RaftNode<KvResult> | undefined;
  const transport = await TcpTransport.listen({
    id,
    port: Number(args['raft-port']),
    log,
    onUnreachable: (peer) => node?.reportUnreachable(peer),
  });
  const clientServer = net.createServer((s) => serveClient(s));
  await new Promise<void>((resolve) => clientServer.listen(Number(args['client-port']), '127.0.0.1', resolve));
  const clientAddr = `127.0.0.1:${(clientServer.address() as net.AddressInfo).port}`;
  process.stdout.write(`${JSON.stringify({ event: 'listening', id, raft: transport.address, client: clientAddr })}\n`);

  const peers = await readPeers();
  const clientAddrOf = new Map(peers.map((p) => [p.id, p.client]));
  for (const p of peers) transport.addPeer(p.id, p.raft);
  if (storage.isEmpty()) {
    storage.bootstrap({ voters: peers.map((p) => p.id).sort(), learners: [] });
    await storage.sync();
  }
  const kv = new KvStore();
  node = new RaftNode<KvResult>({
    id,
    storage,
    transport,
    stateMachine: kv,
    tickMs: Number(args['tick-ms']),
    electionTick: Number(args['election-tick']),
    heartbeatTick: 1,
    snapshotEvery: Number(args['snapshot-every']),
    log,
    onFatal: (err) => {
      log('server.fatal', { error: err.message });
      process.exit(1);
    },
  });
  node.start();
  log('server.ready', { raft: transport.address, client: clientAddr });

  const shutdown = async (signal: string) => {
    log('server.stopping', { signal });
    node?.stop(signal);
    clientServer.close();
    await transport.close();
    await storage.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));

  function serveClient(s: net.Socket): void {
    s.setNoDelay(true);
    const decoder = new FrameDecoder(16 * 1024 * 1024);
    let corked = false;
    const reply = (r: KvResponse) => {
      if (s.destroyed) return;
      // Answers produced in the same turn (one Ready's applies) leave in one write.
      if (!corked) {
        corked = true;
        s.cork();
        process.nextTick(() => {
          corked = false;
          s.uncork();
        });
      }
      s.write(encodeFrame(Buffer.from(JSON.stringify(r))));
    };
    s.on('data', (chunk: Buffer) => {
      try {
        decoder.push(chunk, (payload) => {
          const parsed = KvRequestSchema.safeParse(JSON.parse(payload.toString('utf8')));
          if (!parsed.success) {
            reply({ id: -1, ok: false, code: 'bad_request', message: parsed.error.message });
            return;
          }
          void handle(parsed.data).then(reply);
        });
      } catch (err) {
        log('server.bad_client_stream', { error: (err as Error).message });
        s.destroy();
      }
    });
    s.on('error', () => undefined);
  }

  async function handle(req: KvRequest): Promise<KvResponse> {
    const n = node;
    if (!n) return { id: req.id, ok: false, code: 'not_leader', message: `${id} is still starting` };
    if (req.op === 'status') {
      const st = n.status();
      return {
        id: req.id,
        ok: true,
        status: { id, leader: n.leader, term: st.term, role: st.role, applied: n.appliedIndex, commit: st.commit },
      };
    }
    if (!n.isLeader) {
      const leader = n.leader ? clientAddrOf.get(n.leader) : undefined;
      return { id: req.id, ok: false, code: 'not_leader', message: `${id} is not the leader`, ...(leader ? { leader } : {}) };
    }
    try {
      if (req.op === 'get') {
        await n.readBarrier();
        return { id: req.id, ok: true, value: kv.get(req.key) ?? null };
      }
      const { id: _reqId, ...cmd } = req;
      const result = await n.propose(encodeKvCommand(cmd as KvCommand));
      return { id: req.id, ok: true, result };
    } catch (err) {
      if (err instanceof NotLeaderError) {
        const leader = err.leader ? clientAddrOf.get(err.leader) : undefined;
        return { id: req.id, ok: false, code: 'not_leader', message: err.message, ...(leader ? { leader } : {}) };
      }
      const code = err instanceof AmbiguousProposalError ? 'ambiguous' : 'error';
      return { id: req.id, ok: false, code, message: (err as Error).message };
    }
  }
}

main().catch((err: unknown) => {
  log('server.fatal', { error: (err as Error).message, stack: (err as Error).stack });
  process.exit(1);
});
