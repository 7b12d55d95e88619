import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { atomicWriteFile, isErrno } from '../fsutil.js';
import { parseJson } from '../schemas.js';

/** ~/.tsswarm/config.json, shaped like Docker's config.json `auths`. */
const ConfigFileSchema = z.looseObject({
  auths: z.record(z.string(), z.looseObject({ auth: z.string().optional(), username: z.string().optional(), password: z.string().optional() })).optional(),
});
type ConfigFile = z.infer<typeof ConfigFileSchema>;

export interface Credentials {
  username: string;
  password: string;
}

export function defaultCredentialsFile(): string {
  return process.env.TSSWARM_CONFIG ? join(process.env.TSSWARM_CONFIG, 'config.json') : join(homedir(), '.tsswarm', 'config.json');
}

/** Docker keys Docker Hub as "https://index.docker.io/v1/"; everything else by host[:port]. */
export function credentialKey(domain: string): string {
  return domain === 'docker.io' ? 'https://index.docker.io/v1/' : domain;
}

async function readConfig(file: string): Promise<ConfigFile> {
  try {
    return parseJson(ConfigFileSchema, await readFile(file), file);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return {};
    throw err;
  }
}

export class CredentialStore {
  constructor(readonly file: string = defaultCredentialsFile()) {}

  async get(domain: string): Promise<Credentials | undefined> {
    const cfg = await readConfig(this.file);
    const entry = cfg.auths?.[credentialKey(domain)] ?? cfg.auths?.[`https://${domain}`] ?? cfg.auths?.[`http://${domain}`];
    if (!entry) return undefined;
    if (entry.auth) {
      const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) throw new Error(`${this.file}: auth for ${domain} is not base64 "user:password"`);
      return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
    }
    if (entry.username !== undefined && entry.password !== undefined) return { username: entry.username, password: entry.password };
    return undefined;
  }

  async set(domain: string, creds: Credentials): Promise<void> {
    const cfg = await readConfig(this.file);
    const auths = { ...(cfg.auths ?? {}) };
    auths[credentialKey(domain)] = { auth: Buffer.from(`${creds.username}:${creds.password}`).toString('base64') };
    await atomicWriteFile(this.file, JSON.stringify({ ...cfg, auths }, null, '\t'), 0o600);
  }

  /** Returns false when there was nothing to remove. */
  async remove(domain: string): Promise<boolean> {
    const cfg = await readConfig(this.file);
    const key = credentialKey(domain);
    if (!cfg.auths?.[key]) return false;
    const auths = { ...cfg.auths };
    delete auths[key];
    await atomicWriteFile(this.file, JSON.stringify({ ...cfg, auths }, null, '\t'), 0o600);
    return true;
  }
}
