/**
 * The editor side: registers the MCP server definition provider and the commands, and connects
 * them to settings, secret storage and the log. The decisions live in serverDefinition.ts,
 * scopes.ts and baasCli.ts.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  checkVersion,
  CliError,
  createKey,
  execFileRunner,
  INSTALL_COMMANDS,
  keysCreateArgs,
  NotInstalledError,
  revokeKey,
  type KeyRequest,
} from './baasCli';
import { DEFAULT_SCOPES, scopeItems } from './scopes';
import {
  appwriteApiKeySecretName,
  COMMAND,
  commandFor,
  dataDirFor,
  describeServer,
  findSettingsProblem,
  formatCommandLine,
  formatEnv,
  keyIdOf,
  launchServer,
  normalizeEndpoint,
  projectFor,
  readSettings,
  scopedKeySecretName,
  SECTION,
  SERVER_LABEL,
  SETTING,
  type BaasSettings,
  type Place,
  type Problem,
  type Secrets,
  type ServerSpec,
} from './serverDefinition';

/** The id of the MCP server definition provider; package.json contributes the same id. */
export const PROVIDER_ID = 'baasMcp.servers';

const OPEN_SETTINGS = 'Open Settings';
const COPY_INSTALL = 'Copy Install Command';

export function activate(context: vscode.ExtensionContext): void {
  const log = vscode.window.createOutputChannel('baas-mcp', { log: true });
  const changed = new vscode.EventEmitter<void>();
  const installed = new Map<string, string>();
  let revision = 0;
  context.subscriptions.push(log, changed);

  const folder = () => vscode.workspace.workspaceFolders?.[0];
  const settings = (): BaasSettings => {
    const config = vscode.workspace.getConfiguration(SECTION, folder()?.uri);
    return readSettings((name) => config.get(name));
  };
  const place = (): Place => {
    const uri = folder()?.uri;
    return {
      workspaceFolder: uri && uri.scheme === 'file' ? uri.fsPath : undefined,
      globalStorage: context.globalStorageUri.fsPath,
      home: os.homedir(),
    };
  };
  const secretsFor = async (current: BaasSettings, spec: ServerSpec): Promise<Secrets> => {
    const apiKeyName = appwriteApiKeySecretName(current);
    return {
      appwriteApiKey: current.backend === 'appwrite' && apiKeyName ? await context.secrets.get(apiKeyName) : undefined,
      scopedKey: await context.secrets.get(scopedKeySecretName(spec.dataDir, spec.project)),
    };
  };
  const secretsChanged = () => {
    revision += 1;
    changed.fire();
  };

  const showProblem = (problem: Problem) => {
    log.error(problem.message);
    const action = 'setting' in problem.fix ? OPEN_SETTINGS : 'Set Appwrite API Key';
    void vscode.window.showErrorMessage(problem.message, action).then((choice) => {
      if (choice && 'setting' in problem.fix) {
        void vscode.commands.executeCommand('workbench.action.openSettings', problem.fix.setting);
      } else if (choice && 'command' in problem.fix) {
        void vscode.commands.executeCommand(problem.fix.command);
      }
    });
  };
  const showNotInstalled = (error: NotInstalledError) => {
    log.error(error.message);
    void vscode.window.showErrorMessage(error.message, OPEN_SETTINGS, COPY_INSTALL).then((choice) => {
      if (choice === OPEN_SETTINGS) {
        void vscode.commands.executeCommand('workbench.action.openSettings', `${SECTION}.${SETTING.command}`);
      } else if (choice === COPY_INSTALL) {
        void vscode.env.clipboard.writeText(INSTALL_COMMANDS[0]);
      }
    });
  };
  /** Shows what went wrong with a command, in a message and in the log. */
  const showFailure = (error: unknown) => {
    if (error instanceof NotInstalledError) {
      showNotInstalled(error);
      return;
    }
    const message = error instanceof CliError ? error.message : `baas-mcp: ${error instanceof Error ? error.message : String(error)}`;
    log.error(message);
    if (error instanceof CliError && error.stderr.trim()) {
      log.error(error.stderr.trim());
    }
    void vscode.window.showErrorMessage(message);
  };

  const ensureInstalled = async (command: string): Promise<string> => {
    const known = installed.get(command);
    if (known) {
      return known;
    }
    log.info(`Checking ${formatCommandLine(command, ['--version'])}`);
    const version = await checkVersion(command, execFileRunner);
    log.info(`Found ${version}`);
    installed.set(command, version);
    return version;
  };

  const provider: vscode.McpServerDefinitionProvider<vscode.McpStdioServerDefinition> = {
    onDidChangeMcpServerDefinitions: changed.event,
    provideMcpServerDefinitions: () => {
      const spec = describeServer(settings(), place(), revision);
      const definition = new vscode.McpStdioServerDefinition(spec.label, spec.command, spec.args, spec.env, spec.version);
      definition.cwd = vscode.Uri.file(spec.cwd);
      return [definition];
    },
    resolveMcpServerDefinition: async (server) => {
      if (server.label !== SERVER_LABEL) {
        return server;
      }
      const current = settings();
      const where = place();
      const secrets = await secretsFor(current, describeServer(current, where, revision));
      const launch = launchServer(current, where, secrets, revision);
      if ('problem' in launch) {
        showProblem(launch.problem);
        return undefined;
      }
      const spec = launch.spec;
      let version: string;
      try {
        version = await ensureInstalled(spec.command);
      } catch (error) {
        if (error instanceof NotInstalledError) {
          showNotInstalled(error);
          return undefined;
        }
        throw error;
      }
      await fs.mkdir(spec.cwd, { recursive: true });
      log.info(`Starting ${version} (${current.backend} backend): ${formatCommandLine(spec.command, spec.args)}`);
      log.info(`  in ${spec.cwd}, environment: ${formatEnv(spec.env)}`);
      server.command = spec.command;
      server.args = spec.args;
      server.env = spec.env;
      server.cwd = vscode.Uri.file(spec.cwd);
      server.version = spec.version;
      return server;
    },
  };
  context.subscriptions.push(vscode.lm.registerMcpServerDefinitionProvider(PROVIDER_ID, provider));

  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration(SECTION)) {
        installed.clear();
        changed.fire();
      }
    }),
    vscode.workspace.onDidChangeWorkspaceFolders(() => changed.fire()),
    context.secrets.onDidChange(() => secretsChanged()),
  );

  const register = (id: string, run: () => Promise<void>) =>
    context.subscriptions.push(
      vscode.commands.registerCommand(id, async () => {
        try {
          await run();
        } catch (error) {
          showFailure(error);
        }
      }),
    );

  register(COMMAND.createScopedKey, async () => {
    const current = settings();
    const where = place();
    if (current.backend === 'appwrite') {
      const problem = findSettingsProblem(current);
      if (problem) {
        showProblem(problem);
        return;
      }
    }
    const picked = await vscode.window.showQuickPick(scopeItems(DEFAULT_SCOPES), {
      canPickMany: true,
      ignoreFocusOut: true,
      matchOnDescription: true,
      title: 'baas-mcp: new API key',
      placeHolder: 'Scopes the assistant may use (databases, tables, columns, indexes and rows are preselected)',
    });
    if (!picked) {
      return;
    }
    if (picked.length === 0) {
      void vscode.window.showWarningMessage('baas-mcp: no scope was chosen, so no key was created.');
      return;
    }
    const folderName = folder()?.name;
    const name = await vscode.window.showInputBox({
      ignoreFocusOut: true,
      title: 'baas-mcp: new API key',
      prompt: 'Name of the key (what it is for)',
      value: folderName ? `vscode-${folderName}` : 'vscode',
      validateInput: (value) =>
        value.trim() === '' ? 'Enter a name.' : value.length > 128 ? 'Use at most 128 characters.' : undefined,
    });
    if (name === undefined || name.trim() === '') {
      return;
    }
    const dataDir = dataDirFor(current, where);
    const project = projectFor(current);
    const request: KeyRequest = {
      name: name.trim(),
      scopes: picked.map((item) => item.label),
      dataDir,
      project: current.backend === 'appwrite' ? project : undefined,
    };
    const command = commandFor(current, where);
    log.info(`Running ${formatCommandLine(command, keysCreateArgs(request))}`);
    const key = await createKey(command, request, execFileRunner);
    const secretName = scopedKeySecretName(dataDir, project);
    const previous = await context.secrets.get(secretName);
    await context.secrets.store(secretName, key.secret);
    log.info(`Created key ${key.id} (${key.name}) with scopes ${key.scopes.join(', ')}; its secret is in the secret storage`);
    const previousId = previous ? keyIdOf(previous) : undefined;
    if (previousId && previousId !== key.id) {
      log.info(`Key ${previousId} is no longer used by the editor; revoke it with: baas-mcp keys revoke ${previousId} --data-dir ${dataDir}`);
    }
    secretsChanged();
    void vscode.window.showInformationMessage(
      `baas-mcp: created the key "${key.name}" with ${key.scopes.length} scope(s): ${key.scopes.join(', ')}. ` +
        'The baas-mcp server now starts with it; restart the server if it is running.',
    );
  });

  register(COMMAND.removeScopedKey, async () => {
    const current = settings();
    const where = place();
    const dataDir = dataDirFor(current, where);
    const project = projectFor(current);
    const secretName = scopedKeySecretName(dataDir, project);
    const secret = await context.secrets.get(secretName);
    if (!secret) {
      void vscode.window.showInformationMessage(`baas-mcp: no scoped key is in use for ${dataDir}.`);
      return;
    }
    await context.secrets.delete(secretName);
    secretsChanged();
    const id = keyIdOf(secret);
    let revoked = false;
    if (id) {
      const command = commandFor(current, where);
      const request = { id, dataDir, project: current.backend === 'appwrite' ? project : undefined };
      log.info(`Running ${formatCommandLine(command, ['keys', 'revoke', id, '--data-dir', dataDir])}`);
      try {
        await revokeKey(command, request, execFileRunner);
        revoked = true;
        log.info(`Revoked key ${id}`);
      } catch (error) {
        log.warn(`Could not revoke key ${id}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    void vscode.window.showInformationMessage(
      `baas-mcp: the server no longer uses a scoped key${id ? ` (key ${id} ${revoked ? 'was revoked' : 'could not be revoked; see the log'})` : ''}. ` +
        'Restart the server if it is running.',
    );
  });

  register(COMMAND.setAppwriteApiKey, async () => {
    const current = settings();
    const secretName = appwriteApiKeySecretName(current);
    if (!secretName) {
      const problem = findSettingsProblem(current);
      if (problem) {
        showProblem(problem);
      }
      return;
    }
    const endpoint = normalizeEndpoint(current.appwriteEndpoint);
    const value = await vscode.window.showInputBox({
      password: true,
      ignoreFocusOut: true,
      title: 'baas-mcp: Appwrite API key',
      prompt: `API key of the Appwrite project "${current.appwriteProjectId}" at ${endpoint} (kept in the secret storage)`,
      validateInput: (text) => (text.trim() === '' ? 'Enter the API key.' : undefined),
    });
    if (value === undefined || value.trim() === '') {
      return;
    }
    await context.secrets.store(secretName, value.trim());
    secretsChanged();
    log.info(`Stored the Appwrite API key for project ${current.appwriteProjectId} at ${endpoint}`);
    const hint = current.backend === 'appwrite' ? '' : ` Set "${SECTION}.${SETTING.backend}" to "appwrite" to use it.`;
    void vscode.window.showInformationMessage(
      `baas-mcp: saved the Appwrite API key for project "${current.appwriteProjectId}" at ${endpoint}.${hint}`,
    );
  });

  register(COMMAND.clearAppwriteApiKey, async () => {
    const current = settings();
    const secretName = appwriteApiKeySecretName(current);
    const stored = secretName ? await context.secrets.get(secretName) : undefined;
    if (!secretName || !stored) {
      void vscode.window.showInformationMessage('baas-mcp: no Appwrite API key is stored for the configured endpoint and project.');
      return;
    }
    await context.secrets.delete(secretName);
    secretsChanged();
    log.info(`Removed the Appwrite API key for project ${current.appwriteProjectId} at ${normalizeEndpoint(current.appwriteEndpoint)}`);
    void vscode.window.showInformationMessage(
      `baas-mcp: removed the Appwrite API key for project "${current.appwriteProjectId}".`,
    );
  });

  register(COMMAND.openDataFolder, async () => {
    const dataDir = dataDirFor(settings(), place());
    await fs.mkdir(dataDir, { recursive: true });
    log.info(`Opening the data folder ${dataDir}`);
    try {
      await vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(dataDir));
    } catch {
      void vscode.window.showInformationMessage(`baas-mcp: the data folder is ${dataDir}`);
    }
  });

  register(COMMAND.showLog, async () => {
    log.show(true);
  });

  log.info(`baas-mcp extension active; data folder ${path.normalize(dataDirFor(settings(), place()))}`);
}

export function deactivate(): void {
  // Everything is disposed through the extension context.
}
