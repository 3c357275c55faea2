/**
 * Running the `baas-mcp` command: `--version` to check it is installed, `keys create` and
 * `keys revoke`. Processes start with execFile (never through a shell); the runner can be replaced.
 */
import { execFile } from 'node:child_process';

export interface RunOptions {
  env?: Record<string, string | null>;
  cwd?: string;
  timeoutMs?: number;
}

export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a program with arguments and resolves with its exit code and output; rejects with the
 * spawn error (its `code` is e.g. ENOENT) when the program cannot be started at all.
 */
export type Runner = (file: string, args: readonly string[], options?: RunOptions) => Promise<RunResult>;

export const INSTALL_COMMANDS = ['pip install baas-mcp', 'pipx install baas-mcp'] as const;

function childEnv(extra: Record<string, string | null> | undefined): NodeJS.ProcessEnv | undefined {
  if (!extra) {
    return undefined;
  }
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const [name, value] of Object.entries(extra)) {
    if (value === null) {
      delete env[name];
    } else {
      env[name] = value;
    }
  }
  return env;
}

/** The real runner: child_process.execFile, no shell. */
export const execFileRunner: Runner = (file, args, options = {}) =>
  new Promise((resolve, reject) => {
    execFile(
      file,
      [...args],
      {
        cwd: options.cwd,
        env: childEnv(options.env),
        timeout: options.timeoutMs ?? 60_000,
        maxBuffer: 4 * 1024 * 1024,
        windowsHide: true,
        encoding: 'utf8',
      },
      (error, stdout, stderr) => {
        if (error) {
          const code = (error as NodeJS.ErrnoException).code;
          if (typeof code === 'string' && !error.killed) {
            // The program could not be started (ENOENT, EACCES, ...).
            reject(error);
            return;
          }
          if (error.killed || error.signal) {
            reject(Object.assign(new Error(`${file} was stopped (${error.signal ?? 'timeout'})`), { code: 'ETIMEDOUT' }));
            return;
          }
          resolve({ exitCode: typeof code === 'number' ? code : 1, stdout: String(stdout), stderr: String(stderr) });
          return;
        }
        resolve({ exitCode: 0, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });

/** baas-mcp could not be run: not installed, not on PATH, or not the right program. */
export class NotInstalledError extends Error {
  constructor(
    readonly command: string,
    readonly detail: string,
  ) {
    super(notInstalledMessage(command, detail));
    this.name = 'NotInstalledError';
  }
}

/** baas-mcp ran and refused (exit code 2 with its one-line reason). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
    readonly stderr: string,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** The message shown when the command cannot be run: how to install it, or where to point the setting. */
export function notInstalledMessage(command: string, detail: string): string {
  return (
    `baas-mcp is not installed or cannot be run as "${command}" (${detail}). ` +
    `Install it with "${INSTALL_COMMANDS[0]}" or "${INSTALL_COMMANDS[1]}", ` +
    'or set the "baasMcp.command" setting to the absolute path of the baas-mcp command.'
  );
}

function spawnDetail(error: unknown): string {
  const code = (error as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT') {
    return 'command not found';
  }
  if (code === 'EACCES') {
    return 'permission denied';
  }
  return error instanceof Error ? error.message : String(error);
}

async function run(runner: Runner, command: string, args: readonly string[], options?: RunOptions): Promise<RunResult> {
  try {
    return await runner(command, args, options);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException)?.code;
    if (code === 'ENOENT' || code === 'EACCES' || code === 'ENOTDIR' || code === 'EISDIR') {
      throw new NotInstalledError(command, spawnDetail(error));
    }
    throw error;
  }
}

/** `baas-mcp --version`: the version line (e.g. "baas-mcp 0.1.0"), or NotInstalledError. */
export async function checkVersion(command: string, runner: Runner = execFileRunner): Promise<string> {
  const result = await run(runner, command, ['--version'], { timeoutMs: 30_000 });
  const line = `${result.stdout}\n${result.stderr}`.split(/\r?\n/).find((text) => /baas-mcp\s+\S+/.test(text));
  if (result.exitCode !== 0 || !line) {
    const said = (result.stderr || result.stdout).trim().split(/\r?\n/).pop() ?? '';
    throw new NotInstalledError(command, `"--version" exited with code ${result.exitCode}${said ? `: ${said}` : ''}`);
  }
  return line.trim();
}

/** The reason baas-mcp gave for refusing: the `message` of its JSON answer, else its last stderr line. */
function refusal(result: RunResult): string {
  try {
    const answer = JSON.parse(result.stdout) as { message?: unknown };
    if (typeof answer.message === 'string') {
      return answer.message;
    }
  } catch {
    // not JSON: fall back to stderr
  }
  const lines = result.stderr.trim().split(/\r?\n/);
  return (lines.pop() ?? '').replace(/^baas-mcp( keys)?: error: /, '') || `exit code ${result.exitCode}`;
}

export interface KeyRequest {
  name: string;
  scopes: readonly string[];
  dataDir: string;
  /** Left out for the embedded backend's `default` project. */
  project?: string;
}

export interface CreatedKey {
  id: string;
  name: string;
  scopes: string[];
  expire: string | null;
  secret: string;
}

/** The `keys create` arguments (the secret is in the answer, never in the arguments). */
export function keysCreateArgs(request: KeyRequest): string[] {
  const args = ['keys', 'create', '--name', request.name, '--scopes', request.scopes.join(','), '--data-dir', request.dataDir];
  if (request.project) {
    args.push('--project', request.project);
  }
  args.push('--json');
  return args;
}

/** `baas-mcp keys create … --json`: the new key with its secret. */
export async function createKey(command: string, request: KeyRequest, runner: Runner = execFileRunner): Promise<CreatedKey> {
  const result = await run(runner, command, keysCreateArgs(request));
  if (result.exitCode !== 0) {
    throw new CliError(`baas-mcp could not create the key: ${refusal(result)}`, result.exitCode, result.stderr);
  }
  let answer: Record<string, unknown>;
  try {
    answer = JSON.parse(result.stdout) as Record<string, unknown>;
  } catch {
    throw new CliError('baas-mcp keys create did not answer with JSON', result.exitCode, result.stderr);
  }
  const secret = answer.secret;
  const id = answer.$id;
  if (typeof secret !== 'string' || !secret || typeof id !== 'string') {
    throw new CliError('baas-mcp keys create answered without a key id and secret', result.exitCode, result.stderr);
  }
  return {
    id,
    name: typeof answer.name === 'string' ? answer.name : request.name,
    scopes: Array.isArray(answer.scopes) ? answer.scopes.map(String) : [...request.scopes],
    expire: typeof answer.expire === 'string' ? answer.expire : null,
    secret,
  };
}

/** `baas-mcp keys revoke ID`. */
export async function revokeKey(
  command: string,
  request: { id: string; dataDir: string; project?: string },
  runner: Runner = execFileRunner,
): Promise<void> {
  const args = ['keys', 'revoke', request.id, '--data-dir', request.dataDir];
  if (request.project) {
    args.push('--project', request.project);
  }
  args.push('--json');
  const result = await run(runner, command, args);
  if (result.exitCode !== 0) {
    throw new CliError(`baas-mcp could not revoke the key: ${refusal(result)}`, result.exitCode, result.stderr);
  }
}
