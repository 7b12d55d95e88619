// The bytes of a stack's secrets and configs: a file (relative paths were made absolute by the loader,
// against the compose file's directory), a variable of the environment, or inline content.
import { readFileSync } from 'node:fs';
import type { StackFileObject } from './convert.js';
import type { ContentSpec } from './plan.js';

export class ContentError extends Error {
  override name = 'ContentError';
}

export function readContent(kind: 'secret' | 'config', o: StackFileObject, environment: Record<string, string | undefined>): Buffer {
  const where = `${kind}s.${o.key}`;
  switch (o.source.kind) {
    case 'file':
      try {
        return readFileSync(o.source.path);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        throw new ContentError(
          `${where}.file: cannot read ${o.source.path}: ${code === 'ENOENT' ? 'no such file or directory' : code === 'EISDIR' ? 'is a directory' : (e as Error).message}`,
        );
      }
    case 'environment': {
      const v = environment[o.source.variable];
      if (v === undefined) throw new ContentError(`${where}.environment: variable ${o.source.variable} is not set`);
      return Buffer.from(v);
    }
    case 'inline':
      return Buffer.from(o.source.content);
  }
}

export function contentSpec(kind: 'secret' | 'config', o: StackFileObject, environment: Record<string, string | undefined>): ContentSpec {
  const spec: ContentSpec = { Name: o.name, Labels: o.labels, Data: readContent(kind, o, environment).toString('base64') };
  if (o.driver) spec.Driver = o.driver;
  if (o.templateDriver) spec.Templating = { Name: o.templateDriver };
  return spec;
}
