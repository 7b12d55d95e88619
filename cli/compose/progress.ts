// Progress of up/down/start/stop…: on a TTY one live line per network, volume, image and container,
// redrawn in place; otherwise one plain line per state change (what logs and CI want).

export type ResourceKind = 'Network' | 'Volume' | 'Container' | 'Image' | 'Service';
export type Phase = 'working' | 'done' | 'error' | 'warning';

export interface Progress {
  update(kind: ResourceKind, name: string, status: string, phase?: Phase): void;
  /** Ends live drawing; later writes go below the final frame. */
  stop(): void;
}

interface Line {
  kind: ResourceKind;
  name: string;
  status: string;
  phase: Phase;
  started: number;
  ended?: number;
}

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const GREEN = '\x1b[32m';
const RED = '\x1b[31m';
const YELLOW = '\x1b[33m';
const BLUE = '\x1b[34m';
const RESET = '\x1b[0m';

export class PlainProgress implements Progress {
  constructor(private readonly write: (s: string) => void) {}
  update(kind: ResourceKind, name: string, status: string): void {
    this.write(` ${kind} ${name}  ${status}\n`);
  }
  stop(): void {}
}

export class TtyProgress implements Progress {
  private readonly lines = new Map<string, Line>();
  private drawn = 0;
  private timer: NodeJS.Timeout | undefined;
  private frame = 0;
  private stopped = false;

  constructor(
    private readonly write: (s: string) => void,
    private readonly title: string,
    private readonly columns = () => process.stderr.columns || 80,
  ) {}

  update(kind: ResourceKind, name: string, status: string, phase: Phase = 'working'): void {
    const key = `${kind}\0${name}`;
    const now = Date.now();
    const l = this.lines.get(key);
    if (l) {
      l.status = status;
      if (phase !== 'working') l.ended ??= now;
      else l.ended = undefined;
      l.phase = phase;
    } else this.lines.set(key, { kind, name, status, phase, started: now, ...(phase !== 'working' ? { ended: now } : {}) });
    if (this.stopped) return;
    if (!this.timer) {
      this.timer = setInterval(() => this.draw(), 100);
      this.timer.unref();
    }
    this.draw();
  }

  private draw(): void {
    this.frame++;
    const all = [...this.lines.values()];
    const done = all.filter((l) => l.phase !== 'working').length;
    const width = this.columns();
    const out: string[] = [`[+] ${this.title} ${done}/${all.length}`];
    const nameWidth = Math.max(0, ...all.map((l) => l.kind.length + 1 + l.name.length));
    for (const l of all) {
      const icon =
        l.phase === 'working' ? `${BLUE}${SPINNER[this.frame % SPINNER.length]}${RESET}` : l.phase === 'error' ? `${RED}✘${RESET}` : l.phase === 'warning' ? `${YELLOW}!${RESET}` : `${GREEN}✔${RESET}`;
      const secs = (((l.ended ?? Date.now()) - l.started) / 1000).toFixed(1);
      const left = ` ${icon} ${`${l.kind} ${l.name}`.padEnd(nameWidth)}  ${l.status}`;
      // Visible width: the icon's colour codes take no columns.
      const visible = left.replace(/\x1b\[[0-9;]*m/g, '').length;
      const pad = Math.max(1, width - visible - secs.length - 2);
      out.push(`${left}${' '.repeat(pad)}${secs}s`);
    }
    const up = this.drawn > 0 ? `\x1b[${this.drawn}A` : '';
    this.write(`${up}${out.map((s) => `\x1b[2K${s}\n`).join('')}`);
    this.drawn = out.length;
  }

  stop(): void {
    if (this.stopped) return;
    if (this.timer) clearInterval(this.timer);
    if (this.lines.size > 0) this.draw();
    this.stopped = true;
  }
}

export function createProgress(title: string, stream: NodeJS.WriteStream = process.stderr, mode: 'auto' | 'tty' | 'plain' | 'quiet' = 'auto'): Progress {
  const write = (s: string) => void stream.write(s);
  if (mode === 'quiet') return { update: () => {}, stop: () => {} };
  const tty = mode === 'tty' || (mode === 'auto' && stream.isTTY === true && process.env.TERM !== 'dumb');
  return tty ? new TtyProgress(write, title, () => stream.columns || 80) : new PlainProgress(write);
}
