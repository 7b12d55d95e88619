// Profiles: a service with profiles is enabled only when one of them is active ("*" activates all);
// services named on the command line are enabled whatever their profiles, with what they depend on.

export interface ProfileInput {
  /** Service name → its profiles (empty: always enabled). */
  profiles: Record<string, readonly string[]>;
  /** Service name → services it requires (depends_on with required, links, volumes_from, network_mode). */
  dependencies: Record<string, readonly string[]>;
}

export interface ProfileResult {
  enabled: string[];
  disabled: string[];
  /** Active profiles: those asked for plus those of explicitly targeted services. */
  active: string[];
}

export function isEnabledByProfiles(profiles: readonly string[], active: ReadonlySet<string>): boolean {
  return profiles.length === 0 || active.has('*') || profiles.some((p) => active.has(p));
}

export function selectServices(input: ProfileInput, activeProfiles: readonly string[], targets: readonly string[] = []): ProfileResult {
  const active = new Set(activeProfiles.filter((p) => p !== ''));
  const names = Object.keys(input.profiles).sort();
  let enabled: Set<string>;
  if (targets.length > 0) {
    // Targeted services and everything they need, regardless of profiles.
    enabled = new Set<string>();
    const visit = (n: string) => {
      if (enabled.has(n) || !Object.hasOwn(input.profiles, n)) return;
      enabled.add(n);
      for (const d of input.dependencies[n] ?? []) visit(d);
    };
    targets.forEach(visit);
    for (const t of targets) for (const p of input.profiles[t] ?? []) active.add(p);
  } else {
    enabled = new Set(names.filter((n) => isEnabledByProfiles(input.profiles[n]!, active)));
  }
  return {
    enabled: names.filter((n) => enabled.has(n)),
    disabled: names.filter((n) => !enabled.has(n)),
    active: [...active].sort(),
  };
}
