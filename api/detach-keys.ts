// Docker's detach keys (--detach-keys, ?detachKeys=): the CLI checks the flag with the parser the
// daemon uses, and the daemon scans attached input for the sequence.

/** Docker's --detach-keys format: "ctrl-p,ctrl-q", "a", "ctrl-@" … → byte sequence. */
export function parseDetachKeys(spec: string): Buffer {
  const out: number[] = [];
  for (const k of spec.split(',')) {
    const key = k.trim().toLowerCase();
    if (key.length === 1) out.push(key.charCodeAt(0));
    else if (/^ctrl-[a-z@[\\\]^_]$/.test(key)) {
      const ch = key.slice(5);
      out.push(ch === '@' ? 0 : ch >= 'a' && ch <= 'z' ? ch.charCodeAt(0) - 96 : ch.charCodeAt(0) - 64);
    } else throw new Error(`invalid detach keys ${JSON.stringify(spec)}: expected a comma-separated list of characters or ctrl-<key>`);
  }
  return Buffer.from(out);
}

/**
 * Finds the detach sequence in client input. Bytes that may start the sequence are held back until
 * the next input decides; a match returns the input before it and `detached`.
 */
export class DetachScanner {
  private held = 0;
  constructor(private readonly keys: Buffer) {}

  feed(b: Buffer): { data: Buffer; detached: boolean } {
    if (this.keys.length === 0) return { data: b, detached: false };
    const out: number[] = [];
    for (const byte of b) {
      if (byte === this.keys[this.held]) {
        this.held++;
        if (this.held === this.keys.length) return { data: Buffer.from(out), detached: true };
        continue;
      }
      // Not the sequence after all: what was held goes through, and this byte may start it anew.
      for (let i = 0; i < this.held; i++) out.push(this.keys[i]!);
      this.held = 0;
      if (byte === this.keys[0]) this.held = 1;
      else out.push(byte);
    }
    return { data: Buffer.from(out), detached: false };
  }
}
