// The official Node SDK for Appwrite 1.9 (node-appwrite, pinned in package.json) against an Appwrite endpoint.
//
// Environment: ENDPOINT (e.g. http://127.0.0.1:8080/v1), PROJECT, KEY (an API key with the database, table, column,
// row, users, bucket, file, key, platform, project, policy, webhook, function and execution scopes), and for the
// functions scenario RUNTIME (a runtime id the server runs) and ARCHIVE (a tar.gz over 5 MB whose main.py echoes the
// request). Arguments: the scenarios to run (default: all).
//
// Each scenario is an async function in SCENARIOS: it works in its own database, bucket or users, so scenarios run
// alone or in any order, and records what it observed with report.check(label, actual, expected). Prints one JSON
// object: {"sdk": "node-appwrite X", "scenarios": {name: {"checks": {...}, "mismatches": [...], "error": str|null}}}.
// tests/rest/sdk_python19/scenario.py runs the same scenarios with the Python SDK; tests/rest/test_sdk_1_9.py asserts.
'use strict';

const fs = require('fs');
const path = require('path');
const sdk = require('node-appwrite');
const { InputFile } = require('node-appwrite/file');

// The SDK's package.json is not among its exports: read it from where the SDK was found.
const { version } = JSON.parse(fs.readFileSync(path.join(path.dirname(require.resolve('node-appwrite')), '..', 'package.json')));

const { ExecutionMethod, ID, ProjectKeyScopes, ProjectPolicyId, Query, TablesDBIndexType } = sdk;

const ENDPOINT = process.env.ENDPOINT;
const PROJECT = process.env.PROJECT || 'default';
const KEY = process.env.KEY;
// Whole numbers a double cannot hold, and the ends of the signed 64-bit range.
const BIG = 2n ** 53n + 1n;
const MAX_INT64 = 2n ** 63n - 1n;
const MIN_INT64 = -(2n ** 63n);

// BigInts are not JSON: they are shown as strings, so 2**53 + 1 and 2**53 stay apart.
function plain(value) {
    return JSON.parse(JSON.stringify(value, (_key, item) => (typeof item === 'bigint' ? `${item}n` : item)));
}

class Report {
    constructor() {
        this.checks = {};
        this.mismatches = [];
    }

    check(label, actual, expected) {
        const observed = plain(actual);
        this.checks[label] = observed;
        const want = JSON.stringify(plain(expected));
        if (JSON.stringify(observed) !== want) {
            this.mismatches.push(`${label}: expected ${want}, got ${JSON.stringify(observed)}`);
        }
    }

    // The call rejects with an AppwriteException of `code` and `type` (its message non-empty).
    async fails(label, call, code, type) {
        let observed;
        try {
            observed = { returned: plain(await call()) };
        } catch (error) {
            if (!(error instanceof sdk.AppwriteException)) {
                throw error;
            }
            observed = { code: error.code, type: error.type, message: Boolean(error.message) };
        }
        this.check(label, observed, { code, type, message: true });
    }
}

function client(key = KEY) {
    return new sdk.Client().setEndpoint(ENDPOINT).setProject(PROJECT).setKey(key);
}

// A new database with a table `items` (title, qty, views: bigint); its ids.
async function newTable(tables) {
    const database = await tables.create({ databaseId: ID.unique(), name: 'SDK 1.9' });
    const at = { databaseId: database.$id, tableId: 'items' };
    await tables.createTable({ ...at, name: 'Items' });
    await tables.createVarcharColumn({ ...at, key: 'title', size: 100, required: true });
    await tables.createIntegerColumn({ ...at, key: 'qty', required: false, xdefault: 0 });
    await tables.createBigIntColumn({ ...at, key: 'views', required: false });
    return at;
}

