/** Where commands write: swappable so tests can run the CLI in-process. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  /** Text written as it comes, with no newline added (streamed generations); stderr by default. */
  progress?(text: string): void;
}

export const processIo: CliIo = {
  out: (t) => process.stdout.write(t + '\n'),
  err: (t) => process.stderr.write(t + '\n'),
  progress: (t) => process.stderr.write(t),
};

/**
 * Streams a generation's text: each call gets all ids so far and writes what their decoding adds. A decoding
 * that ends in U+FFFD (a character whose bytes are still coming) or that rewrites earlier text waits for
 * more tokens; `end` writes the rest and a newline.
 */
export function textStreamer(decode: (ids: number[]) => string, write: (text: string) => void): { push(ids: number[]): void; end(ids: number[]): void } {
  let shown = '';
  const emit = (text: string) => {
    if (!text.startsWith(shown)) return;
    write(text.slice(shown.length));
    shown = text;
  };
  return {
    push: (ids) => {
      const text = decode(ids);
      if (!text.endsWith('\uFFFD')) emit(text);
    },
    end: (ids) => {
      emit(decode(ids));
      write('\n');
    },
  };
}

/** Parses `5,9,12` into ids, naming the flag on error. */
export function parseIds(value: string, flag: string): number[] {
  const parts = value.split(',').map((s) => s.trim()).filter(Boolean);
  const ids = parts.map(Number);
  const bad = parts.find((p, i) => !Number.isInteger(ids[i]) || ids[i] < 0);
  if (bad !== undefined || ids.length === 0) throw new Error(`${flag}: expected comma-separated non-negative integers, got "${value}"`);
  return ids;
}

export function parseNumber(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isFinite(n)) throw new Error(`${flag}: expected a number, got "${value}"`);
  return n;
}

export function parsePositiveInt(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag}: expected a positive integer, got "${value}"`);
  return n;
}
