// Tar in one place: header decoding (header.ts), the writer and the reader of archives on disk
// (tar.ts), and the streaming reader (stream.ts).
export * from './tar.js';
export { readTar, type TarStreamEntry } from './stream.js';
