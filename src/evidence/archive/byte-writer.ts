/**
 * Where bundle bytes go: a file, stdout, or a compressing/encrypting stage in
 * front of one. A stage may still hold a chunk after write() resolves, but no
 * longer once the following write() has resolved: only then may the caller
 * reuse the chunk's memory. A failure downstream surfaces at a later write()
 * or at close().
 */
export interface ByteWriter {
  write(chunk: Uint8Array): Promise<void>;
  close(): Promise<void>;
}
