import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { DEFAULT_SCOPES } from '../src/scopes';
import { activate, baasCommand, manifest, settle, tempDir } from './support/harness';
import * as vscode from './support/vscode-stub';

const { state } = vscode;

function workspace(): string {
  return fs.realpathSync(tempDir('ws'));
}

function errors(): string[] {
  return state.messages.filter((item) => item.level === 'error').map((item) => item.message);
}

function infos(): string[] {
  return state.messages.filter((item) => item.level === 'info').map((item) => item.message);
}

function listKeys(dataDir: string, project = 'default'): { $id: string; name: string; scopes: string[] }[] {
  return JSON.parse(
    execFileSync(baasCommand(), ['keys', 'list', '--data-dir', dataDir, '--project', project, '--json'], { encoding: 'utf8' }),
  );
}

const APPWRITE = {
  'baasMcp.backend': 'appwrite',
  'baasMcp.appwrite.endpoint': 'https://cloud.appwrite.io/v1',
  'baasMcp.appwrite.projectId': 'shop-prod',
};
const API_KEY = 'standard_d3adbeef_appwrite_api_key_for_tests';

/** Answers the scope quick pick with its preselected items. */
const acceptPreselected = (items: readonly any[]) => items.filter((item) => item.picked);

describe('activation', () => {
  it('registers the provider under the package.json id, and every contributed command', () => {
    const extension = activate({ folder: workspace() });
    assert.equal(extension.providerId, manifest.contributes.mcpServerDefinitionProviders[0].id);
    assert.deepEqual(
      [...state.commands.keys()].sort(),
      manifest.contributes.commands.map((item: { command: string }) => item.command).sort(),
    );
    assert.equal(typeof extension.provider.provideMcpServerDefinitions, 'function');
    assert.equal(typeof extension.provider.resolveMcpServerDefinition, 'function');
    assert.equal(typeof extension.provider.onDidChangeMcpServerDefinitions, 'function');
    assert.equal(extension.log.name, 'baas-mcp');
    // Everything it registered goes away with the extension.
    for (const item of extension.context.subscriptions) {
      item.dispose();
    }
    assert.equal(state.providers.size, 0);
    assert.equal(state.commands.size, 0);
  });
});

describe('the server definition', () => {
  it('runs `baas-mcp serve` over stdio with the data in <workspace>/.baas', async () => {
    const folder = workspace();
    const extension = activate({ folder });
    const definitions = await extension.provide();
    assert.equal(definitions.length, 1);
    const [server] = definitions;
    assert.ok(server instanceof vscode.McpStdioServerDefinition);
    assert.equal(server.label, 'baas-mcp');
    assert.equal(server.command, 'baas-mcp');
    assert.deepEqual(server.args, ['serve', '--data-dir', path.join(folder, '.baas')]);
    assert.deepEqual(server.env, { APPWRITE_ENDPOINT: null, APPWRITE_API_KEY: null, BAAS_MCP_KEY: null });
    assert.equal(server.cwd?.fsPath, folder);
    assert.ok(server.version);
  });

  it('keeps the data in the extension\'s per-user storage when no folder is open', async () => {
    const extension = activate({});
    const [server] = await extension.provide();
    const storage = extension.context.globalStorageUri.fsPath;
    assert.deepEqual(server.args, ['serve', '--data-dir', path.join(storage, '.baas')]);
    assert.equal(server.cwd?.fsPath, storage);
  });

  it('adds --read-only, and tells the editor when settings change', async () => {
    const extension = activate({ folder: workspace() });
    assert.equal(extension.changes(), 0);
    vscode.setSetting('baasMcp.readOnly', true);
    assert.equal(extension.changes(), 1);
    const [server] = await extension.provide();
    assert.equal(server.args.at(-1), '--read-only');
    vscode.setSetting('editor.fontSize', 14);
    assert.equal(extension.changes(), 1, 'other sections do not matter');
  });

  it('runs `serve --endpoint URL --project ID` for the Appwrite backend, the API key only in the environment', async () => {
    const folder = workspace();
    const extension = activate({ folder, settings: { ...APPWRITE, 'baasMcp.command': baasCommand() } });
    const [listed] = await extension.provide();
    assert.deepEqual(listed.args, [
      'serve',
      '--endpoint',
      'https://cloud.appwrite.io/v1',
      '--project',
      'shop-prod',
      '--data-dir',
      path.join(folder, '.baas'),
    ]);
    assert.deepEqual(listed.env, { BAAS_MCP_KEY: null });

    state.inputBoxAnswers.push(API_KEY);
    await extension.run('baasMcp.setAppwriteApiKey');
    assert.equal(state.inputBoxes[0].options.password, true, 'the API key is typed into a password box');
    assert.deepEqual([...extension.context.secrets.values.values()], [API_KEY]);
    assert.ok(extension.changes() >= 1);

    const resolved = await extension.resolve();
    assert.ok(resolved, errors().join('\n'));
    assert.equal(resolved.command, baasCommand());
    assert.deepEqual(resolved.args, listed.args);
    assert.deepEqual(resolved.env, { APPWRITE_API_KEY: API_KEY, BAAS_MCP_KEY: null });
    assert.ok(!JSON.stringify(resolved.args).includes(API_KEY));
    assert.ok(!JSON.stringify(await extension.provide()).includes(API_KEY), 'the listed definition carries no secret');
    assert.ok(!extension.log.text.includes(API_KEY), 'the log carries no secret');
    assert.match(extension.log.text, /APPWRITE_API_KEY=\(hidden\)/);
    // settings.json never sees it either.
    assert.ok(!JSON.stringify([...state.settings.entries()]).includes(API_KEY));
  });

  it('does not start the Appwrite backend without an API key, and says which command sets it', async () => {
    const extension = activate({ folder: workspace(), settings: { ...APPWRITE, 'baasMcp.command': baasCommand() } });
    assert.equal(await extension.resolve(), undefined);
    assert.equal(errors().length, 1);
    assert.match(errors()[0], /no Appwrite API key for project "shop-prod" at https:\/\/cloud\.appwrite\.io\/v1/);
    assert.match(errors()[0], /"baas-mcp: Set Appwrite API Key"/);
    assert.deepEqual(state.messages[0].items, ['Set Appwrite API Key']);
  });

  it('does not start the Appwrite backend without an endpoint or project, and names the setting', async () => {
    const extension = activate({ folder: workspace(), settings: { 'baasMcp.backend': 'appwrite', 'baasMcp.command': baasCommand() } });
    state.messageAnswers.push('Open Settings');
    assert.equal(await extension.resolve(), undefined);
    assert.match(errors()[0], /Set "baasMcp\.appwrite\.endpoint"/);
    await settle();
    assert.deepEqual(state.executed.at(-1), { command: 'workbench.action.openSettings', args: ['baasMcp.appwrite.endpoint'] });

    vscode.setSetting('baasMcp.appwrite.endpoint', 'https://appwrite.example.com/v1');
    assert.equal(await extension.resolve(), undefined);
    assert.match(errors()[1], /Set "baasMcp\.appwrite\.projectId"/);
  });
});

