/** "Did you mean ...?" for a mistyped command: the known command closest by edit distance. */

/** Edit distance counting a swap of two neighbouring letters (`paln`) as one edit. */
export function editDistance(a: string, b: string): number {
  let before: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        row[j] = Math.min(row[j]!, before[j - 2]! + 1);
    }
    before = prev;
    prev = row;
  }
  return prev[b.length]!;
}

/**
 * The command meant by `words` (what the user typed, split on spaces), or null when nothing is
 * close: at most a third of the typed word's letters wrong (so `aply` -> `apply`, `xyz` -> none).
 * Commands in a topic (`rollout status`) are matched word by word on as many words as they have.
 */
export function closestCommand(words: string[], commandIds: string[]): { id: string; rest: string[] } | null {
  let best: { id: string; rest: string[]; distance: number } | null = null;
  for (const id of commandIds) {
    const parts = id.split(':');
    if (words.length < parts.length) continue;
    const typed = words.slice(0, parts.length).join(' ');
    const distance = editDistance(typed, parts.join(' '));
    if (distance > Math.max(1, Math.floor(typed.length / 3))) continue;
    if (!best || distance < best.distance || (distance === best.distance && parts.length > best.id.split(':').length)) {
      best = { id, rest: words.slice(parts.length), distance };
    }
  }
  return best && { id: best.id, rest: best.rest };
}
