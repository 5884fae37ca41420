// COPY --chmod values: octal (`0755`) or chmod(1)'s symbolic clauses (`u+x,g-w,o=r`, `a+X`).

/** What a mode string does to one entry's permission bits; undefined when the string is malformed. */
export type ModeChange = (mode: number, isDir: boolean) => number;

const CLAUSE = /^([ugoa]*)([+\-=])([rwxXst]*)$/;

export function parseModeString(text: string): ModeChange | undefined {
  if (/^[0-7]{1,4}$/.test(text)) {
    const fixed = parseInt(text, 8);
    return () => fixed;
  }
  const clauses = text.split(',').map((c) => CLAUSE.exec(c));
  if (clauses.length === 0 || clauses.some((c) => c === null)) return undefined;
  return (mode, isDir) => {
    let m = mode & 0o7777;
    for (const c of clauses as RegExpExecArray[]) {
      const who = c[1] === '' || c[1]!.includes('a') ? 'ugo' : c[1]!;
      // X: execute only for directories or what is already executable by someone.
      const execAll = isDir || (m & 0o111) !== 0;
      let bits = 0;
      for (const w of who) {
        const shift = w === 'u' ? 6 : w === 'g' ? 3 : 0;
        for (const p of c[3]!) {
          if (p === 'r') bits |= 0o4 << shift;
          else if (p === 'w') bits |= 0o2 << shift;
          else if (p === 'x' || (p === 'X' && execAll)) bits |= 0o1 << shift;
          else if (p === 's' && w !== 'o') bits |= w === 'u' ? 0o4000 : 0o2000;
          else if (p === 't' && w === 'o') bits |= 0o1000;
        }
      }
      if (c[2] === '+') m |= bits;
      else if (c[2] === '-') m &= ~bits;
      else {
        let clear = 0;
        for (const w of who) clear |= w === 'u' ? 0o4700 : w === 'g' ? 0o2070 : 0o1007;
        m = (m & ~clear) | bits;
      }
    }
    return m;
  };
}
