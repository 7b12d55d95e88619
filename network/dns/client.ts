// A tiny UDP stub resolver, used by tests and by the netns probe script to ask our server directly.

import dgram from 'node:dgram';
import { TYPE_A, decodeMessage, encodeQuery, readA, type Message } from './codec.js';

export async function queryUdp(server: string, port: number, name: string, type = TYPE_A, timeoutMs = 5000): Promise<Message> {
  const id = Math.floor(Math.random() * 0x10000);
  const sock = dgram.createSocket('udp4');
  try {
    return await new Promise<Message>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no DNS answer from ${server}:${port} for ${name} within ${timeoutMs} ms`)), timeoutMs);
      sock.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      sock.on('message', (msg) => {
        if (msg.length < 2 || msg.readUInt16BE(0) !== id) return;
        clearTimeout(timer);
        try {
          resolve(decodeMessage(msg));
        } catch (e) {
          reject(e as Error);
        }
      });
      sock.send(encodeQuery(id, name, type), port, server);
    });
  } finally {
    sock.close();
  }
}

export function aAnswers(m: Message): string[] {
  return m.answers.filter((a) => a.type === TYPE_A).map((a) => readA(a.data));
}
