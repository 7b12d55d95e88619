// `tsswarm login` / `tsswarm logout`, as Docker does them: the daemon checks the credentials with the
// registry (POST /auth), the CLI keeps them in ~/.tsswarm/config.json (0600; TSSWARM_CONFIG moves it)
// and sends them with each pull and push (X-Registry-Auth).
import { CredentialStore, type Credentials } from '../../image/registry/credentials.js';
import { normaliseServer } from '../../image/registry/login.js';
import { parseReference } from '../../image/reference.js';
import { DaemonError } from '../client.js';
import { ExitError, bool, client, parse, str } from './common.js';

const HUB_HINT =
  "Log in with your Docker ID or email address to push and pull images from Docker Hub. If you don't have a Docker ID, head over to https://hub.docker.com/ to create one.\n";

/** Reads one line from a TTY; without echo for passwords. */
async function prompt(question: string, secret: boolean): Promise<string> {
  process.stdout.write(question);
  const stdin = process.stdin;
  return new Promise<string>((resolve, reject) => {
    let line = '';
    const wasRaw = stdin.isRaw;
    if (secret) stdin.setRawMode(true);
    stdin.setEncoding('utf8');
    const finish = (err?: Error): void => {
      stdin.off('data', onData);
      if (secret) stdin.setRawMode(wasRaw);
      stdin.pause();
      if (err) reject(err);
      else resolve(line);
    };
    const onData = (chunk: string): void => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') {
          if (secret) process.stdout.write('\n');
          return finish();
        }
        if (secret && ch === '\u0003') return finish(new ExitError('', 130)); // Ctrl-C in raw mode
        if (secret && ch === '\u0004' && line === '') return finish(new ExitError('Error: no password given', 1));
        if (secret && (ch === '\u007f' || ch === '\b')) line = line.slice(0, -1);
        else line += ch;
      }
    };
    stdin.on('data', onData);
    stdin.resume();
  });
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function login(argv: string[]): Promise<number> {
  const usage = 'tsswarm login [OPTIONS] [SERVER]';
  const p = parse(argv, usage, [
    { name: 'username', short: 'u', type: 'string', description: 'Username' },
    { name: 'password', short: 'p', type: 'string', description: 'Password' },
    { name: 'password-stdin', type: 'bool', description: 'Take the password from stdin' },
  ]);
  if (!p) return 0;
  if (p.args.length > 1) throw new ExitError(`"tsswarm login" requires at most 1 argument.\nSee 'tsswarm login --help'.\n\nUsage:  ${usage}`, 1);
  const server = p.args[0];
  const domain = normaliseServer(server);
  let username = str(p, 'username')?.trim();
  let password = str(p, 'password');
  if (password !== undefined) {
    process.stderr.write('WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n');
    if (bool(p, 'password-stdin')) throw new ExitError('--password and --password-stdin are mutually exclusive', 1);
  }
  if (bool(p, 'password-stdin')) {
    if (!username) throw new ExitError('Must provide --username with --password-stdin', 1);
    password = (await readStdin()).replace(/\r?\n$/, '');
  }
  const store = new CredentialStore();
  if (!username || password === undefined) {
    if (!process.stdin.isTTY) throw new ExitError('Error: Cannot perform an interactive login from a non TTY device', 1);
    if (!server) process.stdout.write(HUB_HINT);
    if (!username) {
      const prev = await store.get(domain).catch(() => undefined);
      const answer = (await prompt(prev ? `Username (${prev.username}): ` : 'Username: ', false)).trim();
      username = answer || prev?.username;
      if (!username) throw new ExitError('Error: Non-null Username Required', 1);
    }
    if (password === undefined) password = await prompt('Password: ', true);
  }
  if (!password) throw new ExitError('Error: Password Required', 1);
  const creds: Credentials = { username, password };
  try {
    const r = await client().call<{ Status?: string }>('/auth', { method: 'POST', body: { username, password, serveraddress: domain } });
    await store.set(domain, creds);
    process.stderr.write(`WARNING! Your password will be stored unencrypted in ${store.file}.\n`);
    process.stdout.write(`${r?.Status ?? 'Login Succeeded'}\n`);
    return 0;
  } catch (e) {
    if (e instanceof DaemonError) {
      process.stderr.write(`Error response from daemon: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

export async function logout(argv: string[]): Promise<number> {
  const usage = 'tsswarm logout [SERVER]';
  const p = parse(argv, usage, []);
  if (!p) return 0;
  if (p.args.length > 1) throw new ExitError(`"tsswarm logout" requires at most 1 argument.\nSee 'tsswarm logout --help'.\n\nUsage:  ${usage}`, 1);
  const domain = normaliseServer(p.args[0]);
  const removed = await new CredentialStore().remove(domain);
  process.stdout.write(removed ? `Removing login credentials for ${domain}\n` : `Not logged in to ${domain}\n`);
  return 0;
}

/**
 * The X-Registry-Auth header for a pull/push of `image`: the stored credentials of its registry,
 * base64url JSON as Docker sends it; undefined when there are none (or the name does not parse:
 * the daemon then reports the bad name).
 */
export async function registryAuthHeader(image: string): Promise<Record<string, string>> {
  let domain: string;
  try {
    domain = parseReference(image).domain;
  } catch {
    return {};
  }
  const creds = await new CredentialStore().get(domain);
  if (!creds) return {};
  const json = JSON.stringify({ username: creds.username, password: creds.password, serveraddress: domain });
  return { 'X-Registry-Auth': Buffer.from(json).toString('base64url') };
}
