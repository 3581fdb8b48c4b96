/**
 * One exposition for a deployment routed on several hosts: each host's router counts only
 * its own traffic, so every sample gets a `host` label (as Prometheus' `instance` label
 * would when scraping each host) and the families are merged, HELP and TYPE once each.
 * Summing over `host` gives the deployment's totals; counter resets stay per host.
 */
import { escapeLabelValue } from '../../router/metrics.js';

interface Family {
  comments: string[];
  samples: string[];
}

/** Inserts `name="value"` as the first label of a sample line. */
function withLabel(line: string, label: string): string {
  const brace = line.indexOf('{');
  const space = line.indexOf(' ');
  if (brace >= 0 && (space < 0 || brace < space)) {
    const empty = line[brace + 1] === '}';
    return `${line.slice(0, brace + 1)}${label}${empty ? '' : ','}${line.slice(brace + 1)}`;
  }
  return `${line.slice(0, space)}{${label}}${line.slice(space)}`;
}

export function mergeHostExpositions(parts: readonly { host: string; text: string }[]): string {
  const families = new Map<string, Family>();
  for (const { host, text } of parts) {
    const label = `host="${escapeLabelValue(host)}"`;
    let current: Family | null = null;
    for (const raw of text.split('\n')) {
      const line = raw.trim();
      if (line === '') continue;
      const help = /^# HELP (\S+)/.exec(line);
      if (help) {
        current = families.get(help[1]) ?? null;
        if (!current) {
          current = { comments: [line], samples: [] };
          families.set(help[1], current);
        } else if (!current.comments.includes(line)) current.comments.push(line);
        continue;
      }
      if (!current) {
        current = { comments: [], samples: [] };
        families.set(`\0${families.size}`, current);
      }
      if (line.startsWith('#')) {
        if (!current.comments.includes(line)) current.comments.push(line);
      } else current.samples.push(withLabel(line, label));
    }
  }
  return [...families.values()].flatMap((f) => [...f.comments, ...f.samples]).join('\n') + '\n';
}
