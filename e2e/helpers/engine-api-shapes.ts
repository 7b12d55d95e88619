// Checks our Engine API answers against Docker Engine API v1.50's OpenAPI definitions (reference data
// in ../shared/spec, read in place; a fresh clone without it skips these checks with the reason).
// Swagger 2.0 objects are open (no additionalProperties: false), so this catches wrong types, enums
// and required fields of what we send, not fields we add.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { parse } from 'yaml';

const here = dirname(fileURLToPath(import.meta.url));
export const ENGINE_API_SPEC = process.env.ENGINE_API_SPEC ?? join(here, '..', '..', '..', 'shared', 'spec', 'docker-engine-api-v1.50.yaml');

export const engineApiSpecPresent = (): boolean => existsSync(ENGINE_API_SPEC);

/** Swagger's x-nullable as the nullable keyword Ajv knows. */
function nullable(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(nullable);
  if (!v || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k === 'x-nullable' ? 'nullable' : k] = nullable(x);
  if (out.nullable === true && out.type === undefined) delete out.nullable;
  return out;
}

let ajv: Ajv | undefined;

/** Errors of `value` against the named definition (e.g. "Task"), as "path: message" lines; [] when it fits. */
export function shapeErrors(definition: string, value: unknown): string[] {
  if (!ajv) {
    const doc = parse(readFileSync(ENGINE_API_SPEC, 'utf8')) as { definitions: Record<string, unknown> };
    ajv = new Ajv({ strict: false, validateFormats: false, allErrors: true });
    ajv.addSchema({ $id: 'engine', definitions: nullable(doc.definitions) });
  }
  const validate = ajv.getSchema(`engine#/definitions/${definition}`);
  if (!validate) throw new Error(`no definition ${definition} in ${ENGINE_API_SPEC}`);
  if (validate(value)) return [];
  return (validate.errors ?? []).map((e: { instancePath: string; message?: string }) => `${e.instancePath || '(root)'}: ${e.message}`);
}
