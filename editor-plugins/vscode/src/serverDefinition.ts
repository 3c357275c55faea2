/**
 * How the baas-mcp server is started: command, arguments and environment, worked out from the
 * extension's settings, its stored secrets and the open workspace. Nothing here depends on the
 * editor, so it can be checked on its own.
 */
import { createHash } from 'node:crypto';
import * as path from 'node:path';

export const SERVER_LABEL = 'baas-mcp';
export const DEFAULT_COMMAND = 'baas-mcp';
export const DEFAULT_DATA_DIR = '.baas';
export const EMBEDDED_PROJECT = 'default';

export type Backend = 'embedded' | 'appwrite';

/** The extension's settings (the `baasMcp.*` section), with defaults applied. */
export interface BaasSettings {
  backend: Backend;
  command: string;
  dataDir: string;
  readOnly: boolean;
  appwriteEndpoint: string;
  appwriteProjectId: string;
  appwriteSelfSigned: boolean;
}

/** Setting names, relative to the `baasMcp` section. */
export const SETTING = {
  backend: 'backend',
  command: 'command',
  dataDir: 'dataDir',
  readOnly: 'readOnly',
  appwriteEndpoint: 'appwrite.endpoint',
  appwriteProjectId: 'appwrite.projectId',
  appwriteSelfSigned: 'appwrite.selfSigned',
} as const;

export const SECTION = 'baasMcp';

/** Where the server runs: the first workspace folder (if any), the extension's per-user storage, $HOME. */
export interface Place {
  workspaceFolder?: string;
  globalStorage: string;
  home: string;
}

/** The secrets a launch may need; they only ever travel in the environment. */
export interface Secrets {
  appwriteApiKey?: string;
  scopedKey?: string;
}

/** A server launch: what the editor runs. `env` values of null remove inherited variables. */
export interface ServerSpec {
  label: string;
  command: string;
  args: string[];
  env: Record<string, string | null>;
  cwd: string;
  dataDir: string;
  project: string;
  version: string;
}

export type ProblemKind = 'missingEndpoint' | 'invalidEndpoint' | 'missingProject' | 'invalidProject' | 'missingApiKey';

/** Why the server cannot start, and what fixes it: a setting to open or a command to run. */
export interface Problem {
  kind: ProblemKind;
  message: string;
  fix: { setting: string } | { command: string };
}

export const COMMAND = {
  createScopedKey: 'baasMcp.createScopedKey',
  removeScopedKey: 'baasMcp.removeScopedKey',
  setAppwriteApiKey: 'baasMcp.setAppwriteApiKey',
  clearAppwriteApiKey: 'baasMcp.clearAppwriteApiKey',
  openDataFolder: 'baasMcp.openDataFolder',
  showLog: 'baasMcp.showLog',
} as const;

const PROJECT_ID = /^[a-zA-Z0-9._-]{1,36}$/;

function text(value: unknown, fallback: string): string {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : fallback;
}

/** Settings from a getter such as `workspace.getConfiguration('baasMcp').get`. */
export function readSettings(get: (name: string) => unknown): BaasSettings {
  return {
    backend: get(SETTING.backend) === 'appwrite' ? 'appwrite' : 'embedded',
    command: text(get(SETTING.command), DEFAULT_COMMAND),
    dataDir: text(get(SETTING.dataDir), ''),
    readOnly: get(SETTING.readOnly) === true,
    appwriteEndpoint: text(get(SETTING.appwriteEndpoint), ''),
    appwriteProjectId: text(get(SETTING.appwriteProjectId), ''),
    appwriteSelfSigned: get(SETTING.appwriteSelfSigned) === true,
  };
}

function expandHome(value: string, home: string): string {
  if (value === '~') {
    return home;
  }
  if (value.startsWith('~/') || value.startsWith('~\\')) {
    return path.join(home, value.slice(2));
  }
  return value;
}

/** The folder the server runs in: the workspace folder, or the extension's per-user storage. */
export function baseFolder(place: Place): string {
  return place.workspaceFolder ?? place.globalStorage;
}

