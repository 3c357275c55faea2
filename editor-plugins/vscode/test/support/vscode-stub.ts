/**
 * A stand-in for the `vscode` module with just what the extension uses. Tests script the user's
 * answers (quick picks, input boxes) and read back what the extension did (registrations,
 * messages, executed commands, log lines). Setting defaults come from the real package.json.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

type Listener<T> = (value: T) => unknown;

export class Disposable {
  constructor(private readonly onDispose: () => void = () => undefined) {}
  static from(...items: { dispose(): unknown }[]): Disposable {
    return new Disposable(() => items.forEach((item) => item.dispose()));
  }
  dispose(): void {
    this.onDispose();
  }
}

export class EventEmitter<T> {
  private listeners: Listener<T>[] = [];
  fired = 0;
  readonly event = (listener: Listener<T>): Disposable => {
    this.listeners.push(listener);
    return new Disposable(() => {
      this.listeners = this.listeners.filter((item) => item !== listener);
    });
  };
  fire(value: T): void {
    this.fired += 1;
    for (const listener of [...this.listeners]) {
      listener(value);
    }
  }
  dispose(): void {
    this.listeners = [];
  }
}

export class Uri {
  private constructor(
    readonly scheme: string,
    readonly fsPath: string,
  ) {}
  get path(): string {
    return this.fsPath.split(path.sep).join('/');
  }
  static file(fsPath: string): Uri {
    return new Uri('file', path.resolve(fsPath));
  }
  static joinPath(base: Uri, ...parts: string[]): Uri {
    return new Uri(base.scheme, path.join(base.fsPath, ...parts));
  }
  toString(): string {
    return `${this.scheme}://${this.path}`;
  }
}

export class McpStdioServerDefinition {
  cwd?: Uri;
  constructor(
    readonly label: string,
    public command: string,
    public args: string[] = [],
    public env: Record<string, string | number | null> = {},
    public version?: string,
  ) {}
}

export class McpHttpServerDefinition {
  constructor(
    readonly label: string,
    public uri: Uri,
    public headers: Record<string, string> = {},
    public version?: string,
  ) {}
}

export enum ConfigurationTarget {
  Global = 1,
  Workspace = 2,
  WorkspaceFolder = 3,
}

export enum QuickPickItemKind {
  Separator = -1,
  Default = 0,
}

export interface Message {
  level: 'error' | 'warning' | 'info';
  message: string;
  items: string[];
}

export class StubLogChannel {
  readonly lines: string[] = [];
  shown = 0;
  disposed = false;
  constructor(readonly name: string) {}
  private add(level: string, message: string) {
    this.lines.push(`[${level}] ${message}`);
  }
  trace(message: string) {
    this.add('trace', message);
  }
  debug(message: string) {
    this.add('debug', message);
  }
  info(message: string) {
    this.add('info', message);
  }
  warn(message: string) {
    this.add('warning', message);
  }
  error(message: string | Error) {
    this.add('error', String(message));
  }
  append(value: string) {
    this.lines.push(value);
  }
  appendLine(value: string) {
    this.lines.push(value);
  }
  clear() {
    this.lines.length = 0;
  }
  show() {
    this.shown += 1;
  }
  hide() {}
  dispose() {
    this.disposed = true;
  }
  get text(): string {
    return this.lines.join('\n');
  }
}

type QuickPickAnswer = (items: readonly any[], options: any) => any;
type InputBoxAnswer = string | undefined | ((options: any) => string | undefined);

interface Folder {
  uri: Uri;
  name: string;
  index: number;
}

/** Everything the tests script or inspect. */
export const state = {
  settings: new Map<string, unknown>(),
  workspaceFolders: undefined as Folder[] | undefined,
  quickPickAnswers: [] as QuickPickAnswer[],
  inputBoxAnswers: [] as InputBoxAnswer[],
  quickPicks: [] as { items: any[]; options: any }[],
  inputBoxes: [] as { options: any; answer: string | undefined; validation: unknown }[],
  messages: [] as Message[],
  /** Button the user clicks on the next message (by label), if any. */
  messageAnswers: [] as (string | undefined)[],
  executed: [] as { command: string; args: unknown[] }[],
  providers: new Map<string, any>(),
  commands: new Map<string, (...args: unknown[]) => unknown>(),
  channels: [] as StubLogChannel[],
  clipboard: '',
  opened: [] as Uri[],
  configChanged: new EventEmitter<{ affectsConfiguration(section: string): boolean }>(),
  foldersChanged: new EventEmitter<unknown>(),
};

/** Back to a fresh editor: no settings, no folders, nothing registered. */
export function reset(): void {
  state.settings.clear();
  state.workspaceFolders = undefined;
  state.quickPickAnswers = [];
  state.inputBoxAnswers = [];
  state.quickPicks = [];
  state.inputBoxes = [];
  state.messages = [];
  state.messageAnswers = [];
  state.executed = [];
  state.providers.clear();
  state.commands.clear();
  state.channels = [];
  state.clipboard = '';
  state.opened = [];
  state.configChanged = new EventEmitter();
  state.foldersChanged = new EventEmitter();
}

const manifest = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../../package.json'), 'utf8'));
const contributedDefaults = new Map<string, unknown>(
  Object.entries(manifest.contributes?.configuration?.properties ?? {}).map(([name, schema]) => [name, (schema as any).default]),
);

export const lm = {
  registerMcpServerDefinitionProvider(id: string, provider: unknown): Disposable {
    if (state.providers.has(id)) {
      throw new Error(`provider ${id} registered twice`);
    }
    state.providers.set(id, provider);
    return new Disposable(() => state.providers.delete(id));
  },
};

