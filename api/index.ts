// kiln as a library: `import { build, openStore, openSnapshots } from 'kiln'`. Each function takes
// typed options and reports progress through an event callback; the `kiln` command is one caller.
export { openStore, openSnapshots, DEFAULT_ROOT, SNAPSHOT_DRIVERS, type Store, type Snapshotter, type SnapshotDriverChoice } from './store.js';
export { build, buildOutputs, type BuildOptions, type BuildResult, type BuildEvent, type OutputSpec } from './build.js';
export { compileBuild, definitionBytes, definitionJson, type CompileOptions, type CompiledBuild } from './compile.js';
export { readSecrets } from './secrets.js';
export { OptionError } from './errors.js';
// Every error kiln throws on purpose: branch on `code`; `userFacing` tells a user's mistake from a bug.
export { KilnError, UserError, isUserError, type KilnErrorOptions } from '../errors/kiln-error.js';
export { imageIndex, listImages, tagImage, removeImage, resolveImage, shortName, type ImageSummary, type ResolvedImage } from './images.js';
export { prune, type PruneResult } from './prune.js';
export { pull, type PullOptions, type PullResult } from './pull.js';
export { push, pushByDigest, type PushOptions, type PushedImage } from './push.js';
export { createManifest, inspectManifest, type ManifestCreateOptions, type CreatedIndex, type InspectedManifest, type ManifestEvent } from './manifest.js';
export { setupBinfmt, canRun, assertCanRun, type SetupBinfmtOptions, type SetupBinfmtResult, type RunSupport } from './binfmt.js';
export { login, logout, registryHost } from './login.js';
export type { RegistryAccess, RegistryEvent, BlobStatus } from './registry-session.js';
export * from './archives.js';
export * from './vocabulary.js';
export * from './containers.js';
export * from './container-run.js';
export { ensureRunImage, parsePullPolicy, PULL_POLICIES, type PullPolicy, type RunImageOptions } from './run-image.js';
export { verifyStore, type VerifyResult, type StoreProblem, type ProblemArea } from './store-verify.js';
