// The caller's terminal as a tty container sees it: its size when the process starts and its
// resizes, sent on to the helper's control fd.

export interface TerminalSize {
  rows: number;
  columns: number;
}

/** What a tty process needs from the terminal of whoever runs it. */
export interface CallerTerminal {
  readonly size: TerminalSize;
  /** Calls `listener` on each resize until the returned function is called. */
  onResize(listener: (size: TerminalSize) => void): () => void;
}

/** The line the helper reads on its control fd to resize the container's pty. */
export function resizeCommand(size: TerminalSize): string {
  return `resize ${size.rows} ${size.columns}\n`;
}
