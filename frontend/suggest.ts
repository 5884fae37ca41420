// "Did you mean ...?" for misspelt instruction names, flags and mount keys.

/** Optimal-string-alignment distance: edits, with a swap of two neighbours counting as one. */
function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/** The closest option, compared case-insensitively, if it is near enough to be a likely typo. */
export function closest(value: string, options: readonly string[]): string | undefined {
  const v = value.toLowerCase();
  let best: string | undefined;
  let bestDist = Infinity;
  for (const opt of options) {
    const dist = distance(v, opt.toLowerCase());
    if (dist < bestDist) {
      best = opt;
      bestDist = dist;
    }
  }
  const limit = Math.min(2, Math.max(1, Math.floor(v.length / 3)));
  return bestDist <= limit ? best : undefined;
}

/** " (did you mean X?)" or "". */
export function didYouMean(value: string, options: readonly string[], prefix = ''): string {
  const match = closest(value, options);
  return match === undefined ? '' : ` (did you mean ${prefix}${match}?)`;
}
