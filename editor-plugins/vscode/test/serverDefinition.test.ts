import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import {
  appwriteApiKeySecretName,
  commandFor,
  dataDirFor,
  describeServer,
  findProblem,
  formatCommandLine,
  formatEnv,
  keyIdOf,
  launchServer,
  normalizeEndpoint,
  readSettings,
  scopedKeySecretName,
  type BaasSettings,
  type Place,
} from '../src/serverDefinition';

const WS = path.resolve('/work/space/shop');
const STORAGE = path.resolve('/home/me/.config/Code/User/globalStorage/baas-mcp.baas-mcp');
const HOME = path.resolve('/home/me');
const inWorkspace: Place = { workspaceFolder: WS, globalStorage: STORAGE, home: HOME };
const noWorkspace: Place = { globalStorage: STORAGE, home: HOME };

function settings(values: Record<string, unknown> = {}): BaasSettings {
  return readSettings((name) => values[name]);
}

const appwrite = settings({
  backend: 'appwrite',
  'appwrite.endpoint': 'https://cloud.appwrite.io/v1',
  'appwrite.projectId': 'shop-prod',
});
const API_KEY = 'standard_appwrite_secret_0123456789abcdef';
const SCOPED = 'standard_6b0210501e55f3072df6_11a3007a06f5dd9daf4e86f6a1b90474a49d6cf0861ac35ab243adf889cb18b4';

describe('settings', () => {
  it('defaults to the embedded backend, the baas-mcp command on PATH, read and write', () => {
    assert.deepEqual(settings(), {
      backend: 'embedded',
      command: 'baas-mcp',
      dataDir: '',
      readOnly: false,
      appwriteEndpoint: '',
      appwriteProjectId: '',
      appwriteSelfSigned: false,
    });
  });

  it('ignores values of the wrong type and blank strings', () => {
    const read = settings({ backend: 'cloud', command: '   ', readOnly: 'yes', 'appwrite.endpoint': 42 });
    assert.equal(read.backend, 'embedded');
    assert.equal(read.command, 'baas-mcp');
    assert.equal(read.readOnly, false);
    assert.equal(read.appwriteEndpoint, '');
  });
});

describe('the embedded server', () => {
  it('runs `baas-mcp serve --data-dir <workspace>/.baas` in the workspace folder', () => {
    const spec = describeServer(settings(), inWorkspace);
    assert.equal(spec.label, 'baas-mcp');
    assert.equal(spec.command, 'baas-mcp');
    assert.deepEqual(spec.args, ['serve', '--data-dir', path.join(WS, '.baas')]);
    assert.equal(spec.cwd, WS);
    assert.equal(spec.project, 'default');
    // Inherited variables must not switch it to another backend or narrow it behind the settings' back.
    assert.deepEqual(spec.env, { APPWRITE_ENDPOINT: null, APPWRITE_API_KEY: null, BAAS_MCP_KEY: null });
  });

  it('keeps its data in the per-user storage when no folder is open', () => {
    const spec = describeServer(settings(), noWorkspace);
    assert.deepEqual(spec.args, ['serve', '--data-dir', path.join(STORAGE, '.baas')]);
    assert.equal(spec.cwd, STORAGE);
  });

  it('adds --read-only in read-only mode', () => {
    assert.deepEqual(describeServer(settings({ readOnly: true }), inWorkspace).args, [
      'serve',
      '--data-dir',
      path.join(WS, '.baas'),
      '--read-only',
    ]);
  });

  it('takes the data folder setting relative to the workspace, absolute, or from ~', () => {
    assert.equal(dataDirFor(settings({ dataDir: 'backend/data' }), inWorkspace), path.join(WS, 'backend', 'data'));
    assert.equal(dataDirFor(settings({ dataDir: path.resolve('/srv/baas') }), inWorkspace), path.resolve('/srv/baas'));
    assert.equal(dataDirFor(settings({ dataDir: '~/baas-data' }), inWorkspace), path.join(HOME, 'baas-data'));
  });

  it('runs a bare command from PATH, a relative path from the workspace folder, ~ from home', () => {
    assert.equal(commandFor(settings({ command: 'baas-mcp' }), inWorkspace), 'baas-mcp');
    assert.equal(commandFor(settings({ command: '.venv/bin/baas-mcp' }), inWorkspace), path.join(WS, '.venv', 'bin', 'baas-mcp'));
    assert.equal(commandFor(settings({ command: '~/.local/bin/baas-mcp' }), inWorkspace), path.join(HOME, '.local', 'bin', 'baas-mcp'));
    assert.equal(commandFor(settings({ command: '/opt/baas/bin/baas-mcp' }), inWorkspace), '/opt/baas/bin/baas-mcp');
  });

  it('passes a scoped key only in the environment (BAAS_MCP_KEY) when it starts', () => {
    const launch = launchServer(settings(), inWorkspace, { scopedKey: SCOPED });
    assert.ok('spec' in launch);
    assert.equal(launch.spec.env.BAAS_MCP_KEY, SCOPED);
    assert.ok(!launch.spec.args.some((arg) => arg.includes(SCOPED)));
    assert.ok(!launch.spec.args.includes('--key'));
  });
});

