// Column output as docker's tabwriter lays it out: every column but the last padded to its widest
// cell plus 3 spaces, and at least 10 wide.

const MIN_WIDTH = 10;
const PADDING = 3;

export function renderTable(header: string[], rows: string[][]): string {
  const all = [header, ...rows];
  const widths = header.map((_, col) => Math.max(MIN_WIDTH, ...all.map((r) => [...(r[col] ?? '')].length + PADDING)));
  return all
    .map((r) => r.map((cell, col) => (col === r.length - 1 ? cell : cell + ' '.repeat(widths[col]! - [...cell].length))).join(''))
    .map((line) => line + '\n')
    .join('');
}