/**
 * The data directory: the `dataDir` setting (relative paths from the workspace folder), else
 * `<workspace folder>/.baas`, else `<per-user storage>/.baas` when no folder is open.
 */
export function dataDirFor(settings: BaasSettings, place: Place): string {
  const base = baseFolder(place);
  const chosen = settings.dataDir ? expandHome(settings.dataDir, place.home) : DEFAULT_DATA_DIR;
  return path.resolve(base, chosen);
}

/**
 * The command to run: a bare name (`baas-mcp`) is looked up on PATH; a path with a directory part
 * is taken relative to the workspace folder.
 */
export function commandFor(settings: BaasSettings, place: Place): string {
  const command = expandHome(settings.command, place.home);
  if (path.isAbsolute(command) || !/[\\/]/.test(command)) {
    return command;
  }
  return path.resolve(baseFolder(place), command);
}

/** The project whose keys and data the server uses. */
export function projectFor(settings: BaasSettings): string {
  return settings.backend === 'appwrite' ? settings.appwriteProjectId : EMBEDDED_PROJECT;
}

/** An Appwrite endpoint the way baas-mcp reads it (no trailing slash; `/v1` when it has no path). */
export function normalizeEndpoint(endpoint: string): string | undefined {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return undefined;
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || !url.host) {
    return undefined;
  }
  const pathname = url.pathname.replace(/\/+$/, '');
  return `${url.protocol}//${url.host}${pathname === '' ? '/v1' : pathname}`;
}

/** The first reason the Appwrite settings are not usable (endpoint and project), if any. */
export function findSettingsProblem(settings: BaasSettings): Problem | undefined {
  const endpointSetting = `${SECTION}.${SETTING.appwriteEndpoint}`;
  const projectSetting = `${SECTION}.${SETTING.appwriteProjectId}`;
  if (!settings.appwriteEndpoint) {
    return {
      kind: 'missingEndpoint',
      message: `baas-mcp: the Appwrite backend needs an endpoint. Set "${endpointSetting}" (e.g. https://cloud.appwrite.io/v1).`,
      fix: { setting: endpointSetting },
    };
  }
  if (!normalizeEndpoint(settings.appwriteEndpoint)) {
    return {
      kind: 'invalidEndpoint',
      message: `baas-mcp: "${endpointSetting}" must be an http(s) URL such as https://cloud.appwrite.io/v1, not "${settings.appwriteEndpoint}".`,
      fix: { setting: endpointSetting },
    };
  }
  if (!settings.appwriteProjectId) {
    return {
      kind: 'missingProject',
      message: `baas-mcp: the Appwrite backend needs a project id. Set "${projectSetting}".`,
      fix: { setting: projectSetting },
    };
  }
  if (!PROJECT_ID.test(settings.appwriteProjectId)) {
    return {
      kind: 'invalidProject',
      message: `baas-mcp: "${projectSetting}" must be 1 to 36 characters a-z A-Z 0-9 . - _, not "${settings.appwriteProjectId}".`,
      fix: { setting: projectSetting },
    };
  }
  return undefined;
}

/** The first reason the settings and secrets cannot start a server, if any. */
export function findProblem(settings: BaasSettings, secrets: Secrets): Problem | undefined {
  if (settings.backend !== 'appwrite') {
    return undefined;
  }
  const problem = findSettingsProblem(settings);
  if (problem) {
    return problem;
  }
  if (!secrets.appwriteApiKey) {
    return {
      kind: 'missingApiKey',
      message:
        `baas-mcp: no Appwrite API key for project "${settings.appwriteProjectId}" at ${normalizeEndpoint(settings.appwriteEndpoint)}. ` +
        'Run the command "baas-mcp: Set Appwrite API Key" (the key is kept in the editor\'s secret storage).',
      fix: { command: COMMAND.setAppwriteApiKey },
    };
  }
  return undefined;
}

