/**
 * The environment a process bp starts (a replica, a router) begins with: PATH and HOME from
 * bp's own environment and nothing else of it (no PG*, AWS_*, webhook secrets, other
 * revisions' values), then what the revision declares, then what the deployer sets (PORT).
 * Values never go on a command line.
 */
export const INHERITED_VARIABLES = ['PATH', 'HOME'] as const;

export function leastEnvironment(
  declared: Readonly<Record<string, string>> = {},
  set: Readonly<Record<string, string>> = {},
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of INHERITED_VARIABLES) {
    const v = process.env[name];
    if (v !== undefined) env[name] = v;
  }
  return { ...env, ...declared, ...set };
}
