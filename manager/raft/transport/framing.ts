// Length-prefixed frames (u32 little-endian length, then payload) over a byte stream.
// Chunks are kept in a list and joined only once a whole frame is present, so a large frame
// (a snapshot) costs one copy instead of one per chunk.

export class FrameTooLargeError extends Error {
  constructor(size: number, max: number) {
    super(`framing: frame of ${size} bytes exceeds the limit of ${max}`);
    this.name = 'FrameTooLargeError';
  }
}

export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(private readonly maxFrameSize: number) {}

  /** Feeds bytes and calls onFrame for every complete frame (the payload may alias internal buffers). */
  push(chunk: Buffer, onFrame: (payload: Buffer) => void): void {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    while (this.buffered >= 4) {
      let head = this.chunks[0]!;
      if (head.length < 4) {
        head = Buffer.concat(this.chunks);
        this.chunks = [head];
      }
      const len = head.readUInt32LE(0);
      if (len > this.maxFrameSize) throw new FrameTooLargeError(len, this.maxFrameSize);
      if (this.buffered < 4 + len) return;
      if (head.length < 4 + len) {
        head = Buffer.concat(this.chunks, this.buffered);
        this.chunks = [head];
      }
      const payload = head.subarray(4, 4 + len);
      const rest = head.subarray(4 + len);
      this.buffered -= 4 + len;
      if (rest.length > 0) this.chunks[0] = rest;
      else this.chunks.shift();
      onFrame(payload);
    }
  }
}

export function encodeFrame(payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(4 + payload.length);
  out.writeUInt32LE(payload.length, 0);
  out.set(payload, 4);
  return out;
}
