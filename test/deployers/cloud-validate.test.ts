/**
 * Provider limits an env file can reach, refused by `bp validate` (each cloud plugin's
 * checkEnvironment, src/deployers/<cloud>/env-checks.ts) at the FILE:LINE:COL of the value to
 * change, before any provider call: ALB values per condition and per rule, target groups per
 * forward action, EC2 user data 16 KB, GCE draining 0-3600 s and metadata 256 KB, Azure
 * custom data 65,535 bytes and Traffic Manager endpoints per profile.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validationLab } from '../helpers/validate-problems.js';
import { bp } from '../helpers/cli.js';

const { dir, problems } = validationLab('bp-cloud-validate');

const CONFIGS: Record<string, string> = {
  'aws-ec2': `
      region: eu-west-1
      listener_arn: arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/web/1/2
      vpc_id: vpc-1
      subnet_ids: [subnet-1]
      ami_id: ami-1`,
  'gcp-compute': `
      project: p
      zone: us-central1-a`,
  'azure-vm': `
      subscription_id: 00000000-0000-0000-0000-000000000000
      resource_group: rg
      location: westeurope
      subnet_id: /subscriptions/s/resourceGroups/net/providers/Microsoft.Network/virtualNetworks/v/subnets/apps`,
};

function envFile(type: string, body: string, extraConfig = ''): string {
  return `schema: bp.environment/v1
environment_id: prod
deployers:
  cloud:
    type: ${type}
    config:${CONFIGS[type]}${extraConfig}
deployments:
  - deployment_id: web
    deployer: cloud
    revisions:
${body}
    traffic: [{ revision_id: v1, weight_bps: 10000 }]
`;
}

const rev = (id: string, extra = '', env = 'GREETING: hi') =>
  `      - revision_id: ${id}
        artifact:
          image: "registry.example/app:1"
          env: { ${env} }${extra}
`;

/** The line number (1-based) of the first line of `text` containing `needle`. */
const lineOf = (text: string, needle: string, from = 0) =>
  text.split('\n').findIndex((l, i) => i >= from && l.includes(needle)) + 1;

describe('cloud limits at validate', () => {
  for (const type of Object.keys(CONFIGS)) {
    it(`${type}: accepts a plain environment`, async () => {
      expect(await problems(`${type}-ok`, envFile(type, rev('v1')))).toEqual([]);
    });
  }

  it('aws-ec2: an ALB rule with 4 hosts + 2 paths (over 3 per condition and 5 per rule) is refused at its route', async () => {
    const routes = `
      routes:
        web:
          host_headers: [a.example, b.example, c.example]
          path_patterns: [/a, /b, /c]`;
    const text = envFile('aws-ec2', rev('v1'), routes);
    const found = await problems('aws-rule', text);
    expect(found).toEqual([
      {
        line: lineOf(text, '        web:'),
        col: 9,
        message: expect.stringMatching(/6 values together; an ALB rule takes at most 5/),
      },
    ]);
  });

  it('aws-ec2: a 6th ready revision (a 6th target group in the forward action) is refused at its state', async () => {
    const body = ['v1', 'v2', 'v3', 'v4', 'v5', 'v6'].map((id) => rev(id)).join('');
    const text = envFile('aws-ec2', body);
    const found = await problems('aws-six', text);
    expect(found).toEqual([
      {
        line: lineOf(text, 'revision_id: v6'),
        col: 9,
        message: expect.stringContaining('ELBv2 forwards to at most 5 target groups'),
      },
    ]);
    // Five ready plus an inactive one fit.
    const fits = ['v1', 'v2', 'v3', 'v4', 'v5'].map((id) => rev(id)).join('') + rev('v6', '\n        state: inactive');
    expect(await problems('aws-five', envFile('aws-ec2', fits))).toEqual([]);
  });

  it('aws-ec2: user data over 16 KB is refused at the env value that makes it so', async () => {
    const text = envFile('aws-ec2', rev('v1', '', `SMALL: x, BLOB: ${'b'.repeat(17_000)}`));
    const found = await problems('aws-userdata', text);
    expect(found).toHaveLength(1);
    expect(found[0].line).toBe(lineOf(text, 'BLOB'));
    expect(found[0].message).toMatch(/EC2 user data takes at most 16384 bytes/);
  });

  it('gcp-compute: drain_seconds over 3600 and a metadata value over 256 KB are refused at their lines', async () => {
    const body = rev('v1', '\n        drain_seconds: 7200') + rev('v2', '', `BLOB: ${'b'.repeat(270_000)}`);
    const text = envFile('gcp-compute', body);
    const found = await problems('gcp-limits', text);
    expect(found).toEqual([
      {
        line: lineOf(text, 'drain_seconds: 7200'),
        col: expect.any(Number),
        message: expect.stringContaining('limit of 3600 s'),
      },
      {
        line: lineOf(text, 'BLOB'),
        col: expect.any(Number),
        message: expect.stringContaining('at most 262144 bytes'),
      },
    ]);
  });

  it('azure-vm: custom data over 65,535 bytes is refused at the env value', async () => {
    const text = envFile('azure-vm', rev('v1', '', `BLOB: ${'b'.repeat(65_600)}`));
    const found = await problems('azure-custom-data', text);
    expect(found).toHaveLength(1);
    expect(found[0].line).toBe(lineOf(text, 'BLOB'));
    expect(found[0].message).toMatch(/over Azure's limit of 65535 bytes/);
  });

  it('azure-vm: more ready revisions than Traffic Manager endpoints per profile (200) are refused', async () => {
    const body = Array.from({ length: 201 }, (_, i) => rev(`v${i + 1}`)).join('');
    const text = envFile('azure-vm', body);
    const found = await problems('azure-endpoints', text);
    expect(found).toEqual([
      {
        line: lineOf(text, 'revision_id: v201'),
        col: 9,
        message: expect.stringContaining('at most 200 endpoints'),
      },
    ]);
  });

  it('a VM size no catalog entry fits is refused at resources, for each cloud', async () => {
    for (const type of Object.keys(CONFIGS)) {
      const text = envFile(type, rev('v1', '\n        resources: { cpu: 512, memory_mb: 1024 }'));
      const found = await problems(`${type}-size`, text);
      expect(found, type).toHaveLength(1);
      expect(found[0].line, type).toBe(lineOf(text, 'resources:'));
    }
  });

  it('bp validate prints the refusal as FILE:LINE:COL and exits non-zero', async () => {
    const file = join(dir, 'cli.yaml');
    const text = envFile('gcp-compute', rev('v1', '\n        drain_seconds: 7200'));
    writeFileSync(file, text);
    const r = await bp(['validate', file], { cwd: dir });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`${file}:${lineOf(text, 'drain_seconds: 7200')}:`);
    expect(r.stderr).toContain('limit of 3600 s');
  });
});
