// Source ops: where content enters the graph (registry images, the local context, HTTP files,
// git repositories), with identifiers and attrs written as BuildKit's llb package writes them.
import { goJoin } from './paths.js';
import { hostPlatform } from '../../oci/platform.js';
import { toPbPlatform } from './platform.js';
import type { Op } from './types.js';
import { metadataOf, OpVertex, Output, type OpOptions } from './vertex.js';

function sourceOutput(identifier: string, attrs: Record<string, string>, opts: OpOptions | undefined, platformSpecific: boolean): Output {
  const op: Op = { source: { identifier, attrs }, constraints: {} };
  // Only images (and OCI layouts) have a platform; a context or a git tree is the same bytes
  // for every platform, so BuildKit leaves the field out and the digest stays shared.
  if (platformSpecific) op.platform = toPbPlatform(opts?.platform ?? hostPlatform());
  return new Output(new OpVertex(op, [], metadataOf(opts)), 0);
}

/** `ref` must already be normalised (`docker.io/library/alpine:latest`). */
export function image(ref: string, opts?: OpOptions & { attrs?: Record<string, string> }): Output {
  return sourceOutput(`docker-image://${ref}`, { ...opts?.attrs }, opts, true);
}

export interface LocalOptions extends OpOptions {
  includePatterns?: string[];
  excludePatterns?: string[];
  followPaths?: string[];
  sharedKeyHint?: string;
  differ?: string;
  /**
   * `local.unique`. BuildKit's client sets a random one per build, which makes the op digest
   * differ on every build; kiln leaves it out unless asked, so the same context gives the same op.
   */
  uniqueId?: string;
}

export function local(name: string, opts?: LocalOptions): Output {
  const attrs: Record<string, string> = {};
  if (opts?.includePatterns?.length) attrs['local.includepattern'] = goJsonStrings(opts.includePatterns);
  if (opts?.followPaths?.length) attrs['local.followpaths'] = goJsonStrings(opts.followPaths);
  if (opts?.excludePatterns?.length) attrs['local.excludepatterns'] = goJsonStrings(opts.excludePatterns);
  if (opts?.sharedKeyHint) attrs['local.sharedkeyhint'] = opts.sharedKeyHint;
  if (opts?.differ) attrs['local.differ'] = opts.differ;
  if (opts?.uniqueId) attrs['local.unique'] = opts.uniqueId;
  return sourceOutput(`local://${name}`, attrs, opts, false);
}

/** JSON of a string list as Go's encoding/json writes it: <, >, & and U+2028/9 escaped. */
function goJsonStrings(list: string[]): string {
  return JSON.stringify(list).replace(/[<>&\u2028\u2029]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}

export function http(url: string, opts?: OpOptions & { checksum?: string; filename?: string; chmod?: number }): Output {
  const attrs: Record<string, string> = {};
  if (opts?.checksum) attrs['http.checksum'] = opts.checksum;
  if (opts?.filename) attrs['http.filename'] = opts.filename;
  const perm = (opts?.chmod ?? 0) & 0o777;
  if (perm !== 0) attrs['http.perm'] = '0' + perm.toString(8);
  return sourceOutput(url, attrs, opts, false);
}

interface GitRemote {
  host: string;
  path: string;
  /** The URL to fetch, as given (scp-like forms stay scp-like). */
  url: string;
  ssh: boolean;
}

const SCP_LIKE = /^(?:[^@/:]+@)?([^@/:]+):(?!\/\/)(.+)$/;

function parseGitRemote(remote: string): GitRemote {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(remote)?.[1]?.toLowerCase();
  if (scheme) {
    const u = new URL(remote);
    return { host: u.host, path: decodeURIComponent(u.pathname), url: remote, ssh: scheme === 'ssh' };
  }
  const scp = SCP_LIKE.exec(remote);
  if (scp) return { host: scp[1]!, path: scp[2]!, url: remote, ssh: true };
  // An address with no protocol (github.com/o/r.git) is fetched over https, as BuildKit does.
  return parseGitRemote(`https://${remote}`);
}

/**
 * A git checkout. The identifier is host/path#ref:subdir, so https and ssh addresses of one
 * repository name the same source; the fetch URL goes in `git.fullurl`.
 */
export function git(remote: string, ref?: string, opts?: OpOptions & { keepGitDir?: boolean; subdir?: string }): Output {
  const r = parseGitRemote(remote);
  const subdir = opts?.subdir ? goJoin('/', opts.subdir).replace(/^\//, '') : '';
  let id = r.host + goJoin('/', r.path);
  if (ref || subdir) {
    id += '#' + (ref ?? '');
    if (subdir) id += ':' + subdir;
  }
  const attrs: Record<string, string> = {
    'git.fullurl': r.url,
    // The secret names BuildKit reads credentials from; present even when no secret exists.
    'git.authtokensecret': 'GIT_AUTH_TOKEN',
    'git.authheadersecret': 'GIT_AUTH_HEADER',
  };
  if (opts?.keepGitDir) attrs['git.keepgitdir'] = 'true';
  if (r.ssh) attrs['git.mountsshsock'] = 'default';
  return sourceOutput(`git://${id}`, attrs, opts, false);
}