const SCENARIOS = {
    async tablesdb(report) {
        const tables = new sdk.TablesDB(client());
        const database = await tables.create({ databaseId: ID.unique(), name: 'Shop' });
        report.check('database', [database.name, database.type, database.enabled], ['Shop', 'tablesdb', true]);
        const at = { databaseId: database.$id, tableId: 'items' };
        const table = await tables.createTable({ ...at, name: 'Items', rowSecurity: true });
        report.check('table', [table.$id, table.name, table.rowSecurity, table.databaseId],
            ['items', 'Items', true, database.$id]);
        const title = await tables.createVarcharColumn({ ...at, key: 'title', size: 100, required: true });
        report.check('varchar', [title.key, title.type, title.size, title.status], ['title', 'varchar', 100, 'available']);
        const qty = await tables.createIntegerColumn({ ...at, key: 'qty', required: false, min: 0, max: 1000, xdefault: 1 });
        report.check('integer', [qty.type, qty.min, qty.max, qty.default], ['integer', 0, 1000, 1]);
        const views = await tables.createBigIntColumn({ ...at, key: 'views', required: false, min: -5, max: BIG, xdefault: 7 });
        report.check('bigint', [views.key, views.type, views.status, views.default], ['views', 'bigint', 'available', 7]);
        report.check('bigint.max', views.max, BIG);
        const listed = await tables.listColumns(at);
        report.check('columns', listed.columns.map((column) => column.key), ['title', 'qty', 'views']);
        const index = await tables.createIndex({ ...at, key: 'by_views', type: TablesDBIndexType.Key, columns: ['views'] });
        report.check('index', [index.key, index.type, index.columns], ['by_views', 'key', ['views']]);
    },

    async bigint(report) {
        const tables = new sdk.TablesDB(client());
        const at = await newTable(tables);
        for (const [rowId, views] of [['big', BIG], ['neighbour', BIG - 1n], ['max', MAX_INT64], ['min', MIN_INT64]]) {
            const created = await tables.createRow({ ...at, rowId, data: { title: rowId, views } });
            report.check(`created.${rowId}`, created.views, views);
        }
        const read = await tables.getRow({ ...at, rowId: 'max' });
        report.check('read.max', read.views, MAX_INT64);
        report.check('read.type', typeof read.views, 'bigint');
        const found = await tables.listRows({ ...at, queries: [Query.equal('views', BIG)] });
        report.check('equal', found.rows.map((row) => row.$id), ['big']);
        report.check('equal.value', found.rows.map((row) => row.views), [BIG]);
        const above = await tables.listRows({ ...at, queries: [Query.greaterThan('views', BIG - 1n), Query.orderAsc('views')] });
        report.check('greaterThan', above.rows.map((row) => row.$id), ['big', 'max']);
        const bumped = await tables.incrementRowColumn({ ...at, rowId: 'big', column: 'views', value: 2 });
        report.check('increment', bumped.views, BIG + 2n);
    },

    async rows(report) {
        const tables = new sdk.TablesDB(client());
        const at = await newTable(tables);
        const made = [];
        for (let n = 0; n < 3; n += 1) {
            made.push(await tables.createRow({ ...at, rowId: ID.unique(), data: { title: `t${n}`, qty: n } }));
        }
        const sequences = made.map((row) => row.$sequence);
        report.check('sequence.type', [...new Set(sequences.map((value) => typeof value))], ['string']);
        report.check('sequence.digits', sequences.every((value) => /^\d+$/.test(value)), true);
        const ascending = sequences.every((value, n) => n === 0 || BigInt(value) > BigInt(sequences[n - 1]));
        report.check('sequence.increasing', ascending, true);
        const first = await tables.getRow({ ...at, rowId: made[0].$id });
        report.check('get', [first.$id, first.$sequence, first.title, first.qty], [made[0].$id, sequences[0], 't0', 0]);
        report.check('defaults', first.views, null);
        const updated = await tables.updateRow({ ...at, rowId: made[1].$id, data: { qty: 10 } });
        report.check('update', [updated.qty, updated.$sequence], [10, sequences[1]]);
        report.check('tableId', [first.$tableId, first.$databaseId], [at.tableId, at.databaseId]);
    },

    async queries(report) {
        const tables = new sdk.TablesDB(client());
        const at = await newTable(tables);
        const titles = ['apple', 'banana', 'cherry', 'damson', 'elder'];
        for (const [n, title] of titles.entries()) {
            await tables.createRow({ ...at, rowId: title, data: { title, qty: n * 10 } });
        }
        const ids = async (...queries) => (await tables.listRows({ ...at, queries })).rows.map((row) => row.$id);
        report.check('equal', await ids(Query.equal('title', ['banana', 'elder'])), ['banana', 'elder']);
        report.check('range', await ids(Query.between('qty', 10, 30)), ['banana', 'cherry', 'damson']);
        report.check('order', await ids(Query.orderDesc('qty'), Query.limit(2)), ['elder', 'damson']);
        report.check('startsWith', await ids(Query.startsWith('title', 'ch')), ['cherry']);
        report.check('cursor', await ids(Query.orderAsc('qty'), Query.cursorAfter('cherry')), ['damson', 'elder']);
        report.check('sequence', await ids(Query.greaterThan('$sequence', 0), Query.limit(1)), ['apple']);
        const listed = await tables.listRows({ ...at, queries: [Query.select(['title']), Query.limit(1)] });
        report.check('total', listed.total, 5);
        report.check('select', Object.keys(listed.rows[0]).filter((key) => !key.startsWith('$')).sort(), ['title']);
    },

    async users(report) {
        const users = new sdk.Users(client());
        const userId = ID.unique();
        const email = `${userId}@example.com`;
        const created = await users.create({ userId, email, password: 'correct horse battery', name: 'Ada' });
        report.check('create', [created.$id, created.email, created.name, created.status], [userId, email, 'Ada', true]);
        const fetched = await users.get({ userId });
        report.check('get', [fetched.email, fetched.emailVerification, fetched.labels], [email, false, []]);
        const listed = await users.list({ queries: [Query.equal('email', email)] });
        report.check('list', [listed.total, listed.users.map((user) => user.$id)], [1, [userId]]);
        await users.delete({ userId });
        await report.fails('deleted', () => users.get({ userId }), 404, 'user_not_found');
    },

    async storage(report) {
        const storage = new sdk.Storage(client());
        const bucket = await storage.createBucket({ bucketId: ID.unique(), name: 'Uploads' });
        report.check('bucket', [bucket.name, bucket.enabled], ['Uploads', true]);
        const content = Buffer.alloc(256 * 40, 0).map((_byte, n) => n % 256);
        const file = InputFile.fromBuffer(content, 'data.bin');
        const uploaded = await storage.createFile({ bucketId: bucket.$id, fileId: ID.unique(), file });
        report.check('upload', [uploaded.name, uploaded.sizeOriginal, uploaded.bucketId], ['data.bin', content.length, bucket.$id]);
        report.check('get', (await storage.getFile({ bucketId: bucket.$id, fileId: uploaded.$id })).sizeOriginal, content.length);
        const downloaded = Buffer.from(await storage.getFileDownload({ bucketId: bucket.$id, fileId: uploaded.$id }));
        report.check('download', downloaded.equals(content), true);
    },

    async errors(report) {
        const tables = new sdk.TablesDB(client());
        const at = await newTable(tables);
        await report.fails('rowNotFound', () => tables.getRow({ ...at, rowId: 'missing' }), 404, 'row_not_found');
        await report.fails('invalidStructure',
            () => tables.createRow({ ...at, rowId: ID.unique(), data: { title: 'x', views: 'many' } }),
            400, 'row_invalid_structure');
        await report.fails('wrongKey', () => new sdk.TablesDB(client('standard_wrong')).list({}), 401, 'user_unauthorized');
    },

    async encrypted(report) {
        const tables = new sdk.TablesDB(client());
        const at = await newTable(tables);
        const column = await tables.createVarcharColumn({ ...at, key: 'secret', size: 200, required: false, encrypt: true });
        report.check('column', [column.key, column.encrypt], ['secret', true]);
        const row = await tables.createRow({ ...at, rowId: ID.unique(), data: { title: 't', secret: 'hunter2' } });
        report.check('read', (await tables.getRow({ ...at, rowId: row.$id })).secret, 'hunter2');
        await report.fails('query', () => tables.listRows({ ...at, queries: [Query.equal('secret', 'hunter2')] }),
            400, 'general_query_invalid');
        await report.fails('tooShort',
            () => tables.createVarcharColumn({ ...at, key: 'pin', size: 20, required: false, encrypt: true }),
            400, 'general_bad_request');
    },

    async project(report) {
        const service = new sdk.Project(client());
        const info = await service.get();
        report.check('get', [info.$id, info.region, info.status], [PROJECT, 'default', 'active']);
        const key = await service.createKey({ keyId: ID.unique(), name: 'CI', scopes: [ProjectKeyScopes.UsersRead] });
        report.check('key', [key.name, key.scopes, key.secret.startsWith('standard_')], ['CI', ['users.read'], true]);
        report.check('key.works', (await new sdk.Users(client(key.secret)).list({})).total >= 0, true);
        report.check('keys', (await service.listKeys({})).keys.some((listed) => listed.$id === key.$id), true);
        const platform = await service.createWebPlatform({ platformId: ID.unique(), name: 'Web', hostname: 'app.example.com' });
        report.check('platform', [platform.name, platform.hostname], ['Web', 'app.example.com']);
        const name = `STRIPE_KEY_${ID.unique().toUpperCase()}`; // a variable's key is unique in its project
        const variable = await service.createVariable({ variableId: ID.unique(), key: name, value: 'sk_test_123', secret: true });
        report.check('variable', [variable.key, variable.value, variable.secret], [name, '', true]);
        await service.updateSessionLimitPolicy({ total: 50 });
        report.check('policy', (await service.getPolicy({ policyId: ProjectPolicyId.Sessionlimit })).total, 50);
        await service.deleteKey({ keyId: key.$id });
        await report.fails('revoked', () => new sdk.Users(client(key.secret)).list({}), 401, 'user_unauthorized');
    },

    async webhooks(report) {
        const service = new sdk.Webhooks(client());
        const events = ['databases.*.tables.*.rows.*.create', 'users.*.update.email'];
        const made = await service.create({
            webhookId: ID.unique(), url: 'https://example.com/hooks/orders', name: 'Orders', events,
            authUsername: 'hook', authPassword: 'pw',
        });
        report.check('create', [made.name, made.events, made.tls, made.enabled, made.attempts], ['Orders', events, false, true, 0]);
        report.check('secret', [made.secret.length, (await service.get({ webhookId: made.$id })).secret], [128, '']);
        report.check('auth', [made.authUsername, made.authPassword], ['hook', 'pw']);
        const listed = await service.list({ queries: [Query.equal('name', 'Orders')] });
        report.check('list', listed.webhooks.some((webhook) => webhook.$id === made.$id), true);
        const changed = await service.update({
            webhookId: made.$id, name: 'Orders v2', url: 'https://example.com/hooks/v2', events: ['users.*'], enabled: false, tls: true,
        });
        report.check('update', [changed.name, changed.url, changed.events, changed.enabled, changed.tls, changed.authUsername],
            ['Orders v2', 'https://example.com/hooks/v2', ['users.*'], false, true, '']);
        report.check('rotate', (await service.updateSecret({ webhookId: made.$id, secret: 'rotated-secret' })).secret, 'rotated-secret');
        await report.fails('badEvent',
            () => service.create({ webhookId: ID.unique(), url: 'https://example.com/x', name: 'x', events: ['users.*.explode'] }),
            400, 'general_argument_invalid');
        await service.delete({ webhookId: made.$id });
        await report.fails('deleted', () => service.get({ webhookId: made.$id }), 404, 'webhook_not_found');
    },

    async functions(report) {
        const service = new sdk.Functions(client());
        const runtime = process.env.RUNTIME;
        const archive = process.env.ARCHIVE;
        const made = await service.create({
            functionId: ID.unique(), name: 'Echo', runtime, execute: ['any'], entrypoint: 'main.py', timeout: 10,
        });
        report.check('create', [made.name, made.runtime, made.buildSpecification], ['Echo', runtime, 's-1vcpu-512mb']);
        const variable = await service.createVariable({
            functionId: made.$id, variableId: ID.unique(), key: 'GREETING', value: 'hello', secret: false,
        });
        report.check('variable', [variable.key, variable.value], ['GREETING', 'hello']);
        const code = InputFile.fromPath(archive, 'code.tar.gz');
        const deployment = await service.createDeployment({ functionId: made.$id, code, activate: true });
        report.check('deploy', [deployment.status, deployment.sourceSize], ['ready', fs.statSync(archive).size]);
        const execution = await service.createExecution({
            functionId: made.$id, body: '{"n": 1}', xpath: '/echo?x=1', method: ExecutionMethod.PUT,
        });
        report.check('execute', [execution.status, execution.responseStatusCode, JSON.parse(execution.responseBody)],
            ['completed', 200, { method: 'PUT', path: '/echo', query: { x: '1' }, body: { n: 1 }, greeting: 'hello' }]);
        report.check('logs', execution.logs.includes('echoing PUT'), true);
        const waiting = await service.createExecution({ functionId: made.$id, async: true });
        report.check('async', ['waiting', 'processing'].includes(waiting.status), true);
        const listed = await service.listExecutions({ functionId: made.$id });
        report.check('list', listed.executions.map((item) => item.$id).sort().join() === [execution.$id, waiting.$id].sort().join(), true);
        const downloaded = await service.getDeploymentDownload({ functionId: made.$id, deploymentId: deployment.$id });
        report.check('download', Buffer.from(downloaded).length, fs.statSync(archive).size);
        await service.delete({ functionId: made.$id });
        await report.fails('deleted', () => service.get({ functionId: made.$id }), 404, 'function_not_found');
    },
};

async function run(name) {
    const report = new Report();
    let error = null;
    try {
        await SCENARIOS[name](report);
    } catch (caught) {
        error = String((caught && caught.stack) || caught);
    }
    return { checks: report.checks, mismatches: report.mismatches, error };
}

async function main(names) {
    const chosen = names.length ? names : Object.keys(SCENARIOS);
    const reports = {};
    for (const name of chosen) {
        reports[name] = await run(name);
    }
    process.stdout.write(`${JSON.stringify({ sdk: `node-appwrite ${version}`, scenarios: reports })}\n`);
    const failed = chosen.filter((name) => reports[name].mismatches.length || reports[name].error);
    for (const name of failed) {
        process.stderr.write(`${name}: ${JSON.stringify(reports[name].mismatches)} ${reports[name].error || ''}\n`);
    }
    process.exitCode = failed.length ? 1 : 0;
}

main(process.argv.slice(2));
