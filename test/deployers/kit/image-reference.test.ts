/** The image reference grammar engines parse (src/deployers/kit/image-reference.ts). */
import { describe, expect, it } from 'vitest';
import { imageReferenceProblem } from '../../../src/deployers/kit/image-reference.js';

const hex = (n: number) => 'a'.repeat(n);

describe('imageReferenceProblem', () => {
  it.each([
    'nginx',
    'nginx:1.25-alpine',
    'library/nginx:latest',
    'registry.example.com/team/web:1',
    'localhost:5000/web',
    '[::1]:5000/web:1',
    'My.Registry.example.com/web', // registry hosts may have capitals
    'a__b/c---d/e.f_g',
    `web@sha256:${hex(64)}`,
    `web:1@sha512:${hex(128)}`,
    `web:${'x'.repeat(128)}`,
    'a'.repeat(255),
  ])('accepts %s', (ref) => {
    expect(imageReferenceProblem(ref)).toBeNull();
  });

  it.each([
    ['Web:1', /must be lower case/],
    ['registry:5000/Team/web', /must be lower case/],
    ['web:-1', /a tag is 1 to 128/],
    [`web:${'x'.repeat(129)}`, /a tag is 1 to 128/],
    ['a'.repeat(256), /256 characters; at most 255/],
    ['a___b', /not of the form/],
    ['web/', /not of the form/],
    ['-web', /not of the form/],
    ['web app', /not of the form/],
    [`web@md5:${hex(32)}`, /algorithm "md5" is not sha256/],
    [`web@sha256:${hex(63)}`, /64 lower-case hex digits/],
    [`web@sha256:${'A'.repeat(64)}`, /64 lower-case hex digits/],
  ])('refuses %s', (ref, why) => {
    expect(imageReferenceProblem(ref)).toMatch(why);
  });
});
