// What a pull prints, for `kiln pull` (stdout) and the pull `kiln run` makes (stderr, as docker
// keeps a container's stdout its own): one line per blob, then the digest and the name.
import type { RegistryEvent } from '../api/index.js';

export function pullLines(write: (line: string) => void): (e: RegistryEvent) => void {
  return (e) => {
    if (e.type === 'blob') write(`${e.digest}: ${e.status}\n`);
    else if (e.type === 'pulled') write(`Digest: ${e.digest}\n${e.ref}\n`);
  };
}
