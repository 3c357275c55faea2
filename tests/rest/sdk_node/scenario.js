// The official Node SDK (node-appwrite) against an Appwrite-compatible endpoint.
//
// Environment: ENDPOINT (e.g. http://127.0.0.1:8080/v1), PROJECT, KEY (an API key with the database, table,
// column, index, row, health and users.read scopes), and optionally NARROW_KEY (a key with rows.read only).
// Prints one JSON object to stdout: {"checks": {label: observed value}, "mismatches": [...]}; exits 1 when
// an observation differs from what the scenario expects, naming each one on stderr.
'use strict';

const sdk = require('node-appwrite');

const { ID, Query, Permission, Role } = sdk;

const ENDPOINT = process.env.ENDPOINT;
const PROJECT = process.env.PROJECT || 'default';
const KEY = process.env.KEY;
const NARROW_KEY = process.env.NARROW_KEY;
const BIG = 9007199254740993n; // 2**53 + 1: not representable as a double

const checks = {};
const mismatches = [];

// BigInts are not JSON: show them as strings everywhere.
function plain(value) {
    return JSON.parse(JSON.stringify(value, (_key, item) => (typeof item === 'bigint' ? item.toString() : item)));
}

function check(label, actual, expected) {
    const observed = plain(actual);
    checks[label] = observed;
    const want = JSON.stringify(plain(expected));
    if (JSON.stringify(observed) !== want) {
        mismatches.push(`${label}: expected ${want}, got ${JSON.stringify(observed)}`);
    }
}

async function failure(label, promise) {
    try {
        const value = await promise;
        return { resolved: plain(value) };
    } catch (error) {
        if (!(error instanceof sdk.AppwriteException)) {
            throw new Error(`${label}: expected an AppwriteException, got ${error && error.stack}`);
        }
        return { code: error.code, type: error.type };
    }
}

async function checkFailure(label, promise, code, type) {
    check(label, await failure(label, promise), { code, type });
}

function client(key, project = PROJECT) {
    const made = new sdk.Client().setEndpoint(ENDPOINT).setProject(project);
    return key ? made.setKey(key) : made;
}

const PRODUCTS = [
    { name: 'Dune', description: 'a desert planet and its spice', price: 9.5, stock: 10, active: true,
      released: '2020-01-15T10:00:00.000+00:00', category: 'book', contact: 'dune@example.com', tags: ['scifi', 'classic'] },
    { name: 'Chess', description: 'a board game of kings and queens', price: 30, stock: 0, active: false,
      released: '2021-06-01T00:00:00.000+00:00', category: 'game', contact: 'chess@example.com', tags: ['strategy'] },
    { name: 'Hammer', description: 'a heavy tool for nails', price: 15.25, stock: 5, active: true,
      released: null, category: 'tool', contact: null, tags: [] },
    { name: 'Neuromancer', description: 'cyberspace and a desert of the real', price: 12, stock: 3, active: true,
      released: '2019-03-03T12:30:00.000+00:00', category: 'book', contact: 'neuro@example.com', tags: ['scifi', 'cyberpunk'] },
    { name: 'Go', description: 'stones on a grid', price: 25, stock: 7, active: false,
      released: '2022-09-09T09:09:09.000+00:00', category: 'game', contact: null, tags: ['strategy', 'classic'] },
];

function names(list) {
    return list.rows.map((row) => row.name);
}

