/**
 * A minimal MCP client over stdio: starts a server definition the way the editor does (command,
 * args, cwd, env with null removing a variable) and exchanges JSON-RPC messages, one per line.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export interface Launch {
  command: string;
  args: string[];
  cwd?: string;
  env: Record<string, string | number | null>;
}

export class McpClient {
  private readonly child: ChildProcess;
  private buffer = '';
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (value: any) => void; reject: (error: Error) => void }>();
  stderr = '';
  readonly exited: Promise<number | null>;

  constructor(launch: Launch) {
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const [name, value] of Object.entries(launch.env)) {
      if (value === null) {
        delete env[name];
      } else {
        env[name] = String(value);
      }
    }
    this.child = spawn(launch.command, launch.args, { cwd: launch.cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout!.setEncoding('utf8');
    this.child.stderr!.setEncoding('utf8');
    this.child.stdout!.on('data', (chunk: string) => this.receive(chunk));
    this.child.stderr!.on('data', (chunk: string) => {
      this.stderr += chunk;
    });
    this.exited = new Promise((resolve) => {
      this.child.on('error', () => resolve(null));
      this.child.on('exit', (code) => {
        for (const waiter of this.pending.values()) {
          waiter.reject(new Error(`server exited with code ${code}: ${this.stderr.trim()}`));
        }
        this.pending.clear();
        resolve(code);
      });
    });
  }

  private receive(chunk: string): void {
    this.buffer += chunk;
    let newline: number;
    while ((newline = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, newline).trim();
      this.buffer = this.buffer.slice(newline + 1);
      if (!line) {
        continue;
      }
      const message = JSON.parse(line);
      const waiter = typeof message.id === 'number' ? this.pending.get(message.id) : undefined;
      if (waiter) {
        this.pending.delete(message.id);
        waiter.resolve(message);
      }
    }
  }

  request(method: string, params: unknown = {}, timeoutMs = 60_000): Promise<any> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`no answer to ${method} within ${timeoutMs} ms; stderr: ${this.stderr.trim()}`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      this.child.stdin!.write(`${JSON.stringify({ jsonrpc: '2.0', id, method, params })}\n`);
    });
  }

  notify(method: string, params: unknown = {}): void {
    this.child.stdin!.write(`${JSON.stringify({ jsonrpc: '2.0', method, params })}\n`);
  }

  /** initialize + notifications/initialized. */
  async initialize(): Promise<any> {
    const answer = await this.request('initialize', {
      protocolVersion: '2025-06-18',
      capabilities: {},
      clientInfo: { name: 'baas-mcp-vscode-tests', version: '0' },
    });
    this.notify('notifications/initialized');
    return answer;
  }

  /** Closes stdin (the server then ends) and waits for the exit code. */
  async close(): Promise<number | null> {
    this.child.stdin!.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }
}
