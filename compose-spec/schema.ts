// The Compose file format as zod schemas, mirroring the official compose-spec JSON schema rule for
// rule (the oracle test holds us to the same verdict). This is the boundary check of one file after
// interpolation; what the schema cannot say (a port string that is not a port) is normalise.ts's job.
// Only the verdict and the issues are used, never zod's output, so the schemas may drop x- keys first.
import { z } from 'zod';
import { formatPath, type PathSegment, type Problem } from './errors.js';
import { isRecord, stableStringify } from './util.js';

type Schema = z.ZodType;

const X = /^x-/;
const NAME = /^[a-zA-Z0-9._-]+$/;

const stripKeys = (keep: (k: string) => boolean) => (v: unknown) => {
  if (!isRecord(v)) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) if (keep(k)) Object.defineProperty(out, k, { value: x, enumerable: true });
  return out;
};

/** An object with known properties, extension keys (x-…) allowed, nothing else. */
function xobj(shape: Record<string, Schema>): Schema {
  return z.preprocess(stripKeys((k) => !X.test(k)), z.strictObject(shape));
}
/** An object with known properties and nothing else, not even x- keys. */
function sobj(shape: Record<string, Schema>): Schema {
  return z.strictObject(shape);
}
/** patternProperties without additionalProperties: false: keys that do not match go unchecked. */
function patternMap(re: RegExp, value: Schema): Schema {
  return z.preprocess(stripKeys((k) => re.test(k)), z.record(z.string(), value));
}
/** patternProperties with additionalProperties: false: every key must match. */
function strictPatternMap(re: RegExp, value: Schema): Schema {
  return z.record(z.string().regex(re), value);
}
/** uniqueItems: true, with JSON-schema equality (deep, key order irrelevant). */
function uniqueArray(item: Schema): Schema {
  return z.array(item).superRefine((arr, ctx) => {
    const seen = new Map<string, number>();
    arr.forEach((v, i) => {
      const key = stableStringify(v);
      const first = seen.get(key);
      if (first !== undefined) ctx.addIssue({ code: 'custom', path: [i], message: `duplicate of item ${first}; items must be unique` });
      else seen.set(key, i);
    });
  });
}
const union = (options: Schema[], what: string) => z.union(options as [Schema, Schema, ...Schema[]], { error: `must be ${what}` });

const str = z.string();
const num = z.number();
const int = z.number().int();
const bool = z.boolean();
const nul = z.null();
const boolStr = union([bool, str], 'a boolean or a string');
const numStr = union([num, str], 'a number or a string');
const intStr = union([int, str], 'an integer or a string');

const listOfStrings = uniqueArray(str);
const stringOrList = union([str, listOfStrings], 'a string or a list of unique strings');
const listOrDict = union(
  [strictPatternMap(/.+/, union([str, num, bool, nul], 'a string, number, boolean or null')), uniqueArray(str)],
  'a mapping or a list of unique strings',
);
const command = union([nul, str, z.array(str)], 'null, a string or a list of strings');
const extraHosts = union(
  [strictPatternMap(/.+/, union([str, z.array(str)], 'a string or a list of strings')), uniqueArray(str)],
  'a mapping or a list of unique strings',
);
const optsMap = patternMap(/^.+$/, union([str, num], 'a string or a number'));

const blkioLimit = sobj({ path: str.optional(), rate: intStr.optional() });
const blkioWeight = sobj({ path: str.optional(), weight: intStr.optional() });

const serviceConfigOrSecret = z.array(
  union([str, xobj({ source: str.optional(), target: str.optional(), uid: str.optional(), gid: str.optional(), mode: numStr.optional() })], 'a string or a mapping'),
);

const ulimits = patternMap(
  /^[a-z]+$/,
  union([int, str, xobj({ hard: intStr, soft: intStr })], 'an integer, a string or a mapping with soft and hard'),
);

const envFile = union(
  [
    str,
    z.array(union([str, sobj({ path: str, format: str.optional(), required: boolStr.optional() })], 'a string or a mapping with path')),
  ],
  'a string or a list',
);
const labelFile = union([str, z.array(str)], 'a string or a list of strings');

const serviceHook = xobj({
  command,
  user: str.optional(),
  privileged: boolStr.optional(),
  working_dir: str.optional(),
  environment: listOrDict.optional(),
});
const preStartHook = xobj({
  command: command.optional(),
  image: str.optional(),
  user: str.optional(),
  privileged: boolStr.optional(),
  working_dir: str.optional(),
  environment: listOrDict.optional(),
  per_replica: boolStr.optional(),
});

