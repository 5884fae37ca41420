// What a pull prints, for `kiln pull` (stdout) and the pull `kiln run` makes (stderr, as docker
// keeps a container's stdout its own): its blobs through the registry progress (live on a
// terminal, one line each elsewhere), then the digest and the name.
import type { RegistryEvent } from '../api/index.js';
import { createRegistryProgress, type RegistryProgress } from './progress-registry.js';

type Out = Parameters<typeof createRegistryProgress>[0];

export function pullLines(out: Out): RegistryProgress {
  // Made on the first event: a `kiln run` that pulls nothing must not touch the terminal.
  let progress: RegistryProgress | undefined;
  return {
    event(e: RegistryEvent) {
      progress ??= createRegistryProgress(out);
      if (e.type !== 'pulled') return progress.event(e);
      progress.close();
      out.write(`Digest: ${e.digest}\n${e.ref}\n`);
    },
    close: () => progress?.close(),
  };
}
