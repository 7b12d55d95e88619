// The official compose-spec JSON schema as a test oracle: every corpus file gets the same verdict
// from our loader as from the schema (via ajv), except where we are deliberately stricter, listed
// below with the reason. Also checks that the corpus covers every key of the schema.
import { strict as assert } from 'node:assert';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { parseYaml } from './yaml.js';
import { withoutResets } from './merge.js';
import { validateComposeFile, SERVICE_KEYS, TOP_LEVEL_KEYS } from './schema.js';
import { loadProject } from './load.js';
import { ComposeError } from './errors.js';
import { SUPPORTED_SERVICE_KEYS, UNSUPPORTED_SERVICE_KEYS } from './support.js';
import { isRecord } from './util.js';

const here = dirname(fileURLToPath(import.meta.url));
const corpus = join(here, 'testdata', 'oracle');
// The official schema lives in shared/, beside the repository (never copied in).
const SCHEMA_PATH = process.env.COMPOSE_SPEC_SCHEMA ?? join(here, '..', '..', 'shared', 'spec', 'compose-spec.json');

// Schema-valid files we reject on purpose: the schema checks shapes, not meaning.
const STRICTER: Record<string, string> = {
  'sem-port-three-parts.yaml': "ajv accepts any string as a port; '80:80:80' is not a port mapping",
  'sem-undefined-network.yaml': 'the schema cannot check references to top-level networks',
  'sem-undefined-volume.yaml': 'the schema cannot check references to top-level volumes',
  'sem-undefined-secret.yaml': 'the schema cannot check references to top-level secrets',
  'sem-undefined-config.yaml': 'the schema cannot check references to top-level configs',
  'sem-undefined-dependency.yaml': 'the schema cannot check references between services',
  'sem-cycle.yaml': 'a dependency cycle cannot be started',
  'sem-container-name-scale.yaml': 'container names must be unique, so scale must be 1',
  'sem-no-image.yaml': 'a service needs an image or a build context to run',
  'sem-required-variable.yaml': '${VAR:?err} must fail when VAR is unset (interpolation is not the schema)',
  'sem-scale-replicas.yaml': 'scale and deploy.replicas disagree',
  'sem-restart-policy.yaml': 'restart is any string to the schema; Docker knows four policies',
  'sem-network-mode-and-networks.yaml': 'network_mode and networks are mutually exclusive',
  'sem-bad-duration.yaml': 'durations are any string to the schema',
  'sem-bad-memory.yaml': 'sizes are any string to the schema',
  'sem-external-with-driver.yaml': 'an external network cannot be configured',
  'sem-extends-unknown.yaml': 'extends must name an existing service',
  'sem-extends-cycle.yaml': 'extends cannot be cyclic',
  'sem-volume-relative-target.yaml': 'a container path must be absolute',
  'sem-invalid-interpolation.yaml': 'an unterminated ${ is an interpolation error',
  'sem-healthcheck-test.yaml': 'a healthcheck test list must start with NONE, CMD or CMD-SHELL',
  'sem-bad-bool-string.yaml': "booleans may be strings to the schema, but 'maybe' is not a boolean",
};

// Files that are not YAML documents have no schema verdict; both sides must reject them.
const NOT_YAML = new Set(['yaml-syntax.yaml', 'yaml-duplicate-key.yaml']);

function files(kind: 'valid' | 'invalid'): string[] {
  return readdirSync(join(corpus, kind))
    .filter((f) => f.endsWith('.yaml'))
    .sort();
}

function parsed(path: string): unknown {
  const p = parseYaml(readFileSync(path, 'utf8'), path);
  return withoutResets(p.value, p.tags);
}

function ourVerdict(path: string): { ok: boolean; error?: string } {
  try {
    loadProject({ files: [path], cwd: dirname(path), environment: {}, home: '/home/test', projectName: 'oracle' });
    return { ok: true };
  } catch (e) {
    if (e instanceof ComposeError) return { ok: false, error: e.message };
    throw e;
  }
}

