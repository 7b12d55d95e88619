// A small seeded PRNG (mulberry32) so that every run is reproducible from its seed.
import type { Rand } from '../types.js';

export class Rng implements Rand {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  float(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  intn(n: number): number {
    return Math.floor(this.float() * n);
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(xs: readonly T[]): T {
    return xs[this.intn(xs.length)];
  }

  /** An independent stream, so adding draws in one place does not shift another. */
  fork(): Rng {
    return new Rng(this.intn(0x7fffffff) ^ 0x5bd1e995);
  }
}