const deviceRequest = xobj({
  capabilities: listOfStrings,
  count: union([str, int], 'a string or an integer').optional(),
  device_ids: listOfStrings.optional(),
  driver: str.optional(),
  options: listOrDict.optional(),
});
const gpus = union(
  [
    z.literal('all'),
    z.array(
      z.looseObject({
        capabilities: listOfStrings.optional(),
        count: union([str, int], 'a string or an integer').optional(),
        device_ids: listOfStrings.optional(),
        driver: str.optional(),
        options: listOrDict.optional(),
      }),
    ),
  ],
  "'all' or a list of device requests",
);
const genericResources = z.array(
  xobj({ discrete_resource_spec: xobj({ kind: str.optional(), value: numStr.optional() }).optional() }),
);

const updateConfig = xobj({
  parallelism: intStr.optional(),
  delay: str.optional(),
  failure_action: str.optional(),
  monitor: str.optional(),
  max_failure_ratio: numStr.optional(),
  order: z.enum(['start-first', 'stop-first']).optional(),
});

const deployment = union(
  [
    nul,
    xobj({
      mode: str.optional(),
      endpoint_mode: str.optional(),
      replicas: intStr.optional(),
      labels: listOrDict.optional(),
      rollback_config: updateConfig.optional(),
      update_config: updateConfig.optional(),
      resources: xobj({
        limits: xobj({ cpus: numStr.optional(), memory: str.optional(), pids: intStr.optional() }).optional(),
        reservations: xobj({
          cpus: numStr.optional(),
          memory: str.optional(),
          generic_resources: genericResources.optional(),
          devices: z.array(deviceRequest).optional(),
        }).optional(),
      }).optional(),
      restart_policy: xobj({ condition: str.optional(), delay: str.optional(), max_attempts: intStr.optional(), window: str.optional() }).optional(),
      placement: xobj({
        constraints: z.array(str).optional(),
        preferences: z.array(xobj({ spread: str.optional() })).optional(),
        max_replicas_per_node: intStr.optional(),
      }).optional(),
    }),
  ],
  'null or a mapping',
);

const development = union(
  [
    nul,
    xobj({
      watch: z
        .array(
          xobj({
            ignore: stringOrList.optional(),
            include: stringOrList.optional(),
            path: str,
            action: z.enum(['rebuild', 'sync', 'restart', 'sync+restart', 'sync+exec']),
            target: str.optional(),
            exec: serviceHook.optional(),
            initial_sync: bool.optional(),
          }),
        )
        .optional(),
    }),
  ],
  'null or a mapping',
);

const healthcheck = xobj({
  disable: boolStr.optional(),
  interval: str.optional(),
  retries: numStr.optional(),
  test: union([str, z.array(str)], 'a string or a list of strings').optional(),
  timeout: str.optional(),
  start_period: str.optional(),
  start_interval: str.optional(),
});

const build = union(
  [
    str,
    xobj({
      context: str.optional(),
      dockerfile: str.optional(),
      dockerfile_inline: str.optional(),
      entitlements: z.array(str).optional(),
      args: listOrDict.optional(),
      ssh: listOrDict.optional(),
      labels: listOrDict.optional(),
      cache_from: z.array(str).optional(),
      cache_to: z.array(str).optional(),
      no_cache: boolStr.optional(),
      no_cache_filter: stringOrList.optional(),
      additional_contexts: listOrDict.optional(),
      network: str.optional(),
      provenance: union([str, bool], 'a string or a boolean').optional(),
      sbom: union([str, bool], 'a string or a boolean').optional(),
      pull: boolStr.optional(),
      target: str.optional(),
      shm_size: intStr.optional(),
      extra_hosts: extraHosts.optional(),
      isolation: str.optional(),
      privileged: boolStr.optional(),
      secrets: serviceConfigOrSecret.optional(),
      tags: z.array(str).optional(),
      ulimits: ulimits.optional(),
      platforms: z.array(str).optional(),
    }),
  ],
  'a string or a mapping',
);

const portObject = xobj({
  name: str.optional(),
  mode: str.optional(),
  host_ip: str.optional(),
  target: intStr.optional(),
  published: union([str, int], 'a string or an integer').optional(),
  protocol: str.optional(),
  app_protocol: str.optional(),
});

