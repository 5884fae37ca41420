// Pulls and pushes during a build, shown as build steps: `resolve <ref>@sha256:…` (or `pushing
// <ref>`) with one log line per blob (fetched, present, pushed, exists, mounted).
import { sha256Digest } from '../oci/digest.js';
import type { SolveEvent } from '../solver/types.js';
import type { RegistryEvent } from './registry-session.js';

/** A RegistryEvent listener that reports through a build's `emit`. */
export function registryProgress(emit: (e: SolveEvent) => void): (e: RegistryEvent) => void {
  const started = new Map<string, { digest: string; name: string; time: number }>();
  const step = (key: string, name: string, time: number): { digest: string; name: string; time: number } => {
    let s = started.get(key);
    if (!s) {
      s = { digest: sha256Digest(`registry ${key}`), name, time };
      started.set(key, s);
      emit({ type: 'vertex.start', digest: s.digest, name, inputs: [], time });
    }
    return s;
  };
  return (e) => {
    // A build's step shows one line per blob once it is done; its bytes are for `kiln push`/`pull`'s live view.
    if (e.type === 'blob.bytes') return;
    if (e.type === 'resolve') {
      step(`pull ${e.ref}`, `resolve ${e.ref.replace(/@sha256:[a-f0-9]{64}$/, '')}@${e.digest}`, e.time);
    } else if (e.type === 'blob') {
      const pulling = e.status === 'fetched' || e.status === 'present';
      const s = step(`${pulling ? 'pull' : 'push'} ${e.ref}`, `pushing ${e.ref}`, e.time);
      emit({ type: 'vertex.log', digest: s.digest, stream: 'stdout', data: `${e.digest} ${e.status} ${e.size} bytes\n`, time: e.time });
    } else {
      const key = `${e.type === 'pulled' ? 'pull' : 'push'} ${e.ref}`;
      const s = step(key, e.type === 'pulled' ? `resolve ${e.ref}@${e.digest}` : `pushing ${e.ref}`, e.time);
      emit({ type: 'vertex.done', digest: s.digest, name: s.name, time: e.time, durationMs: e.time - s.time });
      started.delete(key);
    }
  };
}
