// EXPOSE port specs as Docker reads them: `80`, `80/tcp`, `53/udp`, `8000-8002/sctp`.
import { UserError } from '../errors/kiln-error.js';

/** A spec EXPOSE cannot read; the dispatcher reports it at the instruction's line. */
export class PortSpecError extends UserError {
  readonly code = 'KILN_PORT_SPEC';
  constructor(readonly spec: string, reason: string) {
    super(`invalid port '${spec}': ${reason}`);
    this.name = 'PortSpecError';
  }
}

const PROTOCOLS = new Set(['tcp', 'udp', 'sctp']);

function parsePort(text: string, spec: string): number {
  if (!/^\d+$/.test(text)) throw new PortSpecError(spec, 'a port is a number from 1 to 65535');
  const n = Number(text);
  if (n < 1 || n > 65535) throw new PortSpecError(spec, 'a port is a number from 1 to 65535');
  return n;
}

/** Expands one spec into `port/proto` keys (a range gives one key per port). */
export function parseExposeSpec(spec: string): string[] {
  const slash = spec.indexOf('/');
  const portPart = slash < 0 ? spec : spec.slice(0, slash);
  const proto = (slash < 0 ? 'tcp' : spec.slice(slash + 1)).toLowerCase();
  if (!PROTOCOLS.has(proto)) throw new PortSpecError(spec, `unknown protocol '${proto}' (use tcp, udp or sctp)`);
  if (portPart.includes(':')) throw new PortSpecError(spec, 'EXPOSE takes container ports only; publish host ports with `kiln run -p`');
  const dash = portPart.indexOf('-');
  const start = parsePort(dash < 0 ? portPart : portPart.slice(0, dash), spec);
  const end = dash < 0 ? start : parsePort(portPart.slice(dash + 1), spec);
  if (end < start) throw new PortSpecError(spec, 'the range ends before it starts');
  const out: string[] = [];
  for (let p = start; p <= end; p++) out.push(`${p}/${proto}`);
  return out;
}
