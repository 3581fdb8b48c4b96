/**
 * Fuzzing saved plans through checkSavedPlan, the gate `bp apply PLANFILE`, `bp show` and
 * `bp graph` pass every saved plan through. A real plan is damaged at a random place (a value
 * replaced by random JSON, hostile strings or numbers, or a key removed), then either left
 * with its old digest or re-digested as an attacker would. Whatever the input: never an
 * exception but an InvalidInput BpError with a one-line message; a damaged plan keeping its
 * old digest is always refused; an accepted plan has only valid ids and weights.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ID_REGEX } from '../../src/model/environment.js';
import { BpError } from '../../src/model/errors.js';
import { canonicalJson, checkSavedPlan, planFileDigest } from '../../src/plan/saved-plan.js';
import { FUZZ_RUNS } from './env-arbitraries.js';
import { savedPlanFixture } from './plan-fixture.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Path = Array<string | number>;

const base = JSON.parse(JSON.stringify(savedPlanFixture())) as { [k: string]: Json };

function paths(v: Json, at: Path = []): Path[] {
  const out: Path[] = [at];
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...paths(x, [...at, i])));
  else if (v !== null && typeof v === 'object')
    for (const [k, x] of Object.entries(v)) out.push(...paths(x, [...at, k]));
  return out;
}
const allPaths = paths(base).filter((p) => p.length > 0 && p[0] !== 'digest');

const hostileString = fc.oneof(
  fc.constantFrom(
    '../..',
    '../../etc',
    '\u001b[31mred',
    'a\u202eb',
    'x\u0085y',
    '',
    ' ',
    'web',
    'web-v1',
    'toString',
    '__proto__',
  ),
  fc.string({ maxLength: 80 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
);
const hostileNumber = fc.oneof(
  fc.constantFrom(-1, 0, 1, 9999, 10000, 10001, 1e308, Number.MAX_SAFE_INTEGER + 2, 0.5),
  fc.integer(),
  fc.double(),
);
const replacement: fc.Arbitrary<Json | undefined> = fc.oneof(
  hostileString,
  hostileNumber,
  fc.constant(undefined), // remove the key
  fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>,
);

function mutate(doc: { [k: string]: Json }, path: Path, value: Json | undefined): { [k: string]: Json } {
  const copy = structuredClone(doc);
  let parent = copy as Json;
  for (const key of path.slice(0, -1)) parent = (parent as Record<string | number, Json>)[key];
  const last = path[path.length - 1];
  if (value === undefined) {
    if (Array.isArray(parent)) parent.splice(last as number, 1);
    else delete (parent as Record<string, Json>)[last as string];
  } else {
    (parent as Record<string | number, Json>)[last] = value;
  }
  return copy;
}

function verdict(doc: unknown): 'accepted' | 'refused' {
  try {
    const ok = checkSavedPlan(doc, '/tmp/fuzz-plan.json');
    for (const step of ok.plan.steps) {
      expect(step.deployment_id).toMatch(ID_REGEX);
      if (step.revision_id !== null) expect(step.revision_id).toMatch(ID_REGEX);
      for (const e of [...(step.split?.before ?? []), ...(step.split?.after ?? [])]) {
        expect(e.revision_id).toMatch(ID_REGEX);
        expect(Number.isInteger(e.weight_bps) && e.weight_bps >= 0 && e.weight_bps <= 10000).toBe(true);
      }
    }
    return 'accepted';
  } catch (e) {
    expect(BpError.is(e), String((e as Error)?.stack ?? e)).toBe(true);
    expect((e as BpError).code).toBe('InvalidInput');
    expect((e as BpError).message).toMatch(/^saved plan \/tmp\/fuzz-plan\.json /);
    expect((e as BpError).message).not.toMatch(/Cannot read propert|is not a function|undefined \(reading|call stack/);
    // Control characters never reach the terminal through the message.
    expect((e as BpError).message).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e]/);
    return 'refused';
  }
}

describe('saved plan fuzzing through checkSavedPlan', () => {
  it('the unmodified plan is accepted', () => {
    expect(verdict(base)).toBe('accepted');
  });

  it(`${FUZZ_RUNS} damaged plans keeping their digest: always refused, never a crash`, () => {
    fc.assert(
      fc.property(fc.constantFrom(...allPaths), replacement, (path, value) => {
        const damaged = mutate(base, path, value);
        fc.pre(canonicalJson(damaged) !== canonicalJson(base));
        expect(verdict(damaged)).toBe('refused');
      }),
      { numRuns: FUZZ_RUNS },
    );
  });

  it(`${FUZZ_RUNS} damaged and re-digested plans: accepted only when valid, else an InvalidInput error`, () => {
    const seen = { accepted: 0, refused: 0 };
    fc.assert(
      fc.property(fc.constantFrom(...allPaths), replacement, (path, value) => {
        const damaged = mutate(base, path, value);
        damaged.digest = planFileDigest(damaged as never);
        seen[verdict(damaged)]++;
      }),
      { numRuns: FUZZ_RUNS },
    );
    expect(seen.refused).toBeGreaterThan(0);
  });

  it('random JSON documents carrying the marker never crash the check', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 3 })), (extra) => {
        verdict({ ...extra, format_version: 'bp.planfile/v1' });
      }),
      { numRuns: FUZZ_RUNS },
    );
  });
});