const serviceVolume = union(
  [
    str,
    xobj({
      type: z.enum(['bind', 'volume', 'tmpfs', 'cluster', 'npipe', 'image']),
      source: str.optional(),
      target: str.optional(),
      read_only: boolStr.optional(),
      consistency: str.optional(),
      bind: xobj({
        propagation: str.optional(),
        create_host_path: boolStr.optional(),
        recursive: z.enum(['enabled', 'disabled', 'writable', 'readonly']).optional(),
        selinux: z.enum(['z', 'Z']).optional(),
      }).optional(),
      volume: xobj({ labels: listOrDict.optional(), nocopy: boolStr.optional(), subpath: str.optional() }).optional(),
      tmpfs: xobj({ size: union([int.min(0), str], 'a non-negative integer or a string').optional(), mode: numStr.optional() }).optional(),
      image: xobj({ subpath: str.optional() }).optional(),
    }),
  ],
  'a string or a mapping with type',
);

const serviceNetworks = union(
  [
    listOfStrings,
    strictPatternMap(
      NAME,
      union(
        [
          xobj({
            aliases: listOfStrings.optional(),
            interface_name: str.optional(),
            ipv4_address: str.optional(),
            ipv6_address: str.optional(),
            link_local_ips: listOfStrings.optional(),
            mac_address: str.optional(),
            driver_opts: optsMap.optional(),
            priority: num.optional(),
            gw_priority: num.optional(),
          }),
          nul,
        ],
        'null or a mapping',
      ),
    ),
  ],
  'a list of network names or a mapping',
);

const dependsOn = union(
  [
    listOfStrings,
    strictPatternMap(
      NAME,
      xobj({
        restart: boolStr.optional(),
        required: bool.optional(),
        condition: z.enum(['service_started', 'service_healthy', 'service_completed_successfully']),
      }),
    ),
  ],
  'a list of service names or a mapping',
);

const serviceShape: Record<string, Schema> = {
  develop: development,
  deploy: deployment,
  annotations: listOrDict,
  attach: boolStr,
  build,
  blkio_config: sobj({
    device_read_bps: z.array(blkioLimit).optional(),
    device_read_iops: z.array(blkioLimit).optional(),
    device_write_bps: z.array(blkioLimit).optional(),
    device_write_iops: z.array(blkioLimit).optional(),
    weight: intStr.optional(),
    weight_device: z.array(blkioWeight).optional(),
  }),
  cap_add: uniqueArray(str),
  cap_drop: uniqueArray(str),
  cgroup: z.enum(['host', 'private']),
  cgroup_parent: str,
  command,
  configs: serviceConfigOrSecret,
  container_name: str.regex(/[a-zA-Z0-9][a-zA-Z0-9_.-]+/),
  cpu_count: union([str, int.min(0)], 'a string or a non-negative integer'),
  cpu_percent: union([str, int.min(0).max(100)], 'a string or an integer from 0 to 100'),
  cpu_shares: numStr,
  cpu_quota: numStr,
  cpu_period: numStr,
  cpu_rt_period: numStr,
  cpu_rt_runtime: numStr,
  cpus: numStr,
  cpuset: str,
  credential_spec: xobj({ config: str.optional(), file: str.optional(), registry: str.optional() }),
  depends_on: dependsOn,
  device_cgroup_rules: listOfStrings,
  devices: z.array(union([str, xobj({ source: str, target: str.optional(), permissions: str.optional() })], 'a string or a mapping with source')),
  dns: stringOrList,
  dns_opt: uniqueArray(str),
  dns_search: stringOrList,
  domainname: str,
  entrypoint: command,
  env_file: envFile,
  label_file: labelFile,
  environment: listOrDict,
  expose: uniqueArray(union([str, num], 'a string or a number')),
  extends: union([str, sobj({ service: str, file: str.optional() })], 'a string or a mapping with service'),
  provider: xobj({
    type: str,
    options: patternMap(
      /^.+$/,
      union(
        [union([str, num, bool], 'a string, number or boolean'), z.array(union([str, num, bool], 'a string, number or boolean'))],
        'a scalar or a list of scalars',
      ),
    ).optional(),
  }),
  external_links: uniqueArray(str),
  extra_hosts: extraHosts,
  gpus,
  group_add: uniqueArray(union([str, num], 'a string or a number')),
  healthcheck,
  hostname: str,
  image: str,
  init: boolStr,
  ipc: str,
  isolation: str,
  labels: listOrDict,
  links: uniqueArray(str),
  logging: xobj({ driver: str.optional(), options: patternMap(/^.+$/, union([str, num, nul], 'a string, number or null')).optional() }),
  mac_address: str,
  mem_limit: numStr,
  mem_reservation: union([str, int], 'a string or an integer'),
  mem_swappiness: intStr,
  memswap_limit: numStr,
  network_mode: str,
  models: union(
    [
      listOfStrings,
      patternMap(NAME, union([xobj({ endpoint_var: str.optional(), model_var: str.optional() }), nul], 'null or a mapping')),
    ],
    'a list or a mapping',
  ),
  networks: serviceNetworks,
  oom_kill_disable: boolStr,
  oom_score_adj: union([str, int.min(-1000).max(1000)], 'a string or an integer from -1000 to 1000'),
  pid: union([str, nul], 'a string or null'),
  pids_limit: numStr,
  platform: str,
  ports: uniqueArray(union([num, str, portObject], 'a number, a string or a mapping')),
  pre_start: z.array(preStartHook),
  post_start: z.array(serviceHook),
  pre_stop: z.array(serviceHook),
  privileged: boolStr,
  profiles: listOfStrings,
  pull_policy: str.regex(/always|never|build|if_not_present|missing|refresh|daily|weekly|every_([0-9]+[wdhms])+/),
  pull_refresh_after: str,
  read_only: boolStr,
  restart: str,
  runtime: str,
  scale: intStr,
  security_opt: uniqueArray(str),
  shm_size: numStr,
  secrets: serviceConfigOrSecret,
  sysctls: listOrDict,
  stdin_open: boolStr,
  stop_grace_period: str,
  stop_signal: str,
  storage_opt: z.record(z.string(), z.unknown()),
  tmpfs: stringOrList,
  tty: boolStr,
  ulimits,
  use_api_socket: bool,
  user: str,
  uts: str,
  userns_mode: str,
  volumes: uniqueArray(serviceVolume),
  volumes_from: uniqueArray(str),
  working_dir: str,
};

