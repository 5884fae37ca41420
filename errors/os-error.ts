// The errno name (`ENOENT`, `ENOSPC`) of an operating-system error: Node's fs and the native addon
// both carry it as `code` (the addon's own refusals carry `KILN_*` codes instead), so callers tell a
// user's doing from a bug by errno, never by message.

/** The errno name of `err`, or undefined when it is no OS error (a bug, or a refusal of kiln's own). */
export function errnoOf(err: unknown): string | undefined {
  if (!(err instanceof Error)) return undefined;
  const code = (err as NodeJS.ErrnoException).code;
  return typeof code === 'string' && /^E[A-Z0-9]+$/.test(code) ? code : undefined;
}
