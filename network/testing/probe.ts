// Test helper run inside a network namespace (`ip netns exec NS node --import tsx probe.ts …`).
// One-shot modes print one JSON line; server modes print {"ready":true} and serve until killed.

import dgram from 'node:dgram';
import { promises as dnsPromises } from 'node:dns';
import net from 'node:net';
import { RCODE_NOERROR, TYPE_A, aRecord, decodeMessage, encodeResponse } from '../dns/codec.js';
import { aAnswers, queryUdp } from '../dns/client.js';

const [mode, ...args] = process.argv.slice(2);

function out(v: unknown): void {
  process.stdout.write(JSON.stringify(v) + '\n');
}

async function main(): Promise<void> {
  switch (mode) {
    case 'dns': {
      // dns SERVER[:PORT] NAME [TYPE]
      const [server, name, type] = args as [string, string, string | undefined];
      const [ip, port] = server.split(':') as [string, string | undefined];
      const m = await queryUdp(ip, port ? Number(port) : 53, name, type ? Number(type) : TYPE_A);
      out({ rcode: m.rcode, answers: aAnswers(m) });
      return;
    }
    case 'lookup': {
      // Goes through libc's resolver, i.e. the namespace's /etc/resolv.conf.
      const res = await dnsPromises.lookup(args[0]!, { family: 4, all: true });
      out({ addresses: res.map((r) => r.address) });
      return;
    }
    case 'tcp': {
      const [host, port] = args as [string, string];
      const text = await new Promise<string>((resolve, reject) => {
        const s = net.connect({ host, port: Number(port) });
        let buf = '';
        s.setTimeout(10000, () => s.destroy(new Error(`timeout talking to ${host}:${port}`)));
        s.on('data', (d: Buffer) => (buf += d.toString()));
        s.on('end', () => resolve(buf));
        s.on('error', reject);
      });
      out({ text });
      return;
    }
    case 'serve-tcp': {
      // Replies "<text> <client address>" so tests can see NAT effects.
      const [ip, port, text] = args as [string, string, string];
      const srv = net.createServer((s) => s.end(`${text} ${(s.remoteAddress ?? '').replace(/^::ffff:/, '')}`));
      srv.listen({ host: ip, port: Number(port) }, () => out({ ready: true }));
      return;
    }
    case 'serve-dns': {
      // A stand-in upstream resolver: every A query gets `answer`.
      const [ip, port, answer] = args as [string, string, string];
      const sock = dgram.createSocket('udp4');
      sock.on('message', (msg, rinfo) => {
        const q = decodeMessage(msg);
        const name = q.questions[0]?.name ?? '';
        const answers = q.questions[0]?.type === TYPE_A ? [aRecord(name, answer, 30)] : [];
        sock.send(encodeResponse(q, RCODE_NOERROR, answers), rinfo.port, rinfo.address);
      });
      sock.bind(Number(port), ip, () => out({ ready: true }));
      return;
    }
    default:
      throw new Error(`unknown probe mode "${mode}"`);
  }
}

main().catch((e: Error) => {
  out({ error: e.message, code: (e as NodeJS.ErrnoException).code });
  process.exitCode = 1;
});
