/** bp revision add / traffic set / revision retire through bin/bp: diff printed, file written atomically, never invalid. */
import { readFileSync, statSync, chmodSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bp, tempDir, writeFile } from '../helpers/cli.js';

const t = tempDir('bp-edit-');
afterAll(() => t.cleanup());

const ENV = `# staging web (comments stay)
schema: bp.environment/v1
environment_id: demo
deployers:
  local: { type: docker }  # the only deployer
deployments:
  - deployment_id: web
    deployer: local
    revisions:
      - revision_id: web-v1  # first
        artifact: { image: "ghcr.io/acme/web:v1" }
    traffic:
      - { revision_id: web-v1, weight_bps: 10000 }
`;

describe('edit commands', () => {
  it('revision add, traffic set, retire: unified diff on stdout, file mode kept, comments kept', async () => {
    const file = writeFile(join(t.dir, 'env.yaml'), ENV);
    chmodSync(file, 0o644);
    const add = await bp(
      ['revision', 'add', file, 'web', 'web-abc123', '--image', 'ghcr.io/acme/web:abc123', '--weight', '1000'],
      { cwd: t.dir },
    );
    expect(add.stderr).toBe('');
    expect(add.code).toBe(0);
    expect(add.stdout.startsWith(`--- ${file}\n+++ ${file}\n@@ `)).toBe(true);
    expect(add.stdout).toContain(
      '+      - revision_id: web-abc123\n+        artifact:\n+          image: ghcr.io/acme/web:abc123\n',
    );
    expect(add.stdout).toContain(
      '-      - { revision_id: web-v1, weight_bps: 10000 }\n+      - { revision_id: web-v1, weight_bps: 9000 }\n+      - { revision_id: web-abc123, weight_bps: 1000 }\n',
    );
    expect(statSync(file).mode & 0o777).toBe(0o644);
    const set = await bp(['traffic', 'set', file, 'web', 'web-abc123=10000'], { cwd: t.dir });
    expect(set.code).toBe(0);
    const retire = await bp(['revision', 'retire', file, 'web', 'web-v1'], { cwd: t.dir });
    expect(retire.code).toBe(0);
    expect(retire.stdout).toContain('+        state: inactive');
    const after = readFileSync(file, 'utf8');
    for (const line of ENV.split('\n').filter((l) => l.includes('#'))) expect(after).toContain(line);
    const valid = await bp(['validate', file], { cwd: t.dir });
    expect(valid.code).toBe(0);
    expect(readdirSync(t.dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('an edit that would make the file invalid leaves it byte for byte as it was', async () => {
    const file = writeFile(join(t.dir, 'env2.yaml'), ENV);
    const r = await bp(['traffic', 'set', file, 'web', 'web-nope=10000'], { cwd: t.dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `${file} left unchanged: the edit would make it invalid:\n  line 13:24: traffic of deployment "web" names unknown revision "web-nope"`,
    );
    expect(r.stdout).toBe('');
    expect(readFileSync(file, 'utf8')).toBe(ENV);
    const bad = await bp(['traffic', 'set', file, 'web', 'web-v1=9000'], { cwd: t.dir });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('weights sum to 9000, not 10000');
    expect(readFileSync(file, 'utf8')).toBe(ENV);
  });

  it('--dry-run prints the diff and writes nothing', async () => {
    const file = writeFile(join(t.dir, 'env3.yaml'), ENV);
    const r = await bp(
      ['revision', 'add', file, 'web', 'web-v2', '--command', 'node', '--command', 'v2.js', '--dry-run'],
      { cwd: t.dir },
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('+          command:\n+            - node\n+            - v2.js\n');
    expect(readFileSync(file, 'utf8')).toBe(ENV);
  });
});
