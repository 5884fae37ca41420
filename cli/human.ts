// Sizes and ages the way docker prints them (its go-units rules): "4.26MB", "2 weeks ago".

const SIZE_UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB'];

/** Decimal units with `precision` significant digits, trailing zeros dropped: 4261550 → "4.26MB". */
export function humanSize(bytes: number, precision = 3): string {
  let size = bytes;
  let unit = 0;
  while (size >= 1000 && unit < SIZE_UNITS.length - 1) {
    size /= 1000;
    unit++;
  }
  return `${Number(size.toPrecision(precision))}${SIZE_UNITS[unit]}`;
}

/** A rough age: "Less than a second", "About a minute", "3 hours", "2 weeks", "5 months". */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.floor(seconds / 60);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.floor(ms / 3_600_000 + 0.5);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.floor(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.floor(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24 / 30)} months`;
  return `${Math.floor(hours / 24 / 365)} years`;
}

/** "2 weeks ago" for an RFC 3339 time, "N/A" when there is none. */
export function humanAge(time: string | undefined, now: number = Date.now()): string {
  const t = time === undefined ? NaN : Date.parse(time);
  return Number.isNaN(t) ? 'N/A' : `${humanDuration(now - t)} ago`;
}
