// Resolves a create request's -v/--mount/--tmpfs/image VOLUMEs into mount points, creating named and
// anonymous volumes (with copy-up from the image) as Docker does at create time.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { invalid } from '../../lib/errors.js';
import type { VolumeService } from '../volumes/service.js';
import { BindSpecError, cleanPath, parseBindSpec } from '../../api/binds.js';
import type { ContainerCreateBody } from './create-config.js';
import type { MountPoint } from './record.js';

export interface MountPlan {
  mounts: MountPoint[];
  /** Volumes to create (name '' = anonymous) before the container exists; with copy-up source. */
  volumes: { index: number; name: string; noCopy: boolean; labels?: Record<string, string> }[];
}

export function planMounts(body: ContainerCreateBody, imageVolumes: string[]): MountPlan {
  const h = body.HostConfig ?? {};
  const mounts: MountPoint[] = [];
  const volumes: MountPlan['volumes'] = [];
  const seen = new Set<string>();
  const add = (m: MountPoint, vol?: { name: string; noCopy: boolean; labels?: Record<string, string> }): void => {
    if (seen.has(m.Destination)) throw invalid(`Duplicate mount point: ${m.Destination}`);
    seen.add(m.Destination);
    if (vol) volumes.push({ index: mounts.length, ...vol });
    mounts.push(m);
  };
  for (const b of h.Binds ?? []) {
    let s;
    try {
      s = parseBindSpec(b);
    } catch (e) {
      if (e instanceof BindSpecError) throw invalid(`HostConfig.Binds: ${e.message}`);
      throw e;
    }
    if (s.type === 'bind') {
      // As Docker's -v: a missing host directory is created (only --mount type=bind refuses, below).
      if (!existsSync(s.source)) {
        try {
          mkdirSync(s.source, { recursive: true, mode: 0o755 });
        } catch (e) {
          throw invalid(`error while creating mount source path '${s.source}': ${(e as Error).message} (HostConfig.Binds "${b}")`);
        }
      }
      add({ Type: 'bind', Source: s.source, Destination: s.target, Mode: s.mode, RW: !s.readOnly, Propagation: s.propagation ?? 'rprivate' });
    } else {
      add({ Type: 'volume', Name: s.source, Source: '', Destination: s.target, Mode: s.mode, RW: !s.readOnly, Propagation: '', Anonymous: s.source === '' }, { name: s.source, noCopy: s.noCopy });
    }
  }
  for (const m of h.Mounts ?? []) {
    const target = cleanPath(m.Target);
    if (m.Type === 'bind') {
      const src = cleanPath(m.Source ?? '');
      if (!existsSync(src)) throw invalid(`invalid mount config for type "bind": bind source path does not exist: ${src}`);
      add({ Type: 'bind', Source: src, Destination: target, Mode: '', RW: !m.ReadOnly, Propagation: m.BindOptions?.Propagation ?? 'rprivate' });
    } else if (m.Type === 'volume') {
      const name = m.Source ?? '';
      add(
        { Type: 'volume', Name: name, Source: '', Destination: target, Mode: 'z', RW: !m.ReadOnly, Propagation: '', Anonymous: name === '' },
        { name, noCopy: m.VolumeOptions?.NoCopy ?? false, ...(m.VolumeOptions?.Labels ? { labels: m.VolumeOptions.Labels } : {}) },
      );
    } else {
      const opts: string[] = [];
      if (m.TmpfsOptions?.SizeBytes) opts.push(`size=${m.TmpfsOptions.SizeBytes}`);
      if (m.TmpfsOptions?.Mode) opts.push(`mode=${m.TmpfsOptions.Mode.toString(8)}`);
      add({ Type: 'tmpfs', Source: '', Destination: target, Mode: '', RW: !m.ReadOnly, Propagation: '', Options: opts });
    }
  }
  for (const [path, optText] of Object.entries(h.Tmpfs ?? {})) {
    const opts = optText ? optText.split(',').filter(Boolean) : [];
    const ro = opts.includes('ro');
    add({ Type: 'tmpfs', Source: '', Destination: cleanPath(path), Mode: optText, RW: !ro, Propagation: '', Options: opts.filter((o) => o !== 'ro' && o !== 'rw') });
  }
  for (const path of [...Object.keys(body.Volumes ?? {}), ...imageVolumes]) {
    const dest = cleanPath(path);
    if (seen.has(dest)) continue;
    add({ Type: 'volume', Name: '', Source: '', Destination: dest, Mode: '', RW: true, Propagation: '', Anonymous: true }, { name: '', noCopy: false });
  }
  return { mounts, volumes };
}

/**
 * Creates the planned volumes and fills new ones from the image (copy-up). Returns the names made
 * here (to undo on failure) and those used (to reference).
 */
export async function createVolumes(plan: MountPlan, svc: VolumeService, lowerDirs: string[], containerId: string): Promise<{ created: string[] }> {
  const created: string[] = [];
  try {
    for (const v of plan.volumes) {
      const m = plan.mounts[v.index]!;
      const existed = v.name !== '' && svc.has(v.name);
      const vol = await svc.create({ ...(v.name ? { Name: v.name } : {}), ...(v.labels ? { Labels: v.labels } : {}) }, { anonymous: v.name === '' });
      if (!existed) created.push(vol.Name);
      m.Name = vol.Name;
      m.Source = vol.Mountpoint;
      svc.acquire(vol.Name, containerId);
      if (!v.noCopy) {
        const rel = m.Destination.replace(/^\/+/, '');
        const src = lowerDirs.map((d) => join(d, rel)).find((p) => existsSync(p));
        if (src) await svc.copyUp(vol.Name, src);
      }
    }
  } catch (err) {
    for (const v of plan.volumes) {
      const n = plan.mounts[v.index]!.Name;
      if (n) svc.release(n, containerId);
    }
    for (const n of created) await svc.remove(n, { force: true }).catch(() => undefined);
    throw err;
  }
  return { created };
}
