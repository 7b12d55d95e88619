// USER and --chown name resolution against the image's own /etc/passwd and /etc/group, as runc and
// Docker do it: numbers are taken as they are, names must exist in the image.

import { InstructionError } from './errors.js';

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

export interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

export function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    const f = line.split(':');
    const uid = Number(f[2]);
    const gid = Number(f[3]);
    if (f.length < 4 || !Number.isInteger(uid) || !Number.isInteger(gid)) continue;
    out.push({ name: f[0] as string, uid, gid, home: f[5] ?? '/' });
  }
  return out;
}

export function parseGroup(text: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    const f = line.split(':');
    const gid = Number(f[2]);
    if (f.length < 3 || !Number.isInteger(gid)) continue;
    out.push({ name: f[0] as string, gid, members: (f[3] ?? '').split(',').filter((m) => m !== '') });
  }
  return out;
}

export interface ResolvedUser {
  uid: number;
  gid: number;
  additionalGids: number[];
  home: string;
}

const isNum = (s: string): boolean => /^\d+$/u.test(s);

/**
 * `user[:group]` → ids. passwd/group are the image's files (undefined when the image has none).
 * Supplementary groups come from /etc/group only when no group was given, like runc.
 */
export function resolveUser(spec: string, passwd: string | undefined, group: string | undefined): ResolvedUser {
  const [userPart = '', groupPart] = spec.split(':', 2);
  const users = passwd === undefined ? [] : parsePasswd(passwd);
  const groups = group === undefined ? [] : parseGroup(group);
  let uid: number;
  let gid = 0;
  let home = '/';
  let name: string | undefined;
  const byName = users.find((u) => u.name === userPart);
  const byId = isNum(userPart) ? users.find((u) => u.uid === Number(userPart)) : undefined;
  if (userPart === '') {
    uid = 0;
  } else if (isNum(userPart)) {
    uid = Number(userPart);
    if (byId) {
      gid = byId.gid;
      home = byId.home;
      name = byId.name;
    }
  } else if (byName) {
    uid = byName.uid;
    gid = byName.gid;
    home = byName.home;
    name = byName.name;
  } else {
    throw new InstructionError(`unable to find user ${userPart}: no matching entries in the image's /etc/passwd`);
  }
  let additionalGids: number[] = [];
  if (groupPart !== undefined && groupPart !== '') {
    if (isNum(groupPart)) gid = Number(groupPart);
    else {
      const g = groups.find((x) => x.name === groupPart);
      if (!g) throw new InstructionError(`unable to find group ${groupPart}: no matching entries in the image's /etc/group`);
      gid = g.gid;
    }
  } else if (name !== undefined) {
    additionalGids = groups.filter((g) => g.members.includes(name as string) && g.gid !== gid).map((g) => g.gid);
  }
  return { uid, gid, additionalGids, home };
}

/** --chown=user[:group]: like USER, except a user alone also sets the group to the user's primary. */
export function resolveChown(spec: string, passwd: string | undefined, group: string | undefined): { uid: number; gid: number } {
  const [userPart = '', groupPart] = spec.split(':', 2);
  if (isNum(userPart) && (groupPart === undefined || isNum(groupPart))) {
    // Docker: "--chown=10" means 10:10 when only numbers are given.
    const uid = Number(userPart);
    return { uid, gid: groupPart === undefined ? uid : Number(groupPart) };
  }
  const r = resolveUser(spec, passwd, group);
  return { uid: r.uid, gid: r.gid };
}