/** The `serve` arguments. They never carry a secret: keys go in the environment. */
export function serveArgs(settings: BaasSettings, dataDir: string): string[] {
  const args = ['serve'];
  if (settings.backend === 'appwrite') {
    if (settings.appwriteEndpoint) {
      args.push('--endpoint', settings.appwriteEndpoint);
    }
    if (settings.appwriteProjectId) {
      args.push('--project', settings.appwriteProjectId);
    }
  }
  args.push('--data-dir', dataDir);
  if (settings.backend === 'appwrite' && settings.appwriteSelfSigned) {
    args.push('--self-signed');
  }
  if (settings.readOnly) {
    args.push('--read-only');
  }
  return args;
}

/**
 * The environment, with `secrets` filled in when given. Variables that would change what the
 * server does behind the settings' back (an inherited APPWRITE_ENDPOINT turns the embedded
 * backend into the Appwrite one; an inherited BAAS_MCP_KEY narrows it) are removed with null.
 */
export function serveEnv(settings: BaasSettings, secrets: Secrets): Record<string, string | null> {
  const env: Record<string, string | null> = {};
  if (settings.backend === 'appwrite') {
    if (secrets.appwriteApiKey) {
      env.APPWRITE_API_KEY = secrets.appwriteApiKey;
    }
  } else {
    env.APPWRITE_ENDPOINT = null;
    env.APPWRITE_API_KEY = null;
  }
  env.BAAS_MCP_KEY = secrets.scopedKey ?? null;
  return env;
}

/**
 * The server as the editor lists it, without secrets (`revision` counts secret changes, so the
 * version moves when a key is set or removed). Used by provideMcpServerDefinitions.
 */
export function describeServer(settings: BaasSettings, place: Place, revision = 0): ServerSpec {
  const dataDir = dataDirFor(settings, place);
  const command = commandFor(settings, place);
  const args = serveArgs(settings, dataDir);
  const env = serveEnv(settings, {});
  const version = createHash('sha256')
    .update(JSON.stringify({ command, args, env, revision }))
    .digest('hex')
    .slice(0, 12);
  return {
    label: SERVER_LABEL,
    command,
    args,
    env,
    cwd: baseFolder(place),
    dataDir,
    project: projectFor(settings),
    version,
  };
}

/** The server ready to start, secrets in its environment; or the problem that stops it. */
export function launchServer(
  settings: BaasSettings,
  place: Place,
  secrets: Secrets,
  revision = 0,
): { spec: ServerSpec } | { problem: Problem } {
  const problem = findProblem(settings, secrets);
  if (problem) {
    return { problem };
  }
  const spec = describeServer(settings, place, revision);
  return { spec: { ...spec, env: serveEnv(settings, secrets) } };
}

/** SecretStorage key of the Appwrite API key for an endpoint and project. */
export function appwriteApiKeySecretName(settings: BaasSettings): string | undefined {
  const endpoint = normalizeEndpoint(settings.appwriteEndpoint);
  if (!endpoint || !settings.appwriteProjectId) {
    return undefined;
  }
  return `appwriteApiKey|${endpoint}|${settings.appwriteProjectId}`;
}

/** SecretStorage key of the scoped baas-mcp key: a key only exists in one data directory and project. */
export function scopedKeySecretName(dataDir: string, project: string): string {
  return `scopedKey|${dataDir}|${project}`;
}

/** The key id inside a baas-mcp secret (`standard_<id>_<hex>`). */
export function keyIdOf(secret: string): string | undefined {
  const match = /^standard_([^_]+)_/.exec(secret);
  return match ? match[1] : undefined;
}

/** A command line for the log: arguments quoted when needed, never any secret. */
export function formatCommandLine(command: string, args: readonly string[]): string {
  const quote = (value: string) => (/^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`);
  return [command, ...args].map(quote).join(' ');
}

/** The environment for the log: secrets shown as (hidden), removed variables as (unset). */
export function formatEnv(env: Record<string, string | null>): string {
  const secretNames = new Set(['APPWRITE_API_KEY', 'BAAS_MCP_KEY']);
  return Object.entries(env)
    .map(([name, value]) => `${name}=${value === null ? '(unset)' : secretNames.has(name) ? '(hidden)' : value}`)
    .join(' ');
}
