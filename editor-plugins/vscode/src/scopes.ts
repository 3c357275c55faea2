/**
 * The API key scopes baas-mcp accepts: Appwrite's project scope list, in Appwrite's order.
 * `baas-mcp keys create` refuses any scope that is not in this list.
 */
export const ALL_SCOPES: readonly string[] = [
  'project.read', 'project.write', 'keys.read', 'keys.write', 'platforms.read', 'platforms.write',
  'mocks.read', 'mocks.write', 'policies.read', 'policies.write', 'project.policies.read',
  'project.policies.write', 'templates.read', 'templates.write', 'oauth2.read', 'oauth2.write',
  'users.read', 'users.write', 'sessions.read', 'sessions.write', 'teams.read', 'teams.write',
  'databases.read', 'databases.write', 'tables.read', 'tables.write', 'columns.read', 'columns.write',
  'indexes.read', 'indexes.write', 'rows.read', 'rows.write', 'collections.read', 'collections.write',
  'attributes.read', 'attributes.write', 'documents.read', 'documents.write', 'buckets.read',
  'buckets.write', 'files.read', 'files.write', 'tokens.read', 'tokens.write', 'functions.read',
  'functions.write', 'executions.read', 'executions.write', 'execution.read', 'execution.write',
  'sites.read', 'sites.write', 'log.read', 'log.write', 'providers.read', 'providers.write',
  'topics.read', 'topics.write', 'subscribers.read', 'subscribers.write', 'targets.read',
  'targets.write', 'messages.read', 'messages.write', 'rules.read', 'rules.write', 'webhooks.read',
  'webhooks.write', 'locale.read', 'avatars.read', 'health.read', 'assistant.read', 'migrations.read',
  'migrations.write', 'schedules.read', 'schedules.write', 'vcs.read', 'vcs.write', 'insights.read',
  'insights.write', 'reports.read', 'reports.write', 'presences.read', 'presences.write',
];

/** What a new key gets unless the user picks otherwise: full use of databases, tables and rows. */
export const DEFAULT_SCOPES: readonly string[] = [
  'databases.read', 'databases.write', 'tables.read', 'tables.write', 'columns.read', 'columns.write',
  'indexes.read', 'indexes.write', 'rows.read', 'rows.write',
];

const RESOURCES: Record<string, string> = {
  project: 'project settings',
  keys: 'API keys',
  platforms: 'platforms',
  mocks: 'mock phone numbers',
  policies: 'policies',
  'project.policies': 'project policies',
  templates: 'email and SMS templates',
  oauth2: 'OAuth2 providers',
  users: 'users',
  sessions: 'user sessions',
  teams: 'teams and memberships',
  databases: 'databases',
  tables: 'tables',
  columns: 'table columns',
  indexes: 'indexes',
  rows: 'table rows',
  collections: 'collections (legacy databases API)',
  attributes: 'attributes (legacy databases API)',
  documents: 'documents (legacy databases API)',
  buckets: 'storage buckets',
  files: 'files',
  tokens: 'file tokens',
  functions: 'functions',
  executions: 'function executions',
  execution: 'function execution',
  sites: 'sites',
  log: 'logs',
  providers: 'messaging providers',
  topics: 'messaging topics',
  subscribers: 'topic subscribers',
  targets: 'messaging targets',
  messages: 'messages',
  rules: 'proxy rules',
  webhooks: 'webhooks',
  locale: 'locale data',
  avatars: 'avatars',
  health: 'server health',
  assistant: 'assistant',
  migrations: 'migrations',
  schedules: 'schedules',
  vcs: 'version control',
  insights: 'insights',
  reports: 'reports',
  presences: 'presences',
};

/** A human description of a scope, e.g. "read table rows". */
export function describeScope(scope: string): string {
  const dot = scope.lastIndexOf('.');
  const resource = scope.slice(0, dot);
  const access = scope.slice(dot + 1);
  const what = RESOURCES[resource] ?? resource;
  return `${access === 'write' ? 'create, change and delete' : 'read'} ${what}`;
}

export interface ScopeItem {
  label: string;
  description: string;
  picked: boolean;
}

/** Quick-pick items for every scope; `preselected` ones are picked. */
export function scopeItems(preselected: readonly string[] = DEFAULT_SCOPES): ScopeItem[] {
  const chosen = new Set(preselected);
  return ALL_SCOPES.map((scope) => ({ label: scope, description: describeScope(scope), picked: chosen.has(scope) }));
}

/** The scopes that are not baas-mcp scopes. */
export function unknownScopes(scopes: readonly string[]): string[] {
  const known = new Set(ALL_SCOPES);
  return scopes.filter((scope) => !known.has(scope));
}
