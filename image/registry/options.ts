import { CredentialStore } from './credentials.js';
import { RegistryClient } from './client.js';
import type { ProgressListener } from './progress.js';

export interface RegistryOptions {
  /** host[:port] entries allowed over plain http (loopback always is). */
  insecureRegistries?: readonly string[];
  /** Where login keeps credentials; default ~/.tsswarm/config.json. */
  credentials?: CredentialStore;
  onProgress?: ProgressListener;
  /** Layers moved at once. */
  concurrency?: number;
  /** Retries of a broken transfer. */
  maxRetries?: number;
}

export async function clientFor(domain: string, opts: RegistryOptions): Promise<RegistryClient> {
  const creds = await (opts.credentials ?? new CredentialStore()).get(domain);
  return new RegistryClient(domain, {
    ...(opts.insecureRegistries ? { insecureRegistries: opts.insecureRegistries } : {}),
    ...(creds ? { credentials: creds } : {}),
    ...(opts.maxRetries !== undefined ? { maxRetries: opts.maxRetries } : {}),
  });
}
