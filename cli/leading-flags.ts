// Flags that end at the first positional, as `docker run IMAGE CMD...` and `docker exec NAME CMD...`
// read them: everything after the image (or container) belongs to the command, dashes included.
import { parseArgs, type ParseArgsConfig } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']>;

/** Index of the first argument that is not a flag or a flag's value (argv.length when none). */
export function firstPositional(argv: string[], options: Options): number {
  const byShort = new Map(Object.entries(options).filter(([, o]) => o.short).map(([name, o]) => [o.short as string, name]));
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') return i + 1;
    if (a === '-' || !a.startsWith('-')) return i;
    if (a.startsWith('--')) {
      const opt = options[a.slice(2)];
      if (!a.includes('=') && opt?.type === 'string') i++;
      continue;
    }
    // A group of short flags (`-it`); a string flag takes the rest of the group or the next argument.
    for (let j = 1; j < a.length; j++) {
      const name = byShort.get(a[j]!);
      if (name !== undefined && options[name]?.type === 'string') {
        if (j === a.length - 1) i++;
        break;
      }
    }
  }
  return argv.length;
}

/** parseArgs over the flags before the first positional; the rest is returned whole. */
export function parseLeadingFlags<T extends Options>(argv: string[], options: T): { values: ReturnType<typeof parseArgs<{ options: T }>>['values']; rest: string[] } {
  const at = firstPositional(argv, options);
  const head = argv.slice(0, at).filter((a, i) => !(a === '--' && i === at - 1));
  const { values } = parseArgs({ args: head, options, strict: true, allowPositionals: false });
  return { values, rest: argv.slice(at) };
}
