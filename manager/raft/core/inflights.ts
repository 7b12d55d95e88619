// Bounded window of in-flight append messages to one follower (flow control), keyed by the last index each carried.

export class Inflights {
  private readonly buf: number[];
  private start = 0;
  count = 0;

  constructor(readonly size: number) {
    this.buf = new Array<number>(size).fill(0);
  }

  add(lastIndex: number): void {
    if (this.full()) throw new Error('inflights: add into a full window');
    this.buf[(this.start + this.count) % this.size] = lastIndex;
    this.count++;
  }

  /** Frees every message whose last index is at most `to` (acknowledged). */
  freeLE(to: number): void {
    while (this.count > 0 && this.buf[this.start] <= to) {
      this.start = (this.start + 1) % this.size;
      this.count--;
    }
  }

  freeFirstOne(): void {
    if (this.count === 0) return;
    this.start = (this.start + 1) % this.size;
    this.count--;
  }

  full(): boolean {
    return this.count >= this.size;
  }

  reset(): void {
    this.start = 0;
    this.count = 0;
  }
}
