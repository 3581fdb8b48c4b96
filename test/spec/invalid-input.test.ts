/**
 * One fixture per class of invalid input. Each asserts the complete, sorted problem list:
 * message text, line and column, so a regression in any of them shows up here.
 */
import { describe, expect, it } from 'vitest';
import { fixture, fixtureNames, problemLines } from './helpers.js';

const EXPECTED: Record<string, { title: string; problems: string[] }> = {
  'alias-bomb.yaml': {
    title: 'rejects an alias bomb without expanding it',
    problems: ['2:8: YAML aliases expand more than 100 times (an alias bomb?): the file is rejected, not expanded'],
  },
  'artifact-one-of.yaml': {
    title: 'requires exactly one of command, image, binary in an artifact',
    problems: [
      '10:9: artifact must have exactly one of command, image, binary (revision "web-v1" has none)',
      '12:9: artifact must have exactly one of command, image, binary (revision "web-v2" has command and image)',
      '16:21: artifact.command in revision "web-v3" must not be empty',
    ],
  },
  'bad-enum-and-const.yaml': {
    title: 'lists the allowed values of enums and constants',
    problems: [
      '1:9: schema must be "bp.environment/v1", got "bp.environment/v2"',
      '11:16: state in revision "web-v1" must be one of ready, inactive, archived, got "running"',
    ],
  },
  'bad-formats.yaml': {
    title: 'explains listen, env names, http paths, durations, weights and URLs',
    problems: [
      '8:13: listen in deployment "web" must be host:port (an IPv4 address, a [bracketed] IPv6 address or a hostname, and a port 1-65535), got "127.0.0.1:70000"',
      '13:18: key "my-var" in artifact.env of revision "web-v1" is not a valid environment variable name: use letters, digits and "_", not starting with a digit',
      '14:30: health.http_path in revision "web-v1" must be a path starting with "/", got "healthz"',
      '15:14: ttl in revision "web-v1" must be a duration like 30s, 15m, 2h or 7d, got "7w"',
      '17:44: weight_bps in traffic entry #1 of deployment "web" must be <= 10000, got 10001',
      '20:13: listen in deployment "api" must be host:port (an IPv4 address, a [bracketed] IPv6 address or a hostname, and a port 1-65535), got "[::zz]:80"',
      '24:13: listen in deployment "db" must be host:port (an IPv4 address, a [bracketed] IPv6 address or a hostname, and a port 1-65535), got "256.1.1.1:5432"',
      '28:13: listen of deployment "cache" has an invalid IPv6 address "[1::2::3]"',
      '31:10: url in notification #1 must be an http:// or https:// URL',
      '32:5: events in notification #1 must not be empty',
    ],
  },
  'bad-ids.yaml': {
    title: 'rejects ids with path separators, "..", spaces and shell metacharacters',
    problems: [
      '2:17: environment_id must be a valid id (1 to 63 letters, digits, ".", "_" or "-", starting with a letter or digit), got "../etc"',
      '4:3: key "local host" in deployers is not a valid name: use 1 to 63 letters, digits, ".", "_" or "-", starting with a letter or digit',
      '6:20: deployment_id in deployment #1 must be a valid id (1 to 63 letters, digits, ".", "_" or "-", starting with a letter or digit), got "web/api"',
      '9:22: revision_id in revision #1 of deployment #1 must be a valid id (1 to 63 letters, digits, ".", "_" or "-", starting with a letter or digit), got "v1;rm -rf /"',
      '11:22: revision_id in revision #2 of deployment #1 must be a valid id (1 to 63 letters, digits, ".", "_" or "-", starting with a letter or digit), got "$(reboot)"',
    ],
  },
  'duplicate-key.yaml': {
    title: 'names a duplicate key at its second occurrence',
    problems: ['12:9: duplicate key "drain_seconds": each key may appear once in a mapping'],
  },
  'empty.yaml': {
    title: 'rejects an empty file',
    problems: ['1:1: the file is empty: expected a mapping that starts with "schema: bp.environment/v1"'],
  },
  'ids-not-unique.yaml': {
    title: 'rejects duplicate deployment ids and revision ids, within and across deployments',
    problems: [
      '11:22: duplicate revision id "v1" in deployment "web" (first declared at line 9)',
      '15:20: duplicate deployment id "web" (first declared at line 6)',
      '18:22: revision id "v1" is already used by deployment "web": revision ids are unique within the environment (first declared at line 9)',
    ],
  },
  'listen-clash.yaml': {
    title: 'rejects two deployments listening on the same address, wildcards included',
    problems: [
      '12:13: listen address "127.0.0.1:8080" of deployment "api" is already used by deployment "web" (first declared at line 8)',
      '20:13: listen address "localhost:9090" of deployment "metrics" is already used by deployment "admin" (first declared at line 16)',
    ],
  },
  'malformed-references.yaml': {
    title: 'points at malformed ${...} references inside the string',
    problems: [
      '7:14: config.token in deployer "local" has a malformed reference: write ${env:NAME}, ${file:PATH} or ${secret:STORE:REF[@VERSION][#KEY]} (STORE one of aws-sm, aws-ssm, gcp-sm, azure-kv, vault, k8s), or $${ for a literal ${',
      '16:16: artifact.env.A in revision "web-v1" has a malformed reference: write ${env:NAME}, ${file:PATH} or ${secret:STORE:REF[@VERSION][#KEY]} (STORE one of aws-sm, aws-ssm, gcp-sm, azure-kv, vault, k8s), or $${ for a literal ${',
      '17:24: artifact.env.B in revision "web-v1" has a malformed reference: write ${env:NAME}, ${file:PATH} or ${secret:STORE:REF[@VERSION][#KEY]} (STORE one of aws-sm, aws-ssm, gcp-sm, azure-kv, vault, k8s), or $${ for a literal ${',
      '24:13: secret in notification #1 has a malformed reference: write ${env:NAME}, ${file:PATH} or ${secret:STORE:REF[@VERSION][#KEY]} (STORE one of aws-sm, aws-ssm, gcp-sm, azure-kv, vault, k8s), or $${ for a literal ${',
    ],
  },
  'missing-required.yaml': {
    title: 'names each missing required key and where it is missing',
    problems: [
      '6:5: missing required key "deployer" in deployment "web"',
      '8:9: missing required key "revision_id" in revision #1 of deployment "web"',
      '10:9: missing required key "weight_bps" in traffic entry #1 of deployment "web"',
      '10:24: traffic of deployment "web" names unknown revision "web-v1"',
    ],
  },
  'no-traffic.yaml': {
    title: 'rejects a deployment with ready revisions but no traffic split',
    problems: [
      '6:5: deployment "web" has ready revisions but no traffic split: add traffic entries whose weight_bps sum to 10000',
      '16:5: deployment "api" has ready revisions but no traffic split: add traffic entries whose weight_bps sum to 10000',
    ],
  },
  'not-a-mapping.yaml': {
    title: 'rejects a document that is not a mapping',
    problems: ['1:1: the file must hold a mapping (the environment), got a list'],
  },
  'replicas.yaml': {
    title: 'rejects max_replicas below replicas',
    problems: ['11:49: resources.max_replicas (2) of revision "web-v1" is below replicas (4)'],
  },
  'syntax-error.yaml': {
    title: 'reports YAML syntax errors with their position',
    problems: ['5:1: YAML syntax: Flow map in block collection must be sufficiently indented and end with a }'],
  },
  'traffic-references.yaml': {
    title: "rejects traffic naming another deployment's revision, an unknown one, or one twice",
    problems: [
      '13:24: traffic of deployment "web" names revision "api-v1", which belongs to deployment "api"',
      '14:24: traffic of deployment "web" names unknown revision "web-v9"',
      '22:24: traffic of deployment "api" names revision "api-v1" twice (first declared at line 21)',
    ],
  },
  'traffic-weights.yaml': {
    title: 'rejects weights that do not sum to 10000 and weight on inactive or archived revisions',
    problems: [
      '17:5: traffic weights of deployment "web" sum to 9500, not 10000',
      '19:44: traffic of deployment "web" gives 1000 bps to revision "web-v0", whose state is archived: set its weight to 0 or its state to ready',
      '20:45: traffic of deployment "web" gives 500 bps to revision "web-v00", whose state is inactive: set its weight to 0 or its state to ready',
      '21:5: deployment "api" has ready revisions but no traffic split: add traffic entries whose weight_bps sum to 10000',
    ],
  },
  'two-documents.yaml': {
    title: 'rejects a file holding more than one YAML document',
    problems: [
      '6:1: the file holds more than one YAML document (a second ---): an env file declares exactly one environment',
    ],
  },
  'unknown-deployer.yaml': {
    title: 'rejects a deployment naming an undeclared deployer',
    problems: ['7:15: deployment "web" uses deployer "cloud", which is not declared under deployers (declared: local)'],
  },
  'unknown-keys.yaml': {
    title: 'names unknown keys at the key itself, with a suggestion when close',
    problems: [
      '5:1: unknown key "colour" in the environment',
      '11:49: unknown key "entrypoint" in artifact of revision "web-v1"',
      '12:9: unknown key "foo" in revision "web-v1"',
      '13:9: unknown key "drain_second" in revision "web-v1" (did you mean "drain_seconds"?)',
    ],
  },
  'wrong-types.yaml': {
    title: 'names the path and expected type of wrongly typed values',
    problems: [
      '11:20: artifact.command in revision "web-v1" must be a list, got a string',
      '12:24: artifact.env.PORT in revision "web-v1" must be a string, got a number (quote the value)',
      '13:27: resources.cpu in revision "web-v1" must be a number, got a string',
      '13:44: resources.memory_mb in revision "web-v1" must be an integer, got a fractional number',
      '13:60: resources.replicas in revision "web-v1" must be >= 0, got -1',
      '14:36: health.timeout_seconds in revision "web-v1" must be > 0, got 0',
      '15:5: traffic in deployment "web" must be a list, got a mapping',
      '21:24: drain_seconds in revision "api-v1" must be a number, got a non-finite number (.inf or .nan)',
      '23:44: weight_bps in traffic entry #1 of deployment "api" must be an integer, got a fractional number',
      '24:24: traffic of deployment "api" names revision "api-v1" twice (first declared at line 23)',
      '24:44: weight_bps in traffic entry #2 of deployment "api" must be an integer, got a string',
    ],
  },
};

describe('invalid environments', () => {
  for (const [name, { title, problems }] of Object.entries(EXPECTED)) {
    it(`${title} (${name})`, () => {
      expect(problemLines(fixture('invalid', name), name)).toEqual(problems);
    });
  }

  it('has an expectation for every invalid fixture', () => {
    expect(fixtureNames('invalid')).toEqual(Object.keys(EXPECTED).sort());
  });
});
