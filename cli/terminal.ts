// The user's terminal for `kiln run -t`/`exec -t`: its size and resizes for the container's pty,
// and raw mode while the user types into the container.

import type { Writable } from 'node:stream';
import type { CallerTerminal } from '../api/container-run.js';

/** The terminal behind `stream`, or undefined when it is not one (a pipe, a file, a detached run). */
export function callerTerminal(stream: Writable): CallerTerminal | undefined {
  const tty = stream as Partial<NodeJS.WriteStream>;
  if (tty.isTTY !== true || !tty.columns || !tty.rows) return undefined;
  const ws = stream as NodeJS.WriteStream;
  return {
    size: { rows: ws.rows, columns: ws.columns },
    onResize(listener) {
      const onResize = () => listener({ rows: ws.rows, columns: ws.columns });
      ws.on('resize', onResize);
      return () => ws.off('resize', onResize);
    },
  };
}

/**
 * Raw mode on the caller's terminal, as `docker run -it` sets it: keys (Ctrl-C included) reach the
 * container's pty, whose own line discipline echoes and signals. Returns what restores the terminal;
 * a no-op when `stdin` is not a terminal.
 */
export function enterRawMode(stdin: NodeJS.ReadableStream): () => void {
  const tty = stdin as Partial<NodeJS.ReadStream>;
  if (tty.isTTY !== true || typeof tty.setRawMode !== 'function') return () => undefined;
  const rs = stdin as NodeJS.ReadStream;
  const was = rs.isRaw;
  rs.setRawMode(true);
  return () => {
    rs.setRawMode(was);
  };
}