describe('when baas-mcp is not installed', () => {
  it('resolve returns undefined and shows how to install it', async () => {
    const extension = activate({ folder: workspace(), settings: { 'baasMcp.command': '/nonexistent/baas-mcp' } });
    state.messageAnswers.push('Copy Install Command');
    assert.equal(await extension.resolve(), undefined);
    assert.equal(errors().length, 1);
    assert.match(errors()[0], /baas-mcp is not installed or cannot be run as "\/nonexistent\/baas-mcp"/);
    assert.match(errors()[0], /pip install baas-mcp/);
    assert.match(errors()[0], /pipx install baas-mcp/);
    assert.match(errors()[0], /"baasMcp\.command" setting/);
    assert.deepEqual(state.messages[0].items, ['Open Settings', 'Copy Install Command']);
    await settle();
    assert.equal(state.clipboard, 'pip install baas-mcp');
    assert.match(extension.log.text, /not installed/);
  });

  it('also for the default command when it is not on PATH', async () => {
    const extension = activate({ folder: workspace() });
    const savedPath = process.env.PATH;
    process.env.PATH = tempDir('empty-path');
    try {
      assert.equal(await extension.resolve(), undefined);
    } finally {
      process.env.PATH = savedPath;
    }
    assert.match(errors()[0], /cannot be run as "baas-mcp" \(command not found\).*pip install baas-mcp/);
  });

  it('resolve starts the installed command: version checked, settings applied, launch logged', async () => {
    const folder = workspace();
    const extension = activate({ folder, settings: { 'baasMcp.command': baasCommand() } });
    const [listed] = await extension.provide();
    const resolved = await extension.resolve(listed);
    assert.equal(resolved, listed, 'the definition the editor gave is filled in and returned');
    assert.equal(resolved!.command, baasCommand());
    assert.deepEqual(resolved!.args, ['serve', '--data-dir', path.join(folder, '.baas')]);
    assert.deepEqual(errors(), []);
    assert.match(extension.log.text, /Found baas-mcp \d+\.\d+/);
    assert.match(extension.log.text, /Starting baas-mcp \d+\.\d+\.\d+ \(embedded backend\): .*baas-mcp serve --data-dir /);
  });

  it('the commands show the same install message', async () => {
    const folder = workspace();
    const extension = activate({ folder, settings: { 'baasMcp.command': '/nonexistent/baas-mcp' } });
    state.quickPickAnswers.push(acceptPreselected);
    state.inputBoxAnswers.push('my key');
    await extension.run('baasMcp.createScopedKey');
    assert.equal(errors().length, 1);
    assert.match(errors()[0], /pip install baas-mcp/);
    assert.equal(extension.context.secrets.values.size, 0);
  });
});

