import { DEFAULT_DOMAIN } from '../reference.js';
import { RegistryClient } from './client.js';
import { CredentialStore, type Credentials } from './credentials.js';

export interface LoginOptions {
  credentials?: CredentialStore;
  insecureRegistries?: readonly string[];
}

/** `login [SERVER]`: checks the credentials against the registry, then stores them. */
export async function login(server: string | undefined, creds: Credentials, opts: LoginOptions = {}): Promise<string> {
  const domain = normaliseServer(server);
  const client = new RegistryClient(domain, { credentials: creds, ...(opts.insecureRegistries ? { insecureRegistries: opts.insecureRegistries } : {}) });
  await client.checkLogin();
  await (opts.credentials ?? new CredentialStore()).set(domain, creds);
  return 'Login Succeeded';
}

/** `logout [SERVER]` */
export async function logout(server: string | undefined, opts: LoginOptions = {}): Promise<string> {
  const domain = normaliseServer(server);
  const removed = await (opts.credentials ?? new CredentialStore()).remove(domain);
  return removed ? `Removing login credentials for ${domain}` : `Not logged in to ${domain}`;
}

/** Accepts "host:port", "https://host/", Docker Hub's legacy URL, or nothing (Docker Hub). */
export function normaliseServer(server: string | undefined): string {
  if (!server) return DEFAULT_DOMAIN;
  let s = server.trim().replace(/^https?:\/\//, '');
  s = s.split('/')[0]!;
  if (s === 'index.docker.io' || s === 'registry-1.docker.io') return DEFAULT_DOMAIN;
  return s;
}
