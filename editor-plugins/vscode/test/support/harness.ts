/**
 * Test harness: makes `require('vscode')` load the stub, loads the extension the way the editor
 * does (package.json `main`), activates it, and finds the real baas-mcp command.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import Module = require('node:module');
import * as os from 'node:os';
import * as path from 'node:path';
import * as stub from './vscode-stub';

export const ROOT = path.resolve(__dirname, '../../..');
export const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));

const stubPath = require.resolve('./vscode-stub');
const moduleInternals = Module as unknown as { _resolveFilename: (request: string, ...rest: unknown[]) => string };
const resolveFilename = moduleInternals._resolveFilename;
moduleInternals._resolveFilename = function (request: string, ...rest: unknown[]) {
  return request === 'vscode' ? stubPath : resolveFilename.call(this, request, ...rest);
};

export type ExtensionModule = typeof import('../../src/extension');

/** The built extension, from package.json `main` (what the editor loads). */
export function loadExtension(): ExtensionModule {
  return require(path.resolve(ROOT, manifest.main)) as ExtensionModule;
}

const made: string[] = [];
process.on('exit', () => {
  for (const dir of made) {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/** A fresh temporary folder, removed when the process ends. */
export function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `baas-vscode-${prefix}-`));
  made.push(dir);
  return dir;
}

/**
 * The installed baas-mcp: $BAAS_MCP_COMMAND, else the repository's .venv next to this folder.
 * Tests that need it fail (never skip) when neither is there.
 */
export function baasCommand(): string {
  const fromEnv = process.env.BAAS_MCP_COMMAND;
  if (fromEnv) {
    return fromEnv;
  }
  const venv = path.resolve(ROOT, '../../.venv/bin/baas-mcp');
  if (fs.existsSync(venv)) {
    return venv;
  }
  throw new Error(
    'These tests run the real baas-mcp command: set BAAS_MCP_COMMAND to its path ' +
      `(e.g. /path/to/.venv/bin/baas-mcp), or create ${venv} with "python3 -m venv .venv && .venv/bin/pip install ." ` +
      'in the repository root.',
  );
}

export interface Activated {
  context: ReturnType<typeof stub.makeContext>;
  provider: any;
  providerId: string;
  log: stub.StubLogChannel;
  changes: () => number;
  run: (command: string) => Promise<unknown>;
  provide: () => Promise<stub.McpStdioServerDefinition[]>;
  resolve: (server?: stub.McpStdioServerDefinition) => Promise<stub.McpStdioServerDefinition | undefined>;
}

/** Activates the extension in a fresh stub editor with `folder` open (or none). */
export function activate(options: { folder?: string; settings?: Record<string, unknown> } = {}): Activated {
  stub.reset();
  stub.openFolder(options.folder);
  for (const [name, value] of Object.entries(options.settings ?? {})) {
    stub.state.settings.set(name, value);
  }
  const context = stub.makeContext(path.join(tempDir('storage'), 'globalStorage'));
  loadExtension().activate(context as any);
  assert.equal(stub.state.providers.size, 1, 'activation registers one MCP server definition provider');
  const [providerId, provider] = [...stub.state.providers.entries()][0];
  let changes = 0;
  provider.onDidChangeMcpServerDefinitions(() => {
    changes += 1;
  });
  const log = stub.state.channels[0];
  const provide = async () => (await provider.provideMcpServerDefinitions({ isCancellationRequested: false })) ?? [];
  return {
    context,
    provider,
    providerId,
    log,
    changes: () => changes,
    run: (command) => stub.commands.executeCommand(command),
    provide,
    resolve: async (server) => {
      const definition = server ?? (await provide())[0];
      return provider.resolveMcpServerDefinition(definition, { isCancellationRequested: false });
    },
  };
}

/** Lets promise callbacks that the code under test did not await run. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
