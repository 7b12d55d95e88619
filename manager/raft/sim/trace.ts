// A bounded ring of recent simulation events, formatted only when a run fails.

export type TraceEvent = readonly [time: number, what: string, detail?: unknown];

export class Trace {
  private readonly buf: Array<TraceEvent | undefined>;
  private n = 0;

  constructor(
    readonly capacity: number,
    private readonly format: (detail: unknown) => string | undefined = () => undefined,
  ) {
    this.buf = new Array<TraceEvent | undefined>(capacity);
  }

  add(time: number, what: string, detail?: unknown): void {
    this.buf[this.n % this.capacity] = [time, what, detail];
    this.n++;
  }

  lines(): string[] {
    const out: string[] = [];
    const start = Math.max(0, this.n - this.capacity);
    for (let i = start; i < this.n; i++) {
      const ev = this.buf[i % this.capacity];
      if (ev === undefined) continue;
      const [t, what, detail] = ev;
      const d = detail === undefined ? '' : (this.format(detail) ?? (typeof detail === 'string' ? detail : JSON.stringify(detail, replacer)));
      out.push(`${String(t).padStart(6)} ${what} ${d}`);
    }
    return out;
  }
}

function replacer(_k: string, v: unknown): unknown {
  if (v instanceof Uint8Array) return new TextDecoder().decode(v);
  return v;
}