async function scenario() {
    const tablesDB = new sdk.TablesDB(client(KEY));

    // Database and table.
    const database = await tablesDB.create({ databaseId: ID.unique(), name: 'Shop' });
    const databaseId = database.$id;
    check('database', { name: database.name, type: database.type, enabled: database.enabled }, { name: 'Shop', type: 'tablesdb', enabled: true });
    const listedDatabases = await tablesDB.list({ queries: [Query.equal('name', ['Shop'])] });
    check('databases.list', { total: listedDatabases.total, ours: listedDatabases.databases.map((item) => item.$id).includes(databaseId) }, { total: 1, ours: true });

    const table = await tablesDB.createTable({
        databaseId,
        tableId: ID.unique(),
        name: 'products',
        permissions: [Permission.read(Role.any()), Permission.create(Role.users())],
        rowSecurity: true,
    });
    const tableId = table.$id;
    check('table', { name: table.name, rowSecurity: table.rowSecurity, permissions: [...table.$permissions].sort(), databaseId: table.databaseId === databaseId },
        { name: 'products', rowSecurity: true, permissions: ['create("users")', 'read("any")'], databaseId: true });

    // Columns.
    const where = { databaseId, tableId };
    const created = [
        await tablesDB.createStringColumn({ ...where, key: 'name', size: 100, required: true }),
        await tablesDB.createStringColumn({ ...where, key: 'description', size: 500, required: false }),
        await tablesDB.createFloatColumn({ ...where, key: 'price', required: false, min: 0, max: 1000 }),
        await tablesDB.createIntegerColumn({ ...where, key: 'stock', required: false, xdefault: 0 }),
        await tablesDB.createBooleanColumn({ ...where, key: 'active', required: false, xdefault: true }),
        await tablesDB.createDatetimeColumn({ ...where, key: 'released', required: false }),
        await tablesDB.createEnumColumn({ ...where, key: 'category', elements: ['book', 'game', 'tool'], required: false }),
        await tablesDB.createEmailColumn({ ...where, key: 'contact', required: false }),
        await tablesDB.createStringColumn({ ...where, key: 'tags', size: 32, required: false, array: true }),
        await tablesDB.createIntegerColumn({ ...where, key: 'serial', required: false }),
    ];
    check('columns.created', created.map((column) => [column.key, column.type, column.format || null, column.status]), [
        ['name', 'string', null, 'available'],
        ['description', 'string', null, 'available'],
        ['price', 'double', null, 'available'],
        ['stock', 'integer', null, 'available'],
        ['active', 'boolean', null, 'available'],
        ['released', 'datetime', 'datetime', 'available'],
        ['category', 'string', 'enum', 'available'],
        ['contact', 'string', 'email', 'available'],
        ['tags', 'string', null, 'available'],
        ['serial', 'integer', null, 'available'],
    ]);
    const columns = await tablesDB.listColumns(where);
    check('columns.list', { total: columns.total, keys: columns.columns.map((column) => column.key) },
        { total: 10, keys: ['name', 'description', 'price', 'stock', 'active', 'released', 'category', 'contact', 'tags', 'serial'] });
    const category = await tablesDB.getColumn({ ...where, key: 'category' });
    check('columns.get', { elements: category.elements, format: category.format }, { elements: ['book', 'game', 'tool'], format: 'enum' });

    // Indexes.
    const index = await tablesDB.createIndex({ ...where, key: 'by_price', type: sdk.IndexType.Key, columns: ['price'], orders: [sdk.OrderBy.Desc] });
    await tablesDB.createIndex({ ...where, key: 'text', type: sdk.IndexType.Fulltext, columns: ['description'] });
    check('index.created', { key: index.key, type: index.type, columns: index.columns, orders: index.orders.map((order) => order.toLowerCase()) },
        { key: 'by_price', type: 'key', columns: ['price'], orders: ['desc'] });
    const indexes = await tablesDB.listIndexes(where);
    check('index.list', indexes.indexes.map((item) => item.key).sort(), ['by_price', 'text']);
    const fulltext = await tablesDB.getIndex({ ...where, key: 'text' });
    check('index.get', { type: fulltext.type, status: fulltext.status }, { type: 'fulltext', status: 'available' });

    // Rows.
    const ids = {};
    for (const product of PRODUCTS) {
        const row = await tablesDB.createRow({ ...where, rowId: ID.unique(), data: product });
        ids[product.name] = row.$id;
    }
    const idList = Object.values(ids);
    check('rows.ids', { distinct: new Set(idList).size, lengths: [...new Set(idList.map((id) => id.length))] }, { distinct: 5, lengths: [20] });
    const dune = await tablesDB.getRow({ ...where, rowId: ids.Dune });
    check('rows.get', {
        tableId: dune.$tableId === tableId,
        databaseId: dune.$databaseId === databaseId,
        permissions: dune.$permissions,
        data: [dune.name, dune.price, dune.stock, dune.active, dune.released, dune.category, dune.contact, dune.tags, dune.serial],
    }, {
        tableId: true,
        databaseId: true,
        permissions: [],
        data: ['Dune', 9.5, 10, true, '2020-01-15T10:00:00.000+00:00', 'book', 'dune@example.com', ['scifi', 'classic'], null],
    });

    // Query helpers (every product has a category; rows made later do not).
    const products = Query.isNotNull('category');
    const queries = {
        equal: [Query.equal('category', ['book'])],
        notEqual: [Query.notEqual('category', 'book')],
        greaterThan: [Query.greaterThan('price', 14)],
        lessThanEqual: [Query.lessThanEqual('stock', 5)],
        between: [Query.between('price', 10, 25)],
        startsWith: [Query.startsWith('name', 'N')],
        endsWith: [Query.endsWith('name', 'er')],
        search: [Query.search('description', 'desert')],
        isNull: [Query.isNull('released')],
        isNotNull: [Query.isNotNull('contact')],
        contains: [Query.contains('tags', ['classic'])],
        or: [Query.or([Query.equal('name', ['Go']), Query.lessThan('price', 10)])],
        orderDesc: [Query.orderDesc('price')],
        limitOffset: [Query.orderAsc('price'), Query.limit(2), Query.offset(3)],
    };
    const found = {};
    for (const [label, list] of Object.entries(queries)) {
        const result = await tablesDB.listRows({ ...where, queries: [...list, products] });
        found[label] = label.startsWith('order') || label === 'limitOffset' ? names(result) : names(result).sort();
    }
    check('queries', found, {
        equal: ['Dune', 'Neuromancer'],
        notEqual: ['Chess', 'Go', 'Hammer'],
        greaterThan: ['Chess', 'Go', 'Hammer'],
        lessThanEqual: ['Chess', 'Hammer', 'Neuromancer'],
        between: ['Go', 'Hammer', 'Neuromancer'],
        startsWith: ['Neuromancer'],
        endsWith: ['Hammer', 'Neuromancer'],
        search: ['Dune', 'Neuromancer'],
        isNull: ['Hammer'],
        isNotNull: ['Chess', 'Dune', 'Neuromancer'],
        contains: ['Dune', 'Go'],
        or: ['Dune', 'Go'],
        orderDesc: ['Chess', 'Go', 'Hammer', 'Neuromancer', 'Dune'],
        limitOffset: ['Go', 'Chess'],
    });
    const counted = await tablesDB.listRows({ ...where, queries: [products, Query.limit(2)] });
    const uncounted = await tablesDB.listRows({ ...where, queries: [products, Query.limit(2)], total: false });
    check('rows.total', [counted.rows.length, counted.total, uncounted.rows.length, uncounted.total], [2, 5, 2, 0]);

    const pages = [];
    let cursor = null;
    for (;;) {
        const list = [products, Query.orderAsc('price'), Query.limit(2)];
        if (cursor) list.push(Query.cursorAfter(cursor));
        const page = await tablesDB.listRows({ ...where, queries: list });
        if (page.rows.length === 0) break;
        pages.push(names(page));
        cursor = page.rows[page.rows.length - 1].$id;
    }
    check('cursor', pages, [['Dune', 'Neuromancer'], ['Hammer', 'Go'], ['Chess']]);

    const selected = await tablesDB.listRows({ ...where, queries: [Query.equal('name', ['Go']), Query.select(['name', 'price'])] });
    const selectedRow = selected.rows[0];
    check('select', Object.keys(selectedRow).filter((key) => !key.startsWith('$')).sort(), ['name', 'price']);

    // Writing.
    const lamp = await tablesDB.createRow({ ...where, rowId: ID.unique(), data: { name: 'Lamp', price: 20, stock: 1 } });
    const updated = await tablesDB.updateRow({ ...where, rowId: lamp.$id, data: { price: 22.5 } });
    const reread = await tablesDB.getRow({ ...where, rowId: lamp.$id });
    check('update', [updated.price, updated.stock, reread.price], [22.5, 1, 22.5]);
    const guarded = await tablesDB.updateRow({ ...where, rowId: lamp.$id, permissions: [Permission.read(Role.guests())] });
    check('update.permissions', guarded.$permissions, ['read("guests")']);

    const kiteId = ID.unique();
    const kite = await tablesDB.upsertRow({ ...where, rowId: kiteId, data: { name: 'Kite', stock: 2 } });
    const kiteAgain = await tablesDB.upsertRow({ ...where, rowId: kiteId, data: { name: 'Kite', stock: 4 } });
    check('upsert', [kite.$id === kiteId, kite.stock, kiteAgain.stock, kiteAgain.$createdAt === kite.$createdAt], [true, 2, 4, true]);

    const up = await tablesDB.incrementRowColumn({ ...where, rowId: lamp.$id, column: 'stock', value: 3 });
    const down = await tablesDB.decrementRowColumn({ ...where, rowId: lamp.$id, column: 'stock', value: 2 });
    check('increment', [up.stock, down.stock], [4, 2]);

    const bulk = await tablesDB.createRows({
        ...where,
        rows: [1, 2, 3].map((n) => ({ $id: ID.unique(), name: `bulk-${n}`, stock: n, tags: ['bulk'] })),
    });
    const inBulk = Query.contains('tags', ['bulk']);
    const bulkUpdated = await tablesDB.updateRows({ ...where, data: { price: 1.5 }, queries: [inBulk, Query.greaterThan('stock', 1)] });
    const bulkPrices = (await tablesDB.listRows({ ...where, queries: [inBulk, Query.orderAsc('stock')] })).rows.map((row) => row.price);
    const bulkDeleted = await tablesDB.deleteRows({ ...where, queries: [inBulk] });
    const bulkLeft = await tablesDB.listRows({ ...where, queries: [inBulk] });
    check('bulk', { created: bulk.total, updated: bulkUpdated.total, prices: bulkPrices, deleted: bulkDeleted.total, left: bulkLeft.total },
        { created: 3, updated: 2, prices: [null, 1.5, 1.5], deleted: 3, left: 0 });

    // 64-bit integers: json-bigint hands back a BigInt for what a double cannot hold.
    const big = await tablesDB.createRow({ ...where, rowId: ID.unique(), data: { name: 'Big', serial: BIG } });
    const bigRead = await tablesDB.getRow({ ...where, rowId: big.$id });
    const bigFound = await tablesDB.listRows({ ...where, queries: [Query.equal('serial', [BIG])] });
    check('bigint', {
        createdType: typeof big.serial,
        created: String(big.serial),
        read: String(bigRead.serial),
        found: bigFound.rows.map((row) => row.$id === big.$id),
    }, { createdType: 'bigint', created: BIG.toString(), read: BIG.toString(), found: [true] });

    // Transactions.
    const transaction = await tablesDB.createTransaction({ ttl: 120 });
    const stagedId = ID.unique();
    await tablesDB.createRow({ ...where, rowId: stagedId, data: { name: 'Staged' }, transactionId: transaction.$id });
    const before = await failure('transaction.before', tablesDB.getRow({ ...where, rowId: stagedId }));
    const committed = await tablesDB.updateTransaction({ transactionId: transaction.$id, commit: true });
    const after = await tablesDB.getRow({ ...where, rowId: stagedId });
    check('transaction', { status: transaction.status, before, committed: committed.status, after: after.name },
        { status: 'pending', before: { code: 404, type: 'row_not_found' }, committed: 'committed', after: 'Staged' });

    // Permissions: a guest reads what the table lets anyone read, and may not create.
    const guest = new sdk.TablesDB(client(null));
    const guestList = await guest.listRows({ ...where, queries: [products] });
    check('guest.list', names(guestList).sort(), ['Chess', 'Dune', 'Go', 'Hammer', 'Neuromancer']);
    await checkFailure('guest.create', guest.createRow({ ...where, rowId: ID.unique(), data: { name: 'Guest' } }), 401, 'user_unauthorized');

    // Errors.
    await checkFailure('error.rowNotFound', tablesDB.getRow({ ...where, rowId: 'no-such-row' }), 404, 'row_not_found');
    await checkFailure('error.duplicate', tablesDB.createRow({ ...where, rowId: ids.Dune, data: { name: 'Again' } }), 409, 'row_already_exists');
    await checkFailure('error.invalidStructure', tablesDB.createRow({ ...where, rowId: ID.unique(), data: { name: 'X', stock: 'many' } }), 400, 'row_invalid_structure');
    await checkFailure('error.unknownColumnQuery', tablesDB.listRows({ ...where, queries: [Query.equal('nope', ['x'])] }), 400, 'general_query_invalid');
    await checkFailure('error.tableNotFound', tablesDB.getTable({ databaseId, tableId: 'no-such-table' }), 404, 'table_not_found');
    await checkFailure('error.wrongKey', new sdk.TablesDB(client(`standard_nope_${'0'.repeat(64)}`)).list(), 401, 'user_unauthorized');
    await checkFailure('error.wrongProject', new sdk.TablesDB(client(KEY, 'no-such-project')).list(), 404, 'project_not_found');
    // This SDK has no vectorsDB service: its route, through the SDK's client.
    await checkFailure('error.notImplemented', client(KEY).call('post', new URL(`${ENDPOINT}/vectorsdb/embeddings/text`), { 'content-type': 'application/json' }, { texts: ['a sentence to embed'] }), 405, 'general_not_implemented');
    if (NARROW_KEY) {
        const narrow = new sdk.TablesDB(client(NARROW_KEY));
        const readable = await narrow.getRow({ ...where, rowId: ids.Go });
        check('narrow.read', readable.name, 'Go');
        await checkFailure('narrow.write', narrow.createRow({ ...where, rowId: ID.unique(), data: { name: 'Nope' } }), 401, 'general_unauthorized_scope');
    }

    // Health.
    const health = new sdk.Health(client(KEY));
    const status = await health.get();
    const db = await health.getDB();
    const queue = await health.getQueueWebhooks();
    check('health', { status: status.status, db: db.statuses.map((item) => item.status), queue: queue.size }, { status: 'pass', db: ['pass'], queue: 0 });

    // Deleting.
    const deleted = await tablesDB.deleteRow({ ...where, rowId: lamp.$id });
    await checkFailure('delete.row', tablesDB.getRow({ ...where, rowId: lamp.$id }), 404, 'row_not_found');
    check('delete.rowAnswer', deleted, { message: '' });
    await tablesDB.deleteTable(where);
    await checkFailure('delete.table', tablesDB.getTable(where), 404, 'table_not_found');
    await tablesDB.delete({ databaseId });
    await checkFailure('delete.database', tablesDB.get({ databaseId }), 404, 'database_not_found');
}

async function main() {
    if (!ENDPOINT || !KEY) {
        process.stderr.write('ENDPOINT and KEY must be set\n');
        process.exit(2);
    }
    try {
        await scenario();
    } catch (error) {
        const detail = error instanceof sdk.AppwriteException ? ` (${error.code} ${error.type})` : '';
        mismatches.push(`the scenario stopped: ${error && error.stack}${detail}`);
    }
    process.stdout.write(`${JSON.stringify({ checks, mismatches })}\n`);
    for (const mismatch of mismatches) process.stderr.write(`MISMATCH ${mismatch}\n`);
    process.exitCode = mismatches.length ? 1 : 0;
}

main();
