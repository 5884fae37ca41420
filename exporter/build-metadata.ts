// What buildx writes to --metadata-file for an image build: the manifest's descriptor (with the
// platform and creation annotation BuildKit's exporter puts there), the config digest, the names;
// for a multi-platform build the index's descriptor and digest, with no config digest (there are several).
import { MediaType, type Descriptor } from '../oci/image-spec.js';
import type { BuiltImage, BuiltResult } from './build-output.js';

/** The keys buildx writes to --metadata-file for an image build. */
export interface BuildMetadata {
  'containerimage.digest': string;
  'containerimage.config.digest'?: string;
  'containerimage.descriptor': Descriptor;
  'image.name'?: string;
}

export function buildMetadata(built: BuiltResult, names: readonly string[]): BuildMetadata {
  const named = names.length > 0 ? { 'image.name': names.join(',') } : {};
  if (built.index !== undefined) {
    const { mediaType, digest, size } = built.index;
    // BuildKit stamps the index with its export time; the newest image's time is that, made repeatable.
    const created = built.images.map((img) => img.config.created).filter((c): c is string => c !== undefined).sort().at(-1);
    const annotations = created !== undefined ? { annotations: createdAnnotation(created) } : {};
    return { 'containerimage.descriptor': { mediaType, digest, size, ...annotations }, 'containerimage.digest': digest, ...named };
  }
  return imageMetadata(built.images[0]!, named);
}

/** The creation time in whole seconds, as BuildKit's exporter annotates a descriptor. */
function createdAnnotation(created: string): Record<string, string> {
  return { 'org.opencontainers.image.created': created.replace(/\.\d+Z$/, 'Z') };
}

function imageMetadata(image: BuiltImage, named: { 'image.name'?: string }): BuildMetadata {
  const { architecture, os, variant, created } = image.config;
  const descriptor: Descriptor = {
    mediaType: image.manifest.mediaType ?? MediaType.ociManifest,
    digest: image.manifestDigest,
    size: image.manifestSize,
    // As BuildKit's exporter: the creation time, and the platform built for.
    ...(created !== undefined ? { annotations: createdAnnotation(created) } : {}),
    platform: { architecture, os, ...(variant !== undefined ? { variant } : {}) },
  };
  return {
    'containerimage.config.digest': image.configDigest,
    'containerimage.descriptor': descriptor,
    'containerimage.digest': image.manifestDigest,
    ...named,
  };
}
