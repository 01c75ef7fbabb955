// Progress of reading a trace file, for the fronts that show it (the CLI on a
// terminal, the editor's notification): the chunks pass through unchanged.

export interface ReadProgress {
  /** Told the bytes read so far: after the first chunk, then at most every `everyMs`, and once at the end. */
  report: (bytes: number) => void;
  everyMs?: number;
  /** Checked before each chunk: an error to stop the reading with (leaving the loop closes the file). */
  stopped?: () => Error | null;
}

export async function* withReadProgress(chunks: AsyncIterable<Buffer>, progress: ReadProgress): AsyncIterable<Buffer> {
  const every = progress.everyMs ?? 200;
  let bytes = 0;
  let last = 0;
  for await (const chunk of chunks) {
    const stop = progress.stopped?.();
    if (stop) throw stop;
    bytes += chunk.length;
    if (Date.now() - last >= every) {
      last = Date.now();
      progress.report(bytes);
    }
    yield chunk;
  }
  progress.report(bytes);
}