describe('compose-spec oracle (official JSON schema via ajv)', function () {
  // The schema is reference data beside the repository, which a user's fresh clone does not have:
  // there the cross-check is skipped (pending, with the reason), never failed.
  if (!existsSync(SCHEMA_PATH)) {
    it(`cross-checks against the official schema — skipped: not found at ${SCHEMA_PATH} (set COMPOSE_SPEC_SCHEMA to its path)`);
    return;
  }
  const schema = JSON.parse(readFileSync(SCHEMA_PATH, 'utf8')) as Record<string, unknown>;
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  const addFormats = addFormatsModule as unknown as (a: Ajv2020) => void;
  addFormats(ajv);
  const validate = ajv.compile(schema);
  const ajvVerdict = (path: string): boolean => validate(parsed(path)) === true;

  describe('valid files: accepted by both', () => {
    for (const f of files('valid')) {
      it(f, () => {
        const path = join(corpus, 'valid', f);
        assert.equal(ajvVerdict(path), true, `ajv rejects ${f}: ${JSON.stringify(validate.errors?.slice(0, 3))}`);
        assert.deepEqual(validateComposeFile(parsed(path)), [], 'our schema rejects it');
        const v = ourVerdict(path);
        assert.equal(v.ok, true, `we reject ${f}: ${v.error}`);
      });
    }
  });

  describe('invalid files: rejected by both (or deliberately by us only)', () => {
    for (const f of files('invalid')) {
      it(f, () => {
        const path = join(corpus, 'invalid', f);
        const ours = ourVerdict(path);
        assert.equal(ours.ok, false, `we accept ${f}`);
        if (NOT_YAML.has(f)) {
          assert.throws(() => parsed(path), ComposeError);
          assert.match(ours.error!, /:\d+:\d+: YAML syntax error/);
          return;
        }
        const value = parsed(path);
        const ajvOk = validate(value) === true;
        const schemaProblems = validateComposeFile(value);
        if (Object.hasOwn(STRICTER, f)) {
          assert.equal(ajvOk, true, `${f} is listed as deliberately stricter but ajv rejects it too`);
          assert.deepEqual(schemaProblems, [], 'stricter files must pass the schema stage, and fail later');
        } else {
          assert.equal(ajvOk, false, `ajv accepts ${f}`);
          assert.notDeepEqual(schemaProblems, [], `our schema stage accepts ${f} (rejected later: ${ours.error})`);
        }
        // Every error names the file and the key path.
        assert.match(ours.error!, new RegExp(`${f.replace(/\./g, '\\.')}`));
      });
    }
  });

  describe('coverage', () => {
    const defs = schema.$defs as Record<string, { properties: Record<string, unknown> }>;
    const serviceKeys = Object.keys(defs.service!.properties).sort();
    const topKeys = Object.keys(schema.properties as Record<string, unknown>).sort();

    it('schema.ts knows exactly the service keys of the official schema', () => {
      assert.deepEqual([...SERVICE_KEYS].sort(), serviceKeys);
    });
    it('schema.ts knows exactly the top-level keys of the official schema', () => {
      assert.deepEqual([...TOP_LEVEL_KEYS].sort(), topKeys);
    });
    it('every service key is either supported or warned about, not both', () => {
      const both = SUPPORTED_SERVICE_KEYS.filter((k) => UNSUPPORTED_SERVICE_KEYS.includes(k));
      assert.deepEqual(both, []);
      assert.deepEqual([...SUPPORTED_SERVICE_KEYS, ...UNSUPPORTED_SERVICE_KEYS].sort(), serviceKeys);
    });
    it('every service key and top-level key appears in a valid corpus file', () => {
      const seenService = new Set<string>();
      const seenTop = new Set<string>();
      for (const f of files('valid')) {
        const v = parsed(join(corpus, 'valid', f));
        if (!isRecord(v)) continue;
        Object.keys(v).forEach((k) => seenTop.add(k));
        if (isRecord(v.services)) for (const s of Object.values(v.services)) if (isRecord(s)) Object.keys(s).forEach((k) => seenService.add(k));
      }
      assert.deepEqual(serviceKeys.filter((k) => !seenService.has(k)), [], 'service keys missing from the valid corpus');
      assert.deepEqual(topKeys.filter((k) => !seenTop.has(k)), [], 'top-level keys missing from the valid corpus');
    });
  });
});
