/** Progress of a pull or push, per layer (`id` = short digest) or overall (no id). */
export interface ProgressEvent {
  id?: string;
  status: string;
  current?: number;
  total?: number;
}

export type ProgressListener = (e: ProgressEvent) => void;

export function shortId(digest: string): string {
  return digest.replace(/^sha256:/, '').slice(0, 12);
}

function human(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB'];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v < 10 && i > 0 ? v.toFixed(2) : v < 100 && i > 0 ? v.toFixed(1) : Math.round(v)}${units[i]}`;
}

/** "[=====>     ]  12.3MB/45.6MB", as docker prints it. */
export function progressBar(current: number, total: number, width = 50): string {
  if (!(total > 0)) return human(current);
  const frac = Math.min(1, current / total);
  const filled = Math.floor(frac * width);
  const bar = '='.repeat(Math.max(0, filled - 1)) + (filled > 0 ? (filled === width ? '=' : '>') : '') + ' '.repeat(width - filled);
  return `[${bar}] ${human(current).padStart(8)}/${human(total)}`;
}

/**
 * Renders events for a terminal: one live line per layer, redrawn in place. When the output is
 * not a TTY it prints plain lines, and only when a layer's status changes (no byte counters).
 */
export class ProgressRenderer {
  private readonly order: string[] = [];
  private readonly lines = new Map<string, string>();
  private readonly lastStatus = new Map<string, string>();
  private drawn = 0;

  constructor(
    private readonly out: { write(s: string): unknown },
    private readonly tty: boolean,
  ) {}

  readonly listener: ProgressListener = (e) => this.handle(e);

  handle(e: ProgressEvent): void {
    if (!e.id) {
      this.flushLive();
      this.out.write(`${e.status}\n`);
      return;
    }
    const text = e.current !== undefined && e.total !== undefined && /ing$/.test(e.status) ? `${e.id}: ${e.status} ${progressBar(e.current, e.total)}` : `${e.id}: ${e.status}`;
    if (!this.tty) {
      if (this.lastStatus.get(e.id) !== e.status) this.out.write(`${e.id}: ${e.status}\n`);
      this.lastStatus.set(e.id, e.status);
      return;
    }
    if (!this.lines.has(e.id)) this.order.push(e.id);
    this.lines.set(e.id, text);
    this.redraw();
  }

  private redraw(): void {
    let s = this.drawn > 0 ? `\x1b[${this.drawn}A` : '';
    for (const id of this.order) s += `\x1b[2K${this.lines.get(id)}\n`;
    this.drawn = this.order.length;
    this.out.write(s);
  }

  /** Later overall lines print below the layer block, which stays as it was last drawn. */
  private flushLive(): void {
    this.order.length = 0;
    this.lines.clear();
    this.drawn = 0;
  }
}
