/**
 * The shell pieces the VM deployers' boot scripts share: run through bash where they are
 * commands, so what is checked is what a VM would do, not only the text.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// Through the kit's public exports: these are what a plugin's VM deployer gets.
import * as kit from '../../../src/deployers/kit/index.js';

const bash = (lines: string[]) => execFileSync('bash', ['-c', lines.join('\n')], { encoding: 'utf8' });

describe('boot script pieces', () => {
  it('a head stops at the first failure and makes files private', () => {
    expect(kit.scriptHead()).toEqual(['#!/bin/bash', 'set -euo pipefail', 'umask 077']);
    expect(kit.scriptHead('Written by bp')[1]).toBe('# Written by bp');
    expect(() => bash([...kit.scriptHead(), 'false', 'echo not reached'])).toThrow();
    expect(bash([...kit.scriptHead(), 'umask'])).toBe('0077\n');
  });

  it('writes env files the shell does not expand: verbatim for Docker, quoted for systemd', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bp-boot-'));
    const env = { A: 'x $HOME `id` "q"', B: "it's" };
    bash([
      ...kit.writeEnvFile(`${dir}/docker.env`, env, 'docker'),
      ...kit.writeEnvFile(`${dir}/app.env`, env, 'systemd'),
    ]);
    expect(readFileSync(`${dir}/docker.env`, 'utf8')).toBe('A=x $HOME `id` "q"\nB=it\'s\n');
    expect(readFileSync(`${dir}/app.env`, 'utf8')).toBe(`${kit.envFileLines(env, 'systemd').join('\n')}\n`);
    expect(kit.envFileLines(env, 'systemd')).toEqual(['A="x $HOME `id` \\"q\\""', 'B="it\'s"']);
  });

  it('quotes words for the shell, quotes included', () => {
    expect(bash([`printf '%s' ${kit.shellQuote("a'b $c")}`])).toBe("a'b $c");
    expect(kit.dockerRunArgs({ name: 'bp-app', envFile: '/e', port: 8080, image: "r/i:1'x" })).toBe(
      `--name bp-app --env-file /e -p 8080:8080 'r/i:1'\\''x'`,
    );
  });

  it('passes the identity token to curl on stdin, never on its command line', () => {
    const fn = kit.tokenFunction("'http://meta/token'", 'cat');
    expect(fn[0]).toBe('bp_token() {');
    const get = kit.bearerGet('https://vault/x?y=1');
    expect(get).toBe(
      `printf 'Authorization: Bearer %s\\n' "$(bp_token)" | curl -fsS --retry 5 -H @- 'https://vault/x?y=1'`,
    );
    // With curl replaced by a function echoing its arguments and stdin: the token is only on stdin.
    const out = bash(['bp_token() { printf s3cret; }', 'curl() { printf "args:%s\\n" "$*"; cat; }', get]);
    expect(out).toBe('args:-fsS --retry 5 -H @- https://vault/x?y=1\nAuthorization: Bearer s3cret\n');
  });
});
