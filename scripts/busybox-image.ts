// Writes a docker-archive of `busybox:latest` made from Debian's busybox-static (there is no Docker Hub
// here), for `tsswarm load -i`. Usage: node --import tsx scripts/busybox-image.ts OUT.tar
import { writeDockerArchive, tarBuffer } from '../image/testing/archives.js';
import { busyboxLayerEntries, busyboxConfig, BUSYBOX_TAG } from '../image/testing/busybox-image.js';

const out = process.argv[2];
if (!out) {
  process.stderr.write('usage: busybox-image.ts OUT.tar\n');
  process.exit(2);
}
await writeDockerArchive(out, [{ layers: [await tarBuffer(busyboxLayerEntries())], config: busyboxConfig(), tags: [BUSYBOX_TAG] }]);
