/**
 * The resolved definitions really start a working baas-mcp server: the same command, arguments,
 * working folder and environment the editor would use, spoken to over MCP on stdio.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { activate, baasCommand, tempDir } from './support/harness';
import { McpClient } from './support/mcpClient';
import * as vscode from './support/vscode-stub';

async function start(server: vscode.McpStdioServerDefinition): Promise<McpClient> {
  const client = new McpClient({ command: server.command, args: server.args, cwd: server.cwd?.fsPath, env: server.env });
  const answer = await client.initialize();
  assert.ok(answer.result, JSON.stringify(answer));
  return client;
}

async function toolNames(client: McpClient): Promise<string[]> {
  const answer = await client.request('tools/list');
  return answer.result.tools.map((tool: { name: string }) => tool.name).sort();
}

describe('the started server', () => {
  it('serves the two tools from the workspace data folder', async () => {
    const folder = fs.realpathSync(tempDir('ws'));
    const extension = activate({ folder, settings: { 'baasMcp.command': baasCommand() } });
    const server = await extension.resolve();
    assert.ok(server);
    const client = await start(server);
    try {
      assert.deepEqual(await toolNames(client), ['execute_operation', 'search_operations']);
      const created = await client.request('tools/call', {
        name: 'execute_operation',
        arguments: { operation: 'tablesDB.create', params: { databaseId: 'shop', name: 'Shop' } },
      });
      assert.notEqual(created.result.isError, true, JSON.stringify(created));
    } finally {
      assert.equal(await client.close(), 0);
    }
    assert.ok(fs.readdirSync(path.join(folder, '.baas')).length > 0, 'the data is in <workspace>/.baas');
  });

  it('runs with the scoped key it created: operations outside its scopes are refused', async () => {
    const folder = fs.realpathSync(tempDir('ws'));
    const extension = activate({ folder, settings: { 'baasMcp.command': baasCommand() } });
    vscode.state.quickPickAnswers.push((items) => items.filter((item: { picked: boolean }) => item.picked));
    vscode.state.inputBoxAnswers.push('assistant');
    await extension.run('baasMcp.createScopedKey');
    const server = await extension.resolve();
    assert.ok(server?.env.BAAS_MCP_KEY);
    const client = await start(server);
    try {
      const refused = await client.request('tools/call', { name: 'execute_operation', arguments: { operation: 'users.list' } });
      assert.equal(refused.result.isError, true);
      assert.equal(refused.result.structuredContent.error.type, 'general_unauthorized_scope');
      const allowed = await client.request('tools/call', { name: 'execute_operation', arguments: { operation: 'tablesDB.list' } });
      assert.notEqual(allowed.result.isError, true, JSON.stringify(allowed));
    } finally {
      assert.equal(await client.close(), 0);
    }
  });

  it('in read-only mode refuses writes', async () => {
    const folder = fs.realpathSync(tempDir('ws'));
    const extension = activate({ folder, settings: { 'baasMcp.command': baasCommand(), 'baasMcp.readOnly': true } });
    const client = await start((await extension.resolve())!);
    try {
      const refused = await client.request('tools/call', {
        name: 'execute_operation',
        arguments: { operation: 'tablesDB.create', params: { databaseId: 'shop', name: 'Shop' } },
      });
      assert.equal(refused.result.isError, true);
      assert.equal(refused.result.structuredContent.error.type, 'general_access_forbidden');
    } finally {
      assert.equal(await client.close(), 0);
    }
  });

  it('starts on the Appwrite backend with the API key from secret storage', async () => {
    const folder = fs.realpathSync(tempDir('ws'));
    const extension = activate({
      folder,
      settings: {
        'baasMcp.command': baasCommand(),
        'baasMcp.backend': 'appwrite',
        // Nothing listens there: the server must start without reaching it.
        'baasMcp.appwrite.endpoint': 'http://127.0.0.1:9/v1',
        'baasMcp.appwrite.projectId': 'shop-prod',
      },
    });
    vscode.state.inputBoxAnswers.push('standard_appwrite_key_for_tests');
    await extension.run('baasMcp.setAppwriteApiKey');
    const server = await extension.resolve();
    assert.ok(server);
    // Without the key in its environment baas-mcp would stop at once ("--endpoint needs --api-key").
    const client = await start(server);
    try {
      assert.deepEqual(await toolNames(client), ['execute_operation', 'search_operations']);
    } finally {
      assert.equal(await client.close(), 0);
    }
  });
});
