// The flags of the commands that talk to registries (pull, push, login): --insecure-registry, as
// dockerd names it, to allow plain HTTP to a host besides loopback.
import type { ParseArgsConfig } from 'node:util';

export const registryFlagOptions = {
  'insecure-registry': { type: 'string', multiple: true },
} as const satisfies ParseArgsConfig['options'];

export const registryUsage = `      --insecure-registry HOST
                        allow plain HTTP to HOST (repeatable; also the config file's
                        insecure-registries, $KILN_INSECURE_REGISTRIES)`;

export function insecureOption(values: { 'insecure-registry'?: string[] }): { insecureRegistries?: string[] } {
  return values['insecure-registry'] ? { insecureRegistries: values['insecure-registry'] } : {};
}
