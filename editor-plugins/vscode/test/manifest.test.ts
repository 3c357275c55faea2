import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { COMMAND, SECTION, SETTING } from '../src/serverDefinition';
import { loadExtension, manifest, ROOT } from './support/harness';

describe('package.json', () => {
  it('contributes the MCP server definition provider under the id the code registers', () => {
    const providers = manifest.contributes.mcpServerDefinitionProviders;
    assert.equal(providers.length, 1);
    assert.equal(providers[0].id, loadExtension().PROVIDER_ID);
    assert.ok(providers[0].label);
    assert.ok(manifest.activationEvents.includes(`onMcpServerDefinitionProvider:${providers[0].id}`));
  });

  it('needs a VS Code with the MCP API, and is typed against that version', () => {
    assert.equal(manifest.engines.vscode, '^1.101.0');
    assert.equal(manifest.devDependencies['@types/vscode'], '1.101.0');
    const types = fs.readFileSync(path.join(ROOT, 'node_modules/@types/vscode/index.d.ts'), 'utf8');
    for (const name of ['registerMcpServerDefinitionProvider', 'class McpStdioServerDefinition', 'interface McpServerDefinitionProvider']) {
      assert.ok(types.includes(name), `@types/vscode has ${name}`);
    }
  });

  it('contributes exactly the commands the code registers, each with a title', () => {
    const contributed = manifest.contributes.commands.map((item: { command: string }) => item.command).sort();
    assert.deepEqual(contributed, Object.values(COMMAND).sort());
    for (const item of manifest.contributes.commands) {
      assert.ok(item.title && item.category === 'baas-mcp', item.command);
    }
  });

  it('contributes exactly the settings the code reads, with their defaults', () => {
    const properties = manifest.contributes.configuration.properties;
    assert.deepEqual(
      Object.keys(properties).sort(),
      Object.values(SETTING)
        .map((name) => `${SECTION}.${name}`)
        .sort(),
    );
    assert.deepEqual(properties['baasMcp.backend'].enum, ['embedded', 'appwrite']);
    assert.equal(properties['baasMcp.backend'].default, 'embedded');
    assert.equal(properties['baasMcp.command'].default, 'baas-mcp');
    assert.equal(properties['baasMcp.readOnly'].default, false);
    // No secret is ever a setting.
    assert.ok(!Object.keys(properties).some((name) => /key|secret|token|password/i.test(name)));
  });

  it('has no runtime dependencies and pins its development tools', () => {
    assert.equal(manifest.dependencies, undefined);
    for (const [name, version] of Object.entries(manifest.devDependencies)) {
      assert.match(String(version), /^\d+\.\d+\.\d+$/, `${name} is pinned`);
    }
  });

  it('packages only dist/, package.json, README.md and LICENSE', () => {
    const vsce = path.join(ROOT, 'node_modules', '@vscode', 'vsce', 'vsce');
    const listed = execFileSync(process.execPath, [vsce, 'ls', '--no-dependencies'], { cwd: ROOT, encoding: 'utf8' })
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter(Boolean)
      .sort();
    const built = fs.readdirSync(path.join(ROOT, 'dist')).map((file) => `dist/${file}`);
    assert.deepEqual(listed, ['LICENSE', 'README.md', ...built, 'package.json'].sort());
    assert.ok(built.includes('dist/extension.js'));
    assert.equal(manifest.main, './dist/extension.js');
  });
});
