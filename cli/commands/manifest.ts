// `kiln manifest create|inspect` (alias `kiln imagetools create|inspect`), as `docker buildx
// imagetools`: an index from manifests in a registry, and a manifest or index printed as buildx does.
import { parseArgs } from 'node:util';
import type { Command } from '../command.js';
import { UsageError } from '../errors.js';
import { insecureOption, registryFlagOptions, registryUsage } from '../registry-flags.js';
import { createManifest, inspectManifest, type InspectedManifest } from '../../api/manifest.js';
import { formatPlatform, formatReference } from '../../api/vocabulary.js';

const createUsage = `Usage: kiln manifest create [OPTIONS] -t REPO:TAG SOURCE [SOURCE...]

Create an index from manifests already in a registry and push it (alias: kiln imagetools create).
A SOURCE is REPO@sha256:…, REPO:TAG, or sha256:… in the first tag's repository; an index source
adds all its manifests. Each entry's platform is read from its config; no layer is downloaded.

Options:
  -t, --tag REPO:TAG    where to push the index (repeatable)
      --append          keep the manifests the first tag has now, and add the sources
      --dry-run         print the index instead of pushing it
${registryUsage}`;

const inspectUsage = `Usage: kiln manifest inspect [OPTIONS] NAME[:TAG|@DIGEST]

Show a manifest or index in a registry (alias: kiln imagetools inspect)

Options:
      --raw             print the document's bytes exactly as the registry holds them
${registryUsage}`;

export const manifestCreate: Command = {
  usage: createUsage,
  async run(argv, io) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { tag: { type: 'string', short: 't', multiple: true }, append: { type: 'boolean' }, 'dry-run': { type: 'boolean' }, ...registryFlagOptions },
    });
    const tags = values.tag ?? [];
    if (tags.length === 0 && !values['dry-run']) throw new UsageError('no tag to push the index to: give -t REPO:TAG (or --dry-run)', createUsage);
    if (positionals.length === 0 && !values.append) throw new UsageError('no source manifests: name them as REPO@sha256:…', createUsage);
    const created = await createManifest({
      tags,
      sources: positionals,
      append: values.append ?? false,
      dryRun: values['dry-run'] ?? false,
      env: io.env,
      ...insecureOption(values),
      onEvent: (e) => io.stderr.write(e.type === 'copy' ? `copying ${e.digest} from ${e.from} to ${e.to}\n` : `pushing ${e.digest} to ${e.to}\n`),
    });
    io.stdout.write(values['dry-run'] ? `${created.bytes.toString('utf8')}\n` : `${created.digest}\n`);
    return 0;
  },
};

export const manifestInspect: Command = {
  usage: inspectUsage,
  async run(argv, io) {
    const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { raw: { type: 'boolean' }, ...registryFlagOptions } });
    if (positionals.length !== 1) throw new UsageError(`inspect takes one name, got ${positionals.length}`, inspectUsage);
    const m = await inspectManifest(positionals[0]!, { env: io.env, ...insecureOption(values) });
    // --raw: no newline after the bytes, so their digest is what the registry has (as buildx).
    io.stdout.write(values.raw ? m.raw : describe(m));
    return 0;
  },
};

/** buildx's text: Name/MediaType/Digest, then each manifest of an index, laid out as its tabwriter does. */
function describe(m: InspectedManifest): string {
  let out = columns([['Name:', m.name], ['MediaType:', m.mediaType], ['Digest:', m.digest]]);
  if (!m.index) return out;
  out += columns([['', ''], ['Manifests:', '']]);
  const rows: [string, string][] = [];
  m.index.manifests.forEach((d, i) => {
    if (i > 0) rows.push(['', '']);
    rows.push(['  Name:', formatReference({ ...m.ref, digest: d.digest })], ['  MediaType:', d.mediaType]);
    if (d.platform) {
      rows.push(['  Platform:', formatPlatform({ os: d.platform.os, architecture: d.platform.architecture, ...(d.platform.variant ? { variant: d.platform.variant } : {}) })]);
      if (d.platform['os.version']) rows.push(['  OSVersion:', d.platform['os.version']]);
      if (d.platform['os.features']?.length) rows.push(['  OSFeatures:', d.platform['os.features'].join(', ')]);
      if (d.urls?.length) rows.push(['  URLs:', d.urls.join(', ')]);
      if (d.annotations && Object.keys(d.annotations).length > 0) {
        rows.push(['  Annotations:', '']);
        out += columns(rows.splice(0));
        out += columns(Object.entries(d.annotations).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [`    ${k}:`, v]));
      }
    }
  });
  return out + columns(rows);
}

/** Go's tabwriter with padding 1: the first cells padded to the widest plus one space. */
function columns(rows: [string, string][]): string {
  const width = Math.max(0, ...rows.map(([a]) => a.length)) + 1;
  return rows.map(([a, b]) => `${a.padEnd(width)}${b}\n`).join('');
}
