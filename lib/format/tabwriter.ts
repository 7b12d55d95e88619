// A port of the parts of Go's text/tabwriter that Docker's tables use: tab-terminated cells are
// aligned in columns (width = widest cell + padding, at least minWidth), the last cell of a line is
// written as is, and a column's width is decided per block of consecutive lines that have it.

export interface TabwriterOptions {
  /** Docker: tabwriter.NewWriter(out, 10, 1, 3, ' ', 0). */
  minWidth?: number;
  padding?: number;
}

/** Display width: code points, as Go's tabwriter counts runes. */
const width = (s: string): number => [...s].length;

export function tabwrite(text: string, opts: TabwriterOptions = {}): string {
  const minWidth = opts.minWidth ?? 10;
  const padding = opts.padding ?? 3;
  const endsWithNewline = text.endsWith('\n');
  const lines = (endsWithNewline ? text.slice(0, -1) : text).split('\n').map((l) => l.split('\t'));
  const out: string[] = [];
  const widths: number[] = [];

  const writeLines = (from: number, to: number): void => {
    for (let i = from; i < to; i++) {
      const cells = lines[i]!;
      let s = '';
      cells.forEach((c, j) => {
        s += c;
        if (j < cells.length - 1 && j < widths.length) s += ' '.repeat(Math.max(0, widths[j]! - width(c)));
      });
      out.push(s);
    }
  };

  const format = (line0: number, line1: number): void => {
    const column = widths.length;
    let start = line0;
    for (let t = line0; t < line1; t++) {
      if (column >= lines[t]!.length - 1) continue;
      // A block of lines that all have a terminated cell in this column starts here.
      writeLines(start, t);
      start = t;
      let w = minWidth;
      for (; t < line1; t++) {
        const cells = lines[t]!;
        if (column >= cells.length - 1) break;
        w = Math.max(w, width(cells[column]!) + padding);
      }
      widths.push(w);
      format(start, t);
      widths.pop();
      // Line t (if any) has no cell in this column, so the loop's t++ skipping it loses nothing.
      start = t;
    }
    writeLines(start, line1);
  };

  format(0, lines.length);
  return out.join('\n') + (endsWithNewline ? '\n' : '');
}
