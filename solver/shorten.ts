// Long input quoted in a message (a 1 MB RUN line that failed with E2BIG) is cut to a readable
// length that says how much was left out, so an error stays an error and not megabytes of stderr.
export const SHORTEN_AT = 300;

export function shorten(text: string, max = SHORTEN_AT): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length - max} more characters)`;
}
