// A block of lines a live view redraws in place on a terminal: at most every 100 ms while
// something changed (or while `ticking` says its clocks run), and once more when it closes.
import type { Writable } from 'node:stream';

const REDRAW_MS = 100;

export class LiveFrame {
  private drawnLines = 0;
  private dirty = false;
  private closed = false;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly out: Writable,
    private readonly render: () => string[],
    private readonly ticking: () => boolean = () => false,
  ) {
    this.timer = setInterval(() => this.draw(), REDRAW_MS);
    this.timer.unref();
  }

  /** Something changed: the next tick draws. */
  touch(): void {
    this.dirty = true;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.dirty = true;
    this.draw();
  }

  private draw(): void {
    if (!this.dirty && !this.ticking()) return;
    this.dirty = false;
    const lines = this.render();
    // Up over what was drawn last, then clear to the end of the screen and draw anew.
    const up = this.drawnLines > 0 ? `\x1b[${this.drawnLines}F` : '';
    this.out.write(`${up}\x1b[J${lines.map((l) => `${l}\n`).join('')}`);
    this.drawnLines = lines.length;
  }
}

/** `s` cut to `width` columns, an ellipsis marking the cut. */
export function fit(s: string, width: number): string {
  return s.length <= width ? s : s.slice(0, Math.max(0, width - 1)) + '…';
}
