// The table of `kiln` commands, in the order `kiln --help` lists them. A command's module is
// imported only when it runs: each pulls in its own rooms (the runner, archives, the LLB codec),
// and loading them all would cost every command, `kiln build` included, a third of its time.
import type { Command } from '../command.js';

export interface CommandEntry {
  /** Two-word commands (`debug llb`) are registered under their full name. */
  name: string;
  /** One line for `kiln --help`. */
  summary: string;
  load(): Promise<Command>;
}

export const commands: CommandEntry[] = [
  { name: 'build', summary: 'Build an image from a Dockerfile', load: async () => (await import('./build.js')).buildCommand },
  { name: 'debug llb', summary: 'Print the LLB and image config a Dockerfile compiles to', load: async () => (await import('./debug-llb.js')).debugLlb },
  { name: 'import', summary: 'Create an image from a root filesystem tarball', load: async () => (await import('./import.js')).importCommand },
  { name: 'load', summary: 'Load images from an OCI or docker tar archive', load: async () => (await import('./load.js')).loadCommand },
  { name: 'save', summary: 'Save images to a tar archive', load: async () => (await import('./save.js')).saveCommand },
  { name: 'pull', summary: 'Download an image from a registry', load: async () => (await import('./pull.js')).pullCommand },
  { name: 'push', summary: 'Upload an image to a registry', load: async () => (await import('./push.js')).pushCommand },
  { name: 'manifest create', summary: 'Create and push an index from manifests in a registry', load: async () => (await import('./manifest.js')).manifestCreate },
  { name: 'manifest inspect', summary: 'Show a manifest or index in a registry', load: async () => (await import('./manifest.js')).manifestInspect },
  { name: 'imagetools create', summary: "Alias of 'manifest create' (buildx's name)", load: async () => (await import('./manifest.js')).manifestCreate },
  { name: 'imagetools inspect', summary: "Alias of 'manifest inspect' (buildx's name)", load: async () => (await import('./manifest.js')).manifestInspect },
  { name: 'login', summary: 'Log in to a registry', load: async () => (await import('./login.js')).loginCommand },
  { name: 'logout', summary: 'Log out from a registry', load: async () => (await import('./login.js')).logoutCommand },
  { name: 'diff', summary: 'Show the file changes between two images', load: async () => (await import('./diff.js')).diffCommand },
  { name: 'images', summary: 'List images in the store', load: async () => (await import('./images.js')).images },
  { name: 'tag', summary: 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE', load: async () => (await import('./tag.js')).tag },
  { name: 'rmi', summary: 'Remove one or more images', load: async () => (await import('./rmi.js')).rmi },
  { name: 'history', summary: 'Show the history of an image', load: async () => (await import('./history.js')).history },
  { name: 'inspect', summary: "Show an image's manifest and config", load: async () => (await import('./inspect.js')).inspect },
  { name: 'prune', summary: 'Remove unused blobs and snapshots', load: async () => (await import('./prune.js')).prune },
  { name: 'store verify', summary: 'Check (and with --repair, mend) the whole store', load: async () => (await import('./store-verify.js')).storeVerify },
  { name: 'run', summary: 'Create and run a new container from an image', load: async () => (await import('./run.js')).runCommand },
  { name: 'ps', summary: 'List containers', load: async () => (await import('./ps.js')).ps },
  { name: 'logs', summary: 'Fetch the logs of a container', load: async () => (await import('./logs.js')).logs },
  { name: 'exec', summary: 'Execute a command in a running container', load: async () => (await import('./exec.js')).execCommand },
  { name: 'stop', summary: 'Stop one or more running containers', load: async () => (await import('./stop.js')).stop },
  { name: 'kill', summary: 'Kill one or more running containers', load: async () => (await import('./kill.js')).kill },
  { name: 'rm', summary: 'Remove one or more containers', load: async () => (await import('./rm.js')).rm },
  { name: 'setup binfmt', summary: 'Register QEMU emulators for other architectures', load: async () => (await import('./setup-binfmt.js')).setupBinfmtCommand },
  { name: 'commit', summary: "Create a new image from a container's changes", load: async () => (await import('./commit.js')).commit },
];
