import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import {
  checkVersion,
  CliError,
  createKey,
  execFileRunner,
  keysCreateArgs,
  NotInstalledError,
  revokeKey,
  type Runner,
} from '../src/baasCli';
import { ALL_SCOPES, DEFAULT_SCOPES } from '../src/scopes';
import { baasCommand, tempDir } from './support/harness';

function listKeys(dataDir: string, project = 'default'): { $id: string; name: string; scopes: string[] }[] {
  return JSON.parse(
    execFileSync(baasCommand(), ['keys', 'list', '--data-dir', dataDir, '--project', project, '--json'], { encoding: 'utf8' }),
  );
}

describe('baas-mcp --version', () => {
  it('finds the installed command', async () => {
    assert.match(await checkVersion(baasCommand()), /^baas-mcp \d+\.\d+/);
  });

  it('reports a missing command with the install commands and the setting', async () => {
    await assert.rejects(checkVersion('/nonexistent/baas-mcp'), (error: unknown) => {
      assert.ok(error instanceof NotInstalledError);
      assert.match(error.message, /"\/nonexistent\/baas-mcp" \(command not found\)/);
      assert.match(error.message, /pip install baas-mcp/);
      assert.match(error.message, /pipx install baas-mcp/);
      assert.match(error.message, /"baasMcp\.command" setting to the absolute path/);
      return true;
    });
  });

  it('reports a program that is not baas-mcp the same way', async () => {
    // node --version prints "v20…", not "baas-mcp …".
    await assert.rejects(checkVersion(process.execPath), NotInstalledError);
    const failing: Runner = async () => ({ exitCode: 1, stdout: '', stderr: 'ModuleNotFoundError: No module named mcp_server' });
    await assert.rejects(checkVersion('baas-mcp', failing), /exited with code 1: ModuleNotFoundError/);
  });

  it('treats a spawn ENOENT from any runner as not installed', async () => {
    const missing: Runner = async () => {
      throw Object.assign(new Error('spawn baas-mcp ENOENT'), { code: 'ENOENT' });
    };
    await assert.rejects(checkVersion('baas-mcp', missing), NotInstalledError);
    await assert.rejects(createKey('baas-mcp', { name: 'n', scopes: ['rows.read'], dataDir: '/tmp/x' }, missing), NotInstalledError);
  });
});

describe('baas-mcp keys create', () => {
  it('gets its arguments as a list (no shell): name, scopes, data dir, project, --json', async () => {
    const calls: { file: string; args: readonly string[] }[] = [];
    const runner: Runner = async (file, args) => {
      calls.push({ file, args });
      return {
        exitCode: 0,
        stdout: JSON.stringify({ $id: 'k1', name: 'n', scopes: ['rows.read'], expire: null, secret: 'standard_k1_ab' }),
        stderr: '',
      };
    };
    const key = await createKey('/bin/baas-mcp', { name: 'a b; rm -rf /', scopes: ['rows.read', 'rows.write'], dataDir: '/d' }, runner);
    assert.deepEqual(calls, [
      {
        file: '/bin/baas-mcp',
        args: ['keys', 'create', '--name', 'a b; rm -rf /', '--scopes', 'rows.read,rows.write', '--data-dir', '/d', '--json'],
      },
    ]);
    assert.deepEqual(key, { id: 'k1', name: 'n', scopes: ['rows.read'], expire: null, secret: 'standard_k1_ab' });
    assert.deepEqual(keysCreateArgs({ name: 'n', scopes: ['rows.read'], dataDir: '/d', project: 'shop' }).slice(-3), [
      '--project',
      'shop',
      '--json',
    ]);
  });

  it('creates a real key with every scope, the name taken literally', async () => {
    const dataDir = path.join(tempDir('cli'), '.baas');
    const name = `it's "$(touch pwned)" & more`;
    const key = await createKey(baasCommand(), { name, scopes: ALL_SCOPES, dataDir });
    assert.match(key.secret, /^standard_[0-9a-f]+_[0-9a-f]{64}$/);
    assert.equal(key.name, name);
    assert.deepEqual(key.scopes, [...ALL_SCOPES].sort());
    assert.ok(!fs.existsSync('pwned') && !fs.existsSync(path.join(dataDir, 'pwned')));
    const listed = listKeys(dataDir);
    assert.deepEqual(listed.map((item) => item.$id), [key.id]);
    assert.ok(!JSON.stringify(listed).includes(key.secret), 'baas-mcp stores only a hash of the secret');
  });

  it('creates the key in the Appwrite project when one is given', async () => {
    const dataDir = path.join(tempDir('cli'), '.baas');
    const key = await createKey(baasCommand(), { name: 'remote', scopes: DEFAULT_SCOPES, dataDir, project: 'shop-prod' });
    assert.deepEqual(listKeys(dataDir, 'shop-prod').map((item) => item.$id), [key.id]);
    assert.deepEqual(listKeys(dataDir, 'default'), []);
  });

  it('passes on baas-mcp\'s reason for refusing', async () => {
    const dataDir = path.join(tempDir('cli'), '.baas');
    await assert.rejects(createKey(baasCommand(), { name: 'x', scopes: ['rows.read', 'rows.delete'], dataDir }), (error: unknown) => {
      assert.ok(error instanceof CliError);
      assert.equal(error.exitCode, 2);
      assert.match(error.message, /^baas-mcp could not create the key: Invalid `scopes` param: unknown scope\(s\) rows\.delete/);
      return true;
    });
  });

  it('fails with the install message for a missing command', async () => {
    await assert.rejects(
      createKey('/nonexistent/baas-mcp', { name: 'x', scopes: ['rows.read'], dataDir: tempDir('cli') }, execFileRunner),
      /pip install baas-mcp/,
    );
  });
});

describe('baas-mcp keys revoke', () => {
  it('revokes a real key, and refuses an unknown one', async () => {
    const dataDir = path.join(tempDir('cli'), '.baas');
    const key = await createKey(baasCommand(), { name: 'gone', scopes: ['rows.read'], dataDir });
    await revokeKey(baasCommand(), { id: key.id, dataDir });
    assert.deepEqual(listKeys(dataDir), []);
    await assert.rejects(revokeKey(baasCommand(), { id: key.id, dataDir }), /could not be found/);
  });
});
