import type { ErrorObject } from 'ajv';
import { describe, expect, it } from 'vitest';
import { schemaProblems } from '../../src/spec/schema-problems.js';

/** One ajv error of a size keyword at `/field` of `{ field: value }`. */
function sizeMessage(keyword: string, limit: number, value: unknown): string {
  const data = { field: value };
  const error = { keyword, instancePath: '/field', schemaPath: `#/properties/field/${keyword}`, params: { limit } };
  const [problem] = schemaProblems([error as ErrorObject], { root: data, data });
  return problem.message;
}

describe('schemaProblems: size keywords', () => {
  it.each([
    ['minItems', 1, 'must not be empty', []],
    ['minItems', 2, 'must have at least 2 items', ['a']],
    ['maxItems', 3, 'must have at most 3 items', ['a', 'b', 'c', 'd']],
    ['minLength', 1, 'must not be empty', ''],
    ['minLength', 8, 'must be at least 8 characters long', 'short'],
    ['maxLength', 4, 'must be at most 4 characters long', 'too long'],
    ['minProperties', 1, 'must have at least 1 keys', {}],
    ['maxProperties', 2, 'must have at most 2 keys', { a: 1, b: 2, c: 3 }],
  ])('%s %d: %s', (keyword, limit, rule, value) => {
    expect(sizeMessage(keyword, limit, value)).toMatch(new RegExp(` ${rule}$`));
  });
});
