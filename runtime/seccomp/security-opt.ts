// Pure: Docker's HostConfig.SecurityOpt entries → what the spec builder applies. The CLI reads a
// `seccomp=FILE` itself and sends the file's JSON, as Docker's does, so the daemon sees profile text.
import { seccompSchema, type Seccomp } from './schema.js';

export interface SecurityOptions {
  /** 'default' = the engine's profile for the container's capabilities; 'unconfined' = none. */
  seccomp: 'default' | 'unconfined' | Seccomp;
  noNewPrivileges: boolean;
}

/** Returns the options, or throws an Error whose message names the entry (SecurityOpt[i]) and the fix. */
export function parseSecurityOpts(opts: readonly string[] = []): SecurityOptions {
  const out: SecurityOptions = { seccomp: 'default', noNewPrivileges: false };
  opts.forEach((raw, i) => {
    const where = `HostConfig.SecurityOpt[${i}]`;
    // Docker accepts both "key=value" and the older "key:value".
    const m = /^([a-z-]+)(?:[=:]([\s\S]*))?$/.exec(raw);
    const key = m?.[1] ?? '';
    const value = m?.[2];
    switch (key) {
      case 'seccomp': {
        if (value === undefined || value === '') throw new Error(`${where}: seccomp needs a value: seccomp=unconfined or seccomp=<profile JSON>`);
        if (value === 'unconfined') out.seccomp = 'unconfined';
        else {
          let json: unknown;
          try {
            json = JSON.parse(value);
          } catch {
            throw new Error(`${where}: seccomp=${value.slice(0, 40)}: not "unconfined" nor a JSON profile (the CLI's --security-opt seccomp=FILE sends the file's JSON)`);
          }
          const r = seccompSchema.safeParse(json);
          if (!r.success) {
            const issue = r.error.issues[0]!;
            throw new Error(`${where}: seccomp profile: ${issue.path.join('.') || '(top)'}: ${issue.message}`);
          }
          out.seccomp = r.data;
        }
        break;
      }
      case 'no-new-privileges':
        if (value === undefined || value === 'true') out.noNewPrivileges = true;
        else if (value === 'false') out.noNewPrivileges = false;
        else throw new Error(`${where}: no-new-privileges takes true or false, got ${JSON.stringify(value)}`);
        break;
      case 'label':
      case 'apparmor':
        throw new Error(`${where}: ${key} is not supported by this engine (no SELinux/AppArmor); remove ${JSON.stringify(raw)}`);
      default:
        throw new Error(`${where}: unknown security option ${JSON.stringify(raw)}; supported: seccomp=unconfined|<profile JSON>, no-new-privileges[=true|false]`);
    }
  });
  return out;
}
