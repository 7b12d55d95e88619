// Docker's service templates — `{{.Service.Name}}`, `{{.Task.Slot}}`, `{{.Node.Hostname}}` … — in a
// task's hostname, env and mount sources, and the Go-template configs (`--template-driver golang`)
// with `{{env "X"}}`, `{{secret "name"}}` and `{{config "name"}}`. A subset of Go's text/template: field
// paths and those three functions; anything else is an error naming the expression. Pure.
import { InvalidArgumentError } from '../../lib/errors.js';

export interface TemplateContext {
  Service: { ID: string; Name: string; Labels: Record<string, string> };
  Task: { ID: string; Name: string; Slot: string };
  Node: { ID: string; Hostname: string; Platform: { OS: string; Architecture: string } };
}

export interface TemplateFunctions {
  env?: (name: string) => string;
  secret?: (name: string) => string;
  config?: (name: string) => string;
}

export function expand(text: string, ctx: TemplateContext, fns: TemplateFunctions = {}, where = 'template'): string {
  return text.replace(/\{\{-?\s*(.*?)\s*-?\}\}/g, (_m, expr: string) => {
    const call = /^(env|secret|config)\s+"([^"]*)"$/.exec(expr);
    if (call) {
      const fn = fns[call[1] as keyof TemplateFunctions];
      if (!fn) throw new InvalidArgumentError(`${where}: {{${expr}}}: function ${call[1]} is not available here`);
      return fn(call[2]!);
    }
    if (!expr.startsWith('.')) throw new InvalidArgumentError(`${where}: {{${expr}}} is not supported (want a field such as {{.Task.Slot}} or env/secret/config "NAME")`);
    let v: unknown = ctx;
    for (const part of expr.slice(1).split('.')) {
      if (v === null || typeof v !== 'object' || !(part in (v as object))) throw new InvalidArgumentError(`${where}: {{${expr}}}: no field ${part}`);
      v = (v as Record<string, unknown>)[part];
    }
    if (typeof v === 'object') throw new InvalidArgumentError(`${where}: {{${expr}}} is not a value`);
    return String(v);
  });
}