/** The service keys the file format knows, for the support table and the schema coverage test. */
export const SERVICE_KEYS: readonly string[] = Object.keys(serviceShape);

const service = xobj(Object.fromEntries(Object.entries(serviceShape).map(([k, s]) => [k, s.optional()])));

const externalStrict = union([bool, str, xobj({ name: str.optional() })], 'a boolean, a string or a mapping');
const externalLoose = union([bool, str, z.looseObject({ name: str.optional() })], 'a boolean, a string or a mapping');

const network = union(
  [
    nul,
    xobj({
      name: str.optional(),
      driver: str.optional(),
      driver_opts: optsMap.optional(),
      ipam: xobj({
        driver: str.optional(),
        config: z
          .array(
            xobj({
              subnet: str.optional(),
              ip_range: str.optional(),
              gateway: str.optional(),
              aux_addresses: strictPatternMap(/^.+$/, str).optional(),
            }),
          )
          .optional(),
        options: strictPatternMap(/^.+$/, str).optional(),
      }).optional(),
      external: externalStrict.optional(),
      internal: boolStr.optional(),
      enable_ipv4: boolStr.optional(),
      enable_ipv6: boolStr.optional(),
      attachable: boolStr.optional(),
      labels: listOrDict.optional(),
    }),
  ],
  'null or a mapping',
);

const volume = union(
  [
    nul,
    xobj({
      name: str.optional(),
      driver: str.optional(),
      driver_opts: optsMap.optional(),
      external: externalStrict.optional(),
      labels: listOrDict.optional(),
    }),
  ],
  'null or a mapping',
);

const secret = xobj({
  name: str.optional(),
  environment: str.optional(),
  file: str.optional(),
  external: externalLoose.optional(),
  labels: listOrDict.optional(),
  driver: str.optional(),
  driver_opts: optsMap.optional(),
  template_driver: str.optional(),
});

const config = xobj({
  name: str.optional(),
  content: str.optional(),
  environment: str.optional(),
  file: str.optional(),
  external: externalLoose.optional(),
  labels: listOrDict.optional(),
  template_driver: str.optional(),
});

const model = xobj({ name: str.optional(), model: str, context_size: int.optional(), runtime_flags: z.array(str).optional() });