describe('the Appwrite server', () => {
  it('runs `serve --endpoint URL --project ID` with the API key in APPWRITE_API_KEY', () => {
    const launch = launchServer(appwrite, inWorkspace, { appwriteApiKey: API_KEY });
    assert.ok('spec' in launch);
    assert.deepEqual(launch.spec.args, [
      'serve',
      '--endpoint',
      'https://cloud.appwrite.io/v1',
      '--project',
      'shop-prod',
      '--data-dir',
      path.join(WS, '.baas'),
    ]);
    assert.deepEqual(launch.spec.env, { APPWRITE_API_KEY: API_KEY, BAAS_MCP_KEY: null });
    assert.equal(launch.spec.project, 'shop-prod');
  });

  it('adds --self-signed and --read-only when set', () => {
    const spec = describeServer({ ...appwrite, appwriteSelfSigned: true, readOnly: true }, inWorkspace);
    assert.deepEqual(spec.args.slice(-2), ['--self-signed', '--read-only']);
  });

  it('lists the server without any secret', () => {
    const spec = describeServer(appwrite, inWorkspace);
    assert.equal(spec.env.APPWRITE_API_KEY, undefined);
    assert.equal(spec.env.BAAS_MCP_KEY, null);
  });

  it('says which setting to set when the endpoint or project is missing or wrong', () => {
    const noEndpoint = findProblem({ ...appwrite, appwriteEndpoint: '' }, { appwriteApiKey: API_KEY });
    assert.equal(noEndpoint?.kind, 'missingEndpoint');
    assert.match(noEndpoint!.message, /baasMcp\.appwrite\.endpoint/);
    assert.deepEqual(noEndpoint!.fix, { setting: 'baasMcp.appwrite.endpoint' });

    const badEndpoint = findProblem({ ...appwrite, appwriteEndpoint: 'cloud.appwrite.io' }, { appwriteApiKey: API_KEY });
    assert.equal(badEndpoint?.kind, 'invalidEndpoint');
    assert.match(badEndpoint!.message, /http\(s\) URL/);

    const noProject = findProblem({ ...appwrite, appwriteProjectId: '' }, { appwriteApiKey: API_KEY });
    assert.equal(noProject?.kind, 'missingProject');
    assert.match(noProject!.message, /baasMcp\.appwrite\.projectId/);

    const badProject = findProblem({ ...appwrite, appwriteProjectId: 'no spaces allowed' }, { appwriteApiKey: API_KEY });
    assert.equal(badProject?.kind, 'invalidProject');
  });

  it('says which command stores the API key when it is missing', () => {
    const launch = launchServer(appwrite, inWorkspace, {});
    assert.ok('problem' in launch);
    assert.equal(launch.problem.kind, 'missingApiKey');
    assert.match(launch.problem.message, /baas-mcp: Set Appwrite API Key/);
    assert.deepEqual(launch.problem.fix, { command: 'baasMcp.setAppwriteApiKey' });
  });

  it('needs nothing of that for the embedded backend', () => {
    assert.equal(findProblem(settings(), {}), undefined);
  });
});

describe('secrets', () => {
  it('never appear in the arguments, whatever the settings', () => {
    const variants: BaasSettings[] = [
      settings(),
      settings({ readOnly: true }),
      appwrite,
      { ...appwrite, appwriteSelfSigned: true, readOnly: true },
    ];
    for (const variant of variants) {
      for (const place of [inWorkspace, noWorkspace]) {
        const launch = launchServer(variant, place, { appwriteApiKey: API_KEY, scopedKey: SCOPED });
        assert.ok('spec' in launch);
        const visible = JSON.stringify([launch.spec.command, launch.spec.args, launch.spec.cwd, launch.spec.version]);
        assert.ok(!visible.includes(API_KEY) && !visible.includes(SCOPED), visible);
        const listed = JSON.stringify(describeServer(variant, place));
        assert.ok(!listed.includes(API_KEY) && !listed.includes(SCOPED), listed);
      }
    }
  });

  it('are hidden in the log line of the environment', () => {
    const text = formatEnv({ APPWRITE_API_KEY: API_KEY, BAAS_MCP_KEY: SCOPED, APPWRITE_ENDPOINT: null });
    assert.equal(text, 'APPWRITE_API_KEY=(hidden) BAAS_MCP_KEY=(hidden) APPWRITE_ENDPOINT=(unset)');
  });

  it('are stored per endpoint and project (Appwrite) and per data folder and project (scoped keys)', () => {
    assert.equal(appwriteApiKeySecretName(appwrite), 'appwriteApiKey|https://cloud.appwrite.io/v1|shop-prod');
    assert.equal(
      appwriteApiKeySecretName({ ...appwrite, appwriteEndpoint: 'https://cloud.appwrite.io/' }),
      'appwriteApiKey|https://cloud.appwrite.io/v1|shop-prod',
    );
    assert.equal(appwriteApiKeySecretName({ ...appwrite, appwriteProjectId: '' }), undefined);
    assert.notEqual(scopedKeySecretName('/a/.baas', 'default'), scopedKeySecretName('/b/.baas', 'default'));
    assert.equal(keyIdOf(SCOPED), '6b0210501e55f3072df6');
    assert.equal(keyIdOf('not-a-key'), undefined);
  });

  it('move the listed version when they change (revision), so the editor notices', () => {
    assert.notEqual(describeServer(settings(), inWorkspace, 0).version, describeServer(settings(), inWorkspace, 1).version);
    assert.equal(describeServer(settings(), inWorkspace, 3).version, describeServer(settings(), inWorkspace, 3).version);
  });
});

describe('helpers', () => {
  it('normalizes endpoints the way baas-mcp does', () => {
    assert.equal(normalizeEndpoint('https://cloud.appwrite.io'), 'https://cloud.appwrite.io/v1');
    assert.equal(normalizeEndpoint('http://localhost:8080/v1/'), 'http://localhost:8080/v1');
    assert.equal(normalizeEndpoint('ftp://example.com'), undefined);
    assert.equal(normalizeEndpoint('not a url'), undefined);
  });

  it('quotes command lines for the log', () => {
    assert.equal(formatCommandLine('/usr/bin/baas-mcp', ['keys', 'create', '--name', 'my key']), "/usr/bin/baas-mcp keys create --name 'my key'");
  });
});
