/**
 * Cloud resource names from bp ids. bp ids allow upper case, dots and underscores; DNS labels
 * and most providers' names do not, so a name carries a readable slug of the id plus a short
 * hash of the exact ids, which keeps two ids that fold to one slug apart.
 */
import { createHash } from 'node:crypto';

/** 8 hex digits of SHA-256 over the parts (NUL-separated, so `a`+`bc` differs from `ab`+`c`). */
export function nameHash(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\0')).digest('hex').slice(0, 8);
}

/** Lower case, [a-z0-9-], starts with a letter, at most `max` characters. */
export function slug(id: string, max: number): string {
  const s = id
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-+/, '');
  return `${/^[a-z]/.test(s) ? '' : 'r'}${s}`.slice(0, max).replace(/-+$/, '');
}
