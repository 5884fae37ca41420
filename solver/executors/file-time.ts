// LLB timestamps (nanoseconds since the epoch, -1 = unset) as the seconds fs.utimes takes.
import type { Int64 } from '../llb/types.js';

export function timestampSeconds(ts: Int64 | undefined): number | undefined {
  if (ts === undefined || ts === -1 || ts === -1n) return undefined;
  return typeof ts === 'bigint' ? Number(ts / 1000n) / 1e6 : ts / 1e9;
}
