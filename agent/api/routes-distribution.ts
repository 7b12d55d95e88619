// `GET /distribution/{name}/json`: what the registry serves for a reference (its manifest's
// descriptor and platforms) without pulling it; `docker pull --platform` and `service create` ask it.
import type { Router } from './router.js';
import { registryAuth, insecureRegistries } from './routes-auth.js';
import { parseReference, repositoryName } from '../../image/reference.js';
import { clientFor } from '../../image/registry/options.js';

interface ManifestJson {
  manifests?: { platform?: { architecture?: string; os?: string; variant?: string } }[];
  config?: { digest?: string };
}

export function distributionRoutes(router: Router): void {
  router.get('/distribution/{name*}/json', async ({ params, req }) => {
    const ref = parseReference(params.name!);
    const credentials = registryAuth(req.headers['x-registry-auth']);
    const client = await clientFor(ref.domain, { insecureRegistries: insecureRegistries(), ...(credentials ? { credentials } : {}) });
    const m = await client.getManifest(repositoryName(ref), ref.digest ?? ref.tag ?? 'latest');
    const body = JSON.parse(m.bytes.toString('utf8')) as ManifestJson;
    const platforms = (body.manifests ?? [])
      .map((x) => x.platform)
      .filter((p): p is NonNullable<typeof p> => p !== undefined)
      .map((p) => ({ architecture: p.architecture ?? '', os: p.os ?? '', ...(p.variant ? { variant: p.variant } : {}) }));
    return { Descriptor: { mediaType: m.mediaType, digest: m.digest, size: m.bytes.length }, Platforms: platforms };
  });
}
