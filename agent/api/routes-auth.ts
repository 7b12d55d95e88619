// Engine API: POST /auth (what `login` uses) and the X-Registry-Auth header of pull and push.
// As in Docker, the daemon only checks credentials against the registry; the CLI stores them and
// sends them with each pull/push, so the daemon keeps no one's password.
import { z } from 'zod';
import { ApiError, badRequest, type Router } from './router.js';
import { CredentialStore, RegistryClient, RegistryError, normaliseServer, type Credentials } from '../../image/index.js';

const AuthConfigSchema = z.object({
  username: z.string().optional(),
  password: z.string().optional(),
  serveraddress: z.string().optional(),
  email: z.string().optional(),
  auth: z.string().optional(),
  identitytoken: z.string().optional(),
  registrytoken: z.string().optional(),
});
type AuthConfig = z.infer<typeof AuthConfigSchema>;

export const insecureRegistries = (): string[] => (process.env.TSSWARM_INSECURE_REGISTRIES ?? '').split(',').filter(Boolean);

/** username/password from an AuthConfig, also from its `auth` field (base64 "user:password"). */
function credentialsOf(a: AuthConfig): Credentials | undefined {
  if (a.username && a.password !== undefined) return { username: a.username, password: a.password };
  if (a.auth) {
    const s = Buffer.from(a.auth, 'base64').toString('utf8');
    const i = s.indexOf(':');
    if (i > 0) return { username: s.slice(0, i), password: s.slice(i + 1) };
  }
  return undefined;
}

/** A credential store that answers with the credentials of one request and never touches a file. */
class RequestCredentials extends CredentialStore {
  constructor(private readonly creds: Credentials | undefined) {
    super('/dev/null');
  }
  override async get(): Promise<Credentials | undefined> {
    return this.creds;
  }
  override async set(): Promise<void> {
    throw new Error('request credentials are not stored by the daemon');
  }
  override async remove(): Promise<boolean> {
    return false;
  }
}

/**
 * The credentials of a pull/push: from X-Registry-Auth (base64url JSON AuthConfig) when the client
 * sends one, which then decides alone (empty = anonymous); without the header, undefined (the
 * image library's own store, as before there was a client-side login).
 */
export function registryAuth(header: string | string[] | undefined): CredentialStore | undefined {
  const h = Array.isArray(header) ? header[0] : header;
  if (!h) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(h.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8'));
  } catch {
    throw badRequest('X-Registry-Auth header is not base64url-encoded JSON');
  }
  const a = AuthConfigSchema.safeParse(parsed ?? {});
  if (!a.success) throw badRequest(`X-Registry-Auth header: ${a.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ')}`);
  return new RequestCredentials(credentialsOf(a.data));
}

export function authRoutes(router: Router): void {
  router.post('/auth', async ({ json }) => {
    const body = AuthConfigSchema.safeParse((await json()) ?? {});
    if (!body.success) throw badRequest(`auth: ${body.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ')}`);
    const creds = credentialsOf(body.data);
    if (!creds) throw badRequest('auth: username and password are required');
    const domain = normaliseServer(body.data.serveraddress);
    const client = new RegistryClient(domain, { credentials: creds, insecureRegistries: insecureRegistries() });
    try {
      await client.checkLogin();
    } catch (err) {
      if (err instanceof RegistryError) {
        // The library's hint says to log in, which is what the user is doing: keep the registry's words.
        const msg = err.message.replace(/ — try: tsswarm login .*$/, '');
        throw new ApiError(err.status === 401 || err.status === 403 ? 401 : 502, `login to ${domain} failed: ${msg}`);
      }
      const cause = (err as Error & { cause?: Error }).cause;
      throw new ApiError(502, `login to ${domain} failed: ${(err as Error).message}${cause?.message ? ` (${cause.message})` : ''}`);
    }
    return { Status: 'Login Succeeded', IdentityToken: '' };
  });
}