describe('create a scoped key', () => {
  it('runs the real `baas-mcp keys create`, keeps the secret in secret storage, and the server uses it', async () => {
    const folder = workspace();
    const dataDir = path.join(folder, '.baas');
    const extension = activate({ folder, settings: { 'baasMcp.command': baasCommand() } });
    const before = (await extension.provide())[0].version;

    state.quickPickAnswers.push(acceptPreselected);
    state.inputBoxAnswers.push('notes app');
    await extension.run('baasMcp.createScopedKey');
    assert.deepEqual(errors(), []);

    const pick = state.quickPicks[0];
    assert.equal(pick.options.canPickMany, true);
    assert.deepEqual(
      pick.items.filter((item) => item.picked).map((item) => item.label).sort(),
      [...DEFAULT_SCOPES].sort(),
    );
    assert.equal(state.inputBoxes[0].options.value, `vscode-${path.basename(folder)}`);

    const keys = listKeys(dataDir);
    assert.equal(keys.length, 1);
    assert.equal(keys[0].name, 'notes app');
    assert.deepEqual(keys[0].scopes, [...DEFAULT_SCOPES].sort());

    const secrets = [...extension.context.secrets.values.values()];
    assert.equal(secrets.length, 1);
    const secret = secrets[0];
    assert.match(secret, new RegExp(`^standard_${keys[0].$id}_[0-9a-f]{64}$`));
    assert.ok(extension.changes() >= 1, 'onDidChangeMcpServerDefinitions fired');
    assert.match(infos()[0], /created the key "notes app" with 10 scope\(s\)/);

    const [listed] = await extension.provide();
    assert.notEqual(listed.version, before, 'the listed definition changed');
    assert.equal(listed.env.BAAS_MCP_KEY, null, 'the listed definition carries no secret');
    const resolved = await extension.resolve(listed);
    assert.equal(resolved!.env.BAAS_MCP_KEY, secret);
    assert.ok(!JSON.stringify(resolved!.args).includes(secret));
    assert.ok(!extension.log.text.includes(secret), 'the log carries no secret');
    assert.match(extension.log.text, /keys create --name 'notes app' --scopes databases\.read,.*--json/);
  });

  it('uses the picked scopes and, for the Appwrite backend, the Appwrite project', async () => {
    const folder = workspace();
    const extension = activate({ folder, settings: { ...APPWRITE, 'baasMcp.command': baasCommand() } });
    state.quickPickAnswers.push((items) => items.filter((item) => item.label === 'rows.read' || item.label === 'users.read'));
    state.inputBoxAnswers.push('reader');
    await extension.run('baasMcp.createScopedKey');
    assert.deepEqual(errors(), []);
    const keys = listKeys(path.join(folder, '.baas'), 'shop-prod');
    assert.deepEqual(keys.map((key) => key.scopes), [['rows.read', 'users.read']]);

    await extension.context.secrets.store('appwriteApiKey|https://cloud.appwrite.io/v1|shop-prod', API_KEY);
    const resolved = await extension.resolve();
    assert.match(String(resolved!.env.BAAS_MCP_KEY), new RegExp(`^standard_${keys[0].$id}_`));
    assert.equal(resolved!.env.APPWRITE_API_KEY, API_KEY);
  });

  it('a cancelled quick pick changes nothing', async () => {
    const folder = workspace();
    const extension = activate({ folder, settings: { 'baasMcp.command': baasCommand() } });
    state.quickPickAnswers.push(() => undefined);
    await extension.run('baasMcp.createScopedKey');
    assert.equal(state.inputBoxes.length, 0, 'no name is asked for');
    assert.equal(extension.context.secrets.values.size, 0);
    assert.equal(extension.changes(), 0);
    assert.ok(!fs.existsSync(path.join(folder, '.baas')), 'baas-mcp did not run');
    assert.deepEqual(state.messages, []);
  });

  it('a cancelled name box changes nothing', async () => {
    const folder = workspace();
    const extension = activate({ folder, settings: { 'baasMcp.command': baasCommand() } });
    state.quickPickAnswers.push(acceptPreselected);
    state.inputBoxAnswers.push(undefined);
    await extension.run('baasMcp.createScopedKey');
    assert.equal(state.inputBoxes.length, 1);
    assert.equal(extension.context.secrets.values.size, 0);
    assert.equal(extension.changes(), 0);
    assert.ok(!fs.existsSync(path.join(folder, '.baas')), 'baas-mcp did not run');
    assert.deepEqual(state.messages, []);
  });

  it('no scope picked, or a blank name, creates nothing', async () => {
    const folder = workspace();
    const extension = activate({ folder, settings: { 'baasMcp.command': baasCommand() } });
    state.quickPickAnswers.push(() => []);
    await extension.run('baasMcp.createScopedKey');
    assert.match(state.messages[0].message, /no scope was chosen/);
    state.quickPickAnswers.push(acceptPreselected);
    state.inputBoxAnswers.push('   ');
    await extension.run('baasMcp.createScopedKey');
    assert.equal(state.inputBoxes[0].validation, 'Enter a name.');
    assert.equal(extension.context.secrets.values.size, 0);
    assert.ok(!fs.existsSync(path.join(folder, '.baas')));
  });

  it('remove revokes the key and the server runs without it again', async () => {
    const folder = workspace();
    const dataDir = path.join(folder, '.baas');
    const extension = activate({ folder, settings: { 'baasMcp.command': baasCommand() } });
    state.quickPickAnswers.push(acceptPreselected);
    state.inputBoxAnswers.push('temporary');
    await extension.run('baasMcp.createScopedKey');
    assert.equal(listKeys(dataDir).length, 1);

    await extension.run('baasMcp.removeScopedKey');
    assert.deepEqual(listKeys(dataDir), []);
    assert.equal(extension.context.secrets.values.size, 0);
    assert.match(infos().at(-1)!, /no longer uses a scoped key \(key \w+ was revoked\)/);
    const resolved = await extension.resolve();
    assert.equal(resolved!.env.BAAS_MCP_KEY, null);

    await extension.run('baasMcp.removeScopedKey');
    assert.match(infos().at(-1)!, /no scoped key is in use/);
  });
});

