/**
 * The candidates closest to a misspelt name, for "did you mean" hints: those at the smallest edit
 * distance (insertions, deletions, substitutions; case differences cost nothing), if that distance
 * is small for the name's length (at most a third of it, and at least 1).
 *
 * @param name The name that matched nothing.
 * @param candidates The names that exist.
 * @returns The closest candidates, in the order given; empty when none is close.
 */
export function closest(name: string, candidates: readonly string[]): string[] {
  const threshold = Math.max(1, Math.floor(name.length / 3));
  let best = threshold + 1;
  let found: string[] = [];
  for (const candidate of candidates) {
    const d = distance(name.toLowerCase(), candidate.toLowerCase(), threshold + 1);
    if (d > threshold) continue;
    if (d < best) {
      best = d;
      found = [candidate];
    } else if (d === best) {
      found.push(candidate);
    }
  }
  return found;
}

/** Levenshtein distance when below `limit`; `limit` when it is that or more (it gives up early). */
function distance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) >= limit) return limit;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const value = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
      current.push(value);
      if (value < rowMin) rowMin = value;
    }
    if (rowMin >= limit) return limit;
    previous = current;
  }
  return Math.min(previous[b.length]!, limit);
}
