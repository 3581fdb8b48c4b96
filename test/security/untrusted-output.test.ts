/**
 * Untrusted text is printed escaped (ANSI, C1, bidi overrides), and `bp state unlock` refuses
 * to free a lock whose holder is a live process on this host unless --force.
 */
import { describe, expect, it } from 'vitest';
import { errorMessageFor } from '../../src/cli/errors.js';
import { escapeControls, jsonSafe } from '../../src/model/escape.js';
import { messageOf } from '../../src/model/errors.js';
import { openStateBackend } from '../../src/state/index.js';
import { bp, tempDir } from '../helpers/cli.js';

describe('control characters from files, state and plugins', () => {
  it('escapes ANSI, C1 and bidi overrides, keeping newlines and tabs', () => {
    expect(escapeControls('red \u001b[31mX\u001b[0m')).toBe('red \\x1B[31mX\\x1B[0m');
    expect(escapeControls('csi \u009b2J')).toBe('csi \\x9B2J');
    expect(escapeControls('txt.\u202Eexe')).toBe('txt.\\u202Eexe');
    expect(escapeControls('a\nb\tc')).toBe('a\nb\tc');
    expect(escapeControls('a\nb', true)).toBe('a\\x0Ab');
    expect(JSON.parse(jsonSafe(JSON.stringify({ v: 'a\u202Eb\u0085' })))).toEqual({ v: 'a\u202Eb\u0085' });
    expect(jsonSafe(JSON.stringify('a\u202Eb'))).toBe('"a\\u202eb"');
  });

  it('a plugin error message cannot drive the terminal', () => {
    const fromPlugin = Object.assign(new Error('disk \u001b[2Jfull \u202Eevil'), { code: 'Provider' });
    expect(messageOf(fromPlugin)).toBe('disk \\x1B[2Jfull \\u202Eevil');
    expect(errorMessageFor(fromPlugin)).not.toMatch(/[\u001b\u202e]/);
  });
});

describe('bp state unlock', () => {
  it('refuses a live holder on this host, naming it, and releases it with --force', async () => {
    const t = tempDir('bp-unlock-');
    const backend = await openStateBackend({ stateDir: t.dir });
    const session = await backend.lock('demo', { operation: 'apply', timeoutMs: 0 });
    const id = session.lock.id;
    const refused = await bp(['state', 'unlock', 'demo', id, '--state-dir', t.dir], { cwd: t.dir });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      new RegExp(`held by a live process on this host: .*pid ${process.pid} \\(apply since`),
    );
    expect(refused.stderr).toMatch(/--force/);
    expect((await backend.lockHolder('demo'))?.id).toBe(id);
    const forced = await bp(['state', 'unlock', 'demo', id, '--force', '--state-dir', t.dir], { cwd: t.dir });
    expect(forced.code).toBe(0);
    expect(await backend.lockHolder('demo')).toBeNull();
    await backend.close();
    t.cleanup();
  }, 60_000);
});
