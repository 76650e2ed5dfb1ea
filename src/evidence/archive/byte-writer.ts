/**
 * Where bundle bytes go: a file, stdout, or a compressing/encrypting stage in
 * front of one. A stage may still hold a chunk after write() resolves (the
 * file stage writes behind), but no longer once the following write() has
 * resolved: only then may the caller reuse the chunk's memory.
 */
export interface ByteWriter {
  write(chunk: Uint8Array): Promise<void>;
  /** Resolves when everything written so far has left this stage (rejects if it failed). */
  flush?(): Promise<void>;
  close(): Promise<void>;
}