const include = union(
  [str, sobj({ path: stringOrList.optional(), env_file: stringOrList.optional(), project_directory: str.optional() })],
  'a string or a mapping',
);

const topShape: Record<string, Schema> = {
  version: str.optional(),
  name: str.optional(),
  include: z.array(include).optional(),
  services: strictPatternMap(NAME, service).optional(),
  models: patternMap(NAME, model).optional(),
  networks: patternMap(NAME, network).optional(),
  volumes: strictPatternMap(NAME, volume).optional(),
  secrets: strictPatternMap(NAME, secret).optional(),
  configs: strictPatternMap(NAME, config).optional(),
};

export const TOP_LEVEL_KEYS: readonly string[] = Object.keys(topShape);

export const composeFileSchema: Schema = xobj(topShape);

const TYPE_NAMES: Record<string, string> = {
  object: 'a mapping',
  record: 'a mapping',
  array: 'a list',
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'a boolean',
  null: 'null',
};

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return `${typeof v} ${JSON.stringify(v)}`;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v = root;
  for (const seg of path) {
    if (Array.isArray(v) && typeof seg === 'number') v = v[seg];
    else if (isRecord(v) && typeof seg === 'string') v = v[seg];
    else return undefined;
  }
  return v;
}

type Issue = z.core.$ZodIssue;

// Turns zod issues into one line each, in the words of the schema rule that failed.
function flatten(issue: Issue, base: PathSegment[], root: unknown, out: Array<{ path: PathSegment[]; message: string }>): void {
  const path = [...base, ...(issue.path as PathSegment[])];
  const value = valueAt(root, path);
  if (value === undefined && (issue.code === 'invalid_type' || issue.code === 'invalid_value' || issue.code === 'invalid_union')) {
    out.push({ path, message: 'is required' });
    return;
  }
  switch (issue.code) {
    case 'invalid_union': {
      // Pick the alternative the value was evidently meant as: the one that did not fail on its type
      // right at this path. If that is unambiguous its issues are the useful ones.
      const candidates = issue.errors.filter((errs) => !errs.some((e) => e.path.length === 0 && (e.code === 'invalid_type' || e.code === 'invalid_union' || e.code === 'invalid_value')));
      if (candidates.length === 1) {
        for (const e of candidates[0]!) flatten(e, path, root, out);
        return;
      }
      out.push({ path, message: `${issue.message}, got ${describe(value)}` });
      return;
    }
    case 'invalid_type': {
      out.push({ path, message: `must be ${TYPE_NAMES[issue.expected] ?? issue.expected}, got ${describe(value)}` });
      return;
    }
    case 'unrecognized_keys':
      for (const k of issue.keys) out.push({ path: [...path, k], message: `additional property '${k}' is not allowed` });
      return;
    case 'invalid_key': {
      const key = path[path.length - 1];
      out.push({ path, message: `'${String(key)}' is not a valid name` });
      return;
    }
    case 'invalid_value':
      out.push({ path, message: `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, got ${describe(value)}` });
      return;
    case 'invalid_format':
      if (issue.format === 'regex') {
        out.push({ path, message: `${describe(value)} does not match ${(issue as { pattern?: string }).pattern ?? 'the required pattern'}` });
        return;
      }
      out.push({ path, message: issue.message });
      return;
    case 'too_small':
      out.push({ path, message: `must be at least ${String(issue.minimum)}, got ${describe(value)}` });
      return;
    case 'too_big':
      out.push({ path, message: `must be at most ${String(issue.maximum)}, got ${describe(value)}` });
      return;
    default:
      out.push({ path, message: issue.message });
  }
}

/** Validates one parsed, interpolated file. Returns problems with key paths (no file yet). */
export function validateComposeFile(value: unknown): Array<{ path: PathSegment[]; message: string }> {
  if (value === null || value === undefined) return [{ path: [], message: 'empty compose file' }];
  if (!isRecord(value)) return [{ path: [], message: `top level must be a mapping, got ${describe(value)}` }];
  const result = composeFileSchema.safeParse(value);
  if (result.success) return [];
  const out: Array<{ path: PathSegment[]; message: string }> = [];
  for (const issue of result.error.issues) flatten(issue, [], value, out);
  // The same rule can be reported through several union branches; keep one line per finding.
  const seen = new Set<string>();
  return out.filter((p) => {
    const k = `${formatPath(p.path)}\0${p.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

export type { Problem };
