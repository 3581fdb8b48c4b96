/**
 * Every deployer that runs images judges `artifact.image` by the same grammar (the kit's
 * `checkImageReference`): the same references pass everywhere, and a bad one is refused by
 * each with the same reason, before any provider call.
 */
import { describe, expect, it } from 'vitest';
import { checkArtifact } from '../../../src/deployers/aws-ec2/launch.js';
import { validateArtifact as azureArtifact } from '../../../src/deployers/azure-vm/custom-data.js';
import { checkImage } from '../../../src/deployers/docker/limits.js';
import { validateArtifact as gcpArtifact } from '../../../src/deployers/gcp-compute/template.js';
import { imageOf } from '../../../src/deployers/k8s/deployer.js';
import { revision } from '../gcp-compute-fixtures.js';

const withImage = (image: string) => revision('web-v1', { artifact: { image, env: {} } });

const checks: Record<string, (image: string) => unknown> = {
  docker: (image) => checkImage(withImage(image)),
  k8s: (image) => imageOf(withImage(image)),
  'aws-ec2': (image) => checkArtifact(withImage(image)),
  'gcp-compute': (image) => gcpArtifact(withImage(image)),
  'azure-vm': (image) => azureArtifact(withImage(image)),
};

const GOOD = [
  'nginx',
  'nginx:1.27-alpine',
  'registry.example.com:5000/team/web:v1.2',
  '123456789012.dkr.ecr.eu-west-1.amazonaws.com/web@sha256:' + 'a'.repeat(64),
  'europe-docker.pkg.dev/proj/repo/web:2',
  'bpregistry.azurecr.io/web:1',
  '[::1]:5000/web:1',
];

const BAD: Array<[string, RegExp]> = [
  ['registry.example.com/Web:1', /the repository name must be lower case/],
  ['web:-1', /a tag is 1 to 128/],
  ['web:' + 't'.repeat(129), /a tag is 1 to 128/],
  ['web@sha256:' + 'a'.repeat(40), /a sha256 digest is 64 lower-case hex digits/],
  ['web@md5:' + 'a'.repeat(32), /digest algorithm "md5"/],
  ['a/'.repeat(128) + 'web', /at most 255 are allowed/],
  ['web//x', /not of the form/],
];

describe('image references, one grammar for every deployer that runs images', () => {
  for (const [deployer, check] of Object.entries(checks)) {
    it(`${deployer} accepts what engines accept and refuses the rest with the kit's reason`, () => {
      for (const image of GOOD) expect(() => check(image), image).not.toThrow();
      for (const [image, reason] of BAD) {
        expect(() => check(image), image).toThrow(/revision "web-v1": ".*" is not a valid image reference: /);
        expect(() => check(image), image).toThrow(reason);
      }
    });
  }
});