export const commands = {
  registerCommand(id: string, run: (...args: unknown[]) => unknown): Disposable {
    if (state.commands.has(id)) {
      throw new Error(`command ${id} registered twice`);
    }
    state.commands.set(id, run);
    return new Disposable(() => state.commands.delete(id));
  },
  async executeCommand(command: string, ...args: unknown[]): Promise<unknown> {
    state.executed.push({ command, args });
    const run = state.commands.get(command);
    return run ? run(...args) : undefined;
  },
};

function message(level: Message['level']) {
  return (text: string, ...rest: unknown[]): Promise<string | undefined> => {
    const items = rest.filter((item): item is string => typeof item === 'string');
    state.messages.push({ level, message: text, items });
    const answer = state.messageAnswers.shift();
    return Promise.resolve(answer && items.includes(answer) ? answer : undefined);
  };
}

export const window = {
  createOutputChannel(name: string): StubLogChannel {
    const channel = new StubLogChannel(name);
    state.channels.push(channel);
    return channel;
  },
  showErrorMessage: message('error'),
  showWarningMessage: message('warning'),
  showInformationMessage: message('info'),
  async showQuickPick(items: readonly any[] | Promise<readonly any[]>, options: any = {}): Promise<any> {
    const resolved = [...(await items)];
    state.quickPicks.push({ items: resolved, options });
    const answer = state.quickPickAnswers.shift();
    return answer ? answer(resolved, options) : undefined;
  },
  async showInputBox(options: any = {}): Promise<string | undefined> {
    const next = state.inputBoxAnswers.shift();
    const answer = typeof next === 'function' ? next(options) : next;
    const validation = answer !== undefined && options.validateInput ? await options.validateInput(answer) : undefined;
    state.inputBoxes.push({ options, answer, validation });
    // The real input box does not accept a value its validator refuses.
    return validation ? undefined : answer;
  },
};

export const workspace = {
  get workspaceFolders(): Folder[] | undefined {
    return state.workspaceFolders;
  },
  getConfiguration(section?: string) {
    const full = (name: string) => (section ? `${section}.${name}` : name);
    return {
      get<T>(name: string, fallback?: T): T | undefined {
        const key = full(name);
        if (state.settings.has(key)) {
          return state.settings.get(key) as T;
        }
        if (contributedDefaults.has(key)) {
          return contributedDefaults.get(key) as T;
        }
        return fallback;
      },
      has(name: string): boolean {
        return state.settings.has(full(name)) || contributedDefaults.has(full(name));
      },
    };
  },
  onDidChangeConfiguration(listener: Listener<{ affectsConfiguration(section: string): boolean }>): Disposable {
    return state.configChanged.event(listener);
  },
  onDidChangeWorkspaceFolders(listener: Listener<unknown>): Disposable {
    return state.foldersChanged.event(listener);
  },
};

export const env = {
  clipboard: {
    async writeText(value: string): Promise<void> {
      state.clipboard = value;
    },
    async readText(): Promise<string> {
      return state.clipboard;
    },
  },
  async openExternal(uri: Uri): Promise<boolean> {
    state.opened.push(uri);
    return true;
  },
  remoteName: undefined as string | undefined,
};

/** Changes a setting the way the user would, telling listeners. */
export function setSetting(name: string, value: unknown): void {
  if (value === undefined) {
    state.settings.delete(name);
  } else {
    state.settings.set(name, value);
  }
  state.configChanged.fire({ affectsConfiguration: (section: string) => name === section || name.startsWith(`${section}.`) });
}

/** Opens one workspace folder (or none). */
export function openFolder(folder: string | undefined): void {
  state.workspaceFolders = folder ? [{ uri: Uri.file(folder), name: path.basename(folder), index: 0 }] : undefined;
}

/** SecretStorage kept in memory; `onDidChange` fires like the editor's. */
export class MemorySecretStorage {
  readonly values = new Map<string, string>();
  private readonly changed = new EventEmitter<{ key: string }>();
  readonly onDidChange = this.changed.event;
  async get(key: string): Promise<string | undefined> {
    return this.values.get(key);
  }
  async store(key: string, value: string): Promise<void> {
    this.values.set(key, value);
    this.changed.fire({ key });
  }
  async delete(key: string): Promise<void> {
    if (this.values.delete(key)) {
      this.changed.fire({ key });
    }
  }
  async keys(): Promise<string[]> {
    return [...this.values.keys()];
  }
}

class Memento {
  private readonly values = new Map<string, unknown>();
  keys(): readonly string[] {
    return [...this.values.keys()];
  }
  get<T>(key: string, fallback?: T): T | undefined {
    return this.values.has(key) ? (this.values.get(key) as T) : fallback;
  }
  async update(key: string, value: unknown): Promise<void> {
    this.values.set(key, value);
  }
  setKeysForSync(): void {}
}

/** An ExtensionContext with in-memory secrets and the given per-user storage folder. */
export function makeContext(globalStorage: string) {
  const root = path.resolve(__dirname, '../../..');
  return {
    subscriptions: [] as { dispose(): unknown }[],
    secrets: new MemorySecretStorage(),
    globalState: new Memento(),
    workspaceState: new Memento(),
    globalStorageUri: Uri.file(globalStorage),
    storageUri: undefined,
    logUri: Uri.file(path.join(globalStorage, 'logs')),
    extensionUri: Uri.file(root),
    extensionPath: root,
    extension: { id: `${manifest.publisher}.${manifest.name}`, packageJSON: manifest },
  };
}