describe('the Appwrite API key commands', () => {
  it('ask for the endpoint and project first', async () => {
    const extension = activate({ folder: workspace(), settings: { 'baasMcp.backend': 'appwrite' } });
    await extension.run('baasMcp.setAppwriteApiKey');
    assert.equal(state.inputBoxes.length, 0);
    assert.match(errors()[0], /baasMcp\.appwrite\.endpoint/);
  });

  it('a cancelled password box stores nothing; clear removes the key', async () => {
    const extension = activate({ folder: workspace(), settings: APPWRITE });
    state.inputBoxAnswers.push(undefined);
    await extension.run('baasMcp.setAppwriteApiKey');
    assert.equal(extension.context.secrets.values.size, 0);
    assert.equal(extension.changes(), 0);

    state.inputBoxAnswers.push(`  ${API_KEY} `);
    await extension.run('baasMcp.setAppwriteApiKey');
    assert.deepEqual([...extension.context.secrets.values.values()], [API_KEY]);
    assert.match(infos().at(-1)!, /saved the Appwrite API key for project "shop-prod"/);

    await extension.run('baasMcp.clearAppwriteApiKey');
    assert.equal(extension.context.secrets.values.size, 0);
    assert.match(infos().at(-1)!, /removed the Appwrite API key/);
    await extension.run('baasMcp.clearAppwriteApiKey');
    assert.match(infos().at(-1)!, /no Appwrite API key is stored/);
  });

  it('a key stored for one project is not sent to another endpoint', async () => {
    const extension = activate({ folder: workspace(), settings: { ...APPWRITE, 'baasMcp.command': baasCommand() } });
    state.inputBoxAnswers.push(API_KEY);
    await extension.run('baasMcp.setAppwriteApiKey');
    vscode.setSetting('baasMcp.appwrite.endpoint', 'https://elsewhere.example.com/v1');
    assert.equal(await extension.resolve(), undefined);
    assert.match(errors()[0], /no Appwrite API key for project "shop-prod" at https:\/\/elsewhere\.example\.com\/v1/);
  });
});

describe('the data folder and the log', () => {
  it('open data folder creates it and reveals it in the OS', async () => {
    const folder = workspace();
    const extension = activate({ folder });
    await extension.run('baasMcp.openDataFolder');
    const reveal = state.executed.find((item) => item.command === 'revealFileInOS');
    assert.ok(reveal);
    assert.equal((reveal.args[0] as vscode.Uri).fsPath, path.join(folder, '.baas'));
    assert.ok(fs.statSync(path.join(folder, '.baas')).isDirectory());
    assert.match(extension.log.text, /Opening the data folder/);
  });

  it('show log opens the output channel', async () => {
    const extension = activate({ folder: workspace() });
    await extension.run('baasMcp.showLog');
    assert.equal(extension.log.shown, 1);
  });
});
