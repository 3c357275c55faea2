// The official web SDK's realtime client (appwrite, two versions pinned in package.json as npm aliases) against an
// Appwrite endpoint's /v1/realtime, in Node with `ws` as the browser's WebSocket.
//
// Usage: node scenario.js <appwrite18|appwrite19> [scenario ...]   (default: every scenario), or
//        node scenario.js <appwrite18|appwrite19> --reconnect      (see reconnect() below).
// Environment: ENDPOINT (e.g. http://127.0.0.1:8080/v1), PROJECT, KEY (an API key with the database, table, column,
// row and users scopes). The key is only used by plain fetch() calls that set things up and write rows; everything
// realtime goes through the SDK's Realtime service, as users signed in through REST (email and password).
//
// appwrite18 (23.0.0, the last release for Appwrite 1.8.x) puts channels and per-subscription queries in the connect
// URL and reconnects when they change; appwrite19 (26.2.0, for 1.9.x) connects with the project only and sends
// subscribe/unsubscribe messages. Both send {"type":"authentication"} with the session once connected.
//
// Each scenario records what it observed with report.check(label, actual, expected). Prints one JSON object:
// {"sdk": "appwrite X", "scenarios": {name: {"checks": {...}, "mismatches": [...], "error": str|null,
// "frames": [...]}}}; "frames" (what went over each socket) is there only when the scenario failed.
// tests/rest/test_realtime_web_sdk.py runs it and asserts.
'use strict';

const fs = require('fs');
const path = require('path');
const readline = require('readline');
const WebSocketClient = require('ws');

const SDKS = ['appwrite18', 'appwrite19'];
const [sdkName, ...names] = process.argv.slice(2);
if (!SDKS.includes(sdkName)) {
    process.stderr.write(`usage: node scenario.js <${SDKS.join('|')}> [scenario ... | --reconnect]\n`);
    process.exit(2);
}

const ENDPOINT = process.env.ENDPOINT;
const PROJECT = process.env.PROJECT || 'default';
const KEY = process.env.KEY;
const COOKIE = `a_session_${PROJECT}`;
// Long enough for an event to cross a loopback socket many times over: what has not come by then is not coming.
const QUIET_MS = 700;
const WAIT_MS = 15000;

// What a browser gives the SDK and Node 20 does not: `window` (its timers and localStorage) and WebSocket. The
// WebSocket records every connection and the frames each one sent and received.
class MemoryStorage {
    constructor() {
        this.items = new Map();
    }

    getItem(key) {
        return this.items.has(key) ? this.items.get(key) : null;
    }

    setItem(key, value) {
        this.items.set(key, String(value));
    }

    removeItem(key) {
        this.items.delete(key);
    }
}

const connections = [];

function frame(data) {
    try {
        return JSON.parse(String(data));
    } catch {
        return { unparsed: String(data) };
    }
}

class RecordingWebSocket extends WebSocketClient {
    constructor(url, ...rest) {
        super(url, ...rest);
        this.record = { url: String(url), sent: [], received: [], closed: null };
        connections.push(this.record);
        this.addEventListener('message', (event) => this.record.received.push(frame(event.data)));
        this.addEventListener('close', (event) => { this.record.closed = event.code; });
    }

    send(data, ...rest) {
        this.record.sent.push(frame(data));
        return super.send(data, ...rest);
    }
}

globalThis.window = globalThis;
globalThis.localStorage = new MemoryStorage();
globalThis.WebSocket = RecordingWebSocket;
// The SDK logs its reconnects on stdout, which carries the report: send them to stderr.
console.log = console.error;

const sdk = require(sdkName);
const { version } = JSON.parse(fs.readFileSync(path.join(path.dirname(require.resolve(sdkName)), '..', '..', 'package.json')));
const { Channel, Client, ID, Query, Realtime } = sdk;
// appwrite19 subscribes over an open socket; appwrite18 opens a new one whenever its subscriptions change.
const MESSAGE_MODE = sdkName === 'appwrite19';

class Report {
    constructor() {
        this.checks = {};
        this.mismatches = [];
    }

    check(label, actual, expected) {
        this.checks[label] = actual;
        const want = JSON.stringify(expected);
        if (JSON.stringify(actual) !== want) {
            this.mismatches.push(`${label}: expected ${want}, got ${JSON.stringify(actual)}`);
        }
    }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(what, test, ms = WAIT_MS) {
    const deadline = Date.now() + ms;
    while (!test()) {
        if (Date.now() > deadline) {
            throw new Error(`timed out after ${ms} ms waiting for ${what}`);
        }
        await sleep(20);
    }
}

// ---- REST, with the server key or as a user ------------------------------------------------------------------

async function rest(method, apiPath, body, headers = {}) {
    const response = await fetch(`${ENDPOINT}${apiPath}`, {
        method,
        headers: { 'X-Appwrite-Project': PROJECT, 'content-type': 'application/json', ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) {
        throw new Error(`${method} ${apiPath}: ${response.status} ${text}`);
    }
    return { headers: response.headers, json: text ? JSON.parse(text) : null };
}

const admin = async (method, apiPath, body) => (await rest(method, apiPath, body, { 'X-Appwrite-Key': KEY })).json;

// A new database with a table `tasks` (title, status) readable by `readers`, without row security.
async function newTable(readers) {
    const databaseId = ID.unique();
    await admin('POST', '/tablesdb', { databaseId, name: 'Realtime' });
    const tableId = 'tasks';
    const base = `/tablesdb/${databaseId}/tables`;
    await admin('POST', base, {
        tableId, name: 'Tasks', rowSecurity: false, permissions: readers.map((role) => `read("${role}")`),
    });
    for (const key of ['title', 'status']) {
        await admin('POST', `${base}/${tableId}/columns/string`, { key, size: 50, required: false });
    }
    const rows = `${base}/${tableId}/rows`;
    return {
        databaseId,
        tableId,
        channel: `databases.${databaseId}.tables.${tableId}.rows`,
        create: (data, rowId = ID.unique()) => admin('POST', rows, { rowId, data }),
        update: (rowId, data) => admin('PATCH', `${rows}/${rowId}`, { data }),
        remove: (rowId) => admin('DELETE', `${rows}/${rowId}`),
    };
}

// A new user signed in with email and password through REST: their id, and their session as the web SDK keeps it
// when the API is on another site (the X-Fallback-Cookies answer, which it stores in localStorage.cookieFallback).
async function newUser(name) {
    const userId = ID.unique();
    const email = `${name}-${userId}@example.com`;
    const password = 'correct horse battery';
    await admin('POST', '/users', { userId, email, password, name });
    const { headers } = await rest('POST', '/account/sessions/email', { email, password });
    const cookieFallback = headers.get('x-fallback-cookies');
    const secret = JSON.parse(cookieFallback || '{}')[COOKIE];
    if (!secret) {
        throw new Error(`signing ${name} in gave no ${COOKIE} in X-Fallback-Cookies: ${cookieFallback}`);
    }
    return { userId, secret, cookieFallback };
}

// ---- the SDK ---------------------------------------------------------------------------------------------------

// A realtime client signed in as `user`: through localStorage.cookieFallback (what a browser on another site has,
// the only such client at a time) or through Client.setSession.
class Subscriber {
    constructor(user, via) {
        const client = new Client().setEndpoint(ENDPOINT).setProject(PROJECT);
        if (via === 'localStorage') {
            localStorage.setItem('cookieFallback', user.cookieFallback);
        } else {
            client.setSession(user.secret);
        }
        this.user = user;
        this.realtime = new Realtime(client);
        this.subscriptions = [];
    }

    // Subscribes; its `events` collect what the callback was given.
    async subscribe(channels, queries = []) {
        const events = [];
        const handle = await this.realtime.subscribe(channels, (message) => events.push(message), queries);
        const subscription = { events, close: () => handle.close() };
        this.subscriptions.push(subscription);
        return subscription;
    }

    get record() {
        return this.realtime.socket && this.realtime.socket.record;
    }

    // Once the server has answered everything the SDK sent on its socket: connected, and a response to each
    // authentication, subscribe and unsubscribe message.
    async settled() {
        await until('the socket to settle (a response to every message)', () => {
            const record = this.record;
            if (!record || !record.received.some((message) => message.type === 'connected')) {
                return false;
            }
            const asked = record.sent.filter((message) => message.type !== 'ping').map((message) => message.type);
            const answered = record.received.filter((message) => message.type === 'response').map((message) => message.data.to);
            return asked.every((type) => answered.filter((to) => to === type).length >= asked.filter((t) => t === type).length);
        });
        const failed = this.record.received.filter((message) => message.type === 'response' && !message.data.success);
        if (failed.length) {
            throw new Error(`the server refused: ${JSON.stringify(failed)}`);
        }
    }

    // The user the server said the last authentication on the current socket was for.
    authenticatedAs() {
        const answers = this.record.received.filter((message) => message.type === 'response' && message.data.to === 'authentication');
        return answers.length ? answers[answers.length - 1].data.user.$id : null;
    }

    async close() {
        for (const subscription of this.subscriptions.splice(0)) {
            await subscription.close();
        }
    }
}

// The specific event name of a row event (databases.D.tables.T.rows.R.<action>), or what it was if none.
function rowEvent(table, message) {
    const prefix = `databases.${table.databaseId}.tables.${table.tableId}.rows.`;
    return message.events.find((name) => name.startsWith(prefix) && name.split('.').length === 7) || message.events;
}

const summary = (table, messages) => messages.map((message) => [rowEvent(table, message), message.payload.status]);

// ---- scenarios -------------------------------------------------------------------------------------------------

const SCENARIOS = {
    // A signed-in user subscribed to a table's rows gets its rows' create, update and delete, with Appwrite's event
    // names, channels and the row as payload; a Channel helper's action channel gets the creates only.
    async events(report, track) {
        const table = await newTable(['users']);
        const alice = track(new Subscriber(await newUser('alice'), 'localStorage'));
        const rows = await alice.subscribe(table.channel);
        const creates = await alice.subscribe(Channel.database(table.databaseId).table(table.tableId).row().create());
        await alice.settled();
        report.check('authentication', alice.record.sent.find((message) => message.type === 'authentication'),
            { type: 'authentication', data: { session: alice.user.secret } });
        report.check('authenticatedAs', alice.authenticatedAs(), alice.user.userId);

        const rowId = ID.unique();
        await table.create({ title: 'first', status: 'open' }, rowId);
        await until('the create', () => rows.events.length === 1);
        await table.update(rowId, { status: 'done' });
        await until('the update', () => rows.events.length === 2);
        await table.remove(rowId);
        await until('the delete', () => rows.events.length === 3);
        await sleep(QUIET_MS);

        const base = `databases.${table.databaseId}.tables.${table.tableId}.rows`;
        const actions = ['create', 'update', 'delete'];
        report.check('events', rows.events.map((message) => rowEvent(table, message)), actions.map((action) => `${base}.${rowId}.${action}`));
        report.check('wildcards', rows.events.map((message) => message.events.includes(`databases.*.tables.*.rows.*.${actions[rows.events.indexOf(message)]}`)),
            [true, true, true]);
        report.check('channels', rows.events.map((message) => [base, `${base}.${rowId}`, 'rows'].every((channel) => message.channels.includes(channel))),
            [true, true, true]);
        report.check('payloads', rows.events.map(({ payload }) => [payload.$id, payload.$tableId, payload.$databaseId, payload.title, payload.status]),
            actions.map((_action, n) => [rowId, table.tableId, table.databaseId, 'first', n ? 'done' : 'open']));
        report.check('timestamps', rows.events.map((message) => typeof message.timestamp === 'string' && !Number.isNaN(Date.parse(message.timestamp))),
            [true, true, true]);
        report.check('creates', creates.events.map((message) => rowEvent(table, message)), [`${base}.${rowId}.create`]);
        report.check('createsChannel', creates.events.map((message) => message.channels.includes(`${base}.create`)), [true]);
    },

    // A user without read permission on the table gets none of its rows' events, though the same subscription gets
    // those of a table they can read (and the server sends them no frame for the other).
    async permissions(report, track) {
        const alice = await newUser('alice');
        const aliceOnly = await newTable([`user:${alice.userId}`]);
        const everyone = await newTable(['users']);
        const channels = [aliceOnly.channel, everyone.channel];
        const asAlice = track(new Subscriber(alice, 'localStorage'));
        const asBob = track(new Subscriber(await newUser('bob'), 'session'));
        const [aliceGets, bobGets] = [await asAlice.subscribe(channels), await asBob.subscribe(channels)];
        await asAlice.settled();
        await asBob.settled();
        report.check('bobAuthentication', asBob.record.sent.find((message) => message.type === 'authentication'),
            { type: 'authentication', data: { session: asBob.user.secret } });

        const secret = await aliceOnly.create({ title: 'secret', status: 'private' });
        const shared = await everyone.create({ title: 'shared', status: 'public' });
        await until('alice to get both rows', () => aliceGets.events.length === 2);
        await until('bob to get the shared row', () => bobGets.events.length >= 1);
        await sleep(QUIET_MS);
        report.check('alice', aliceGets.events.map((message) => message.payload.$id), [secret.$id, shared.$id]);
        report.check('bob', bobGets.events.map((message) => message.payload.$id), [shared.$id]);
        const bobFrames = asBob.record.received.filter((message) => message.type === 'event');
        report.check('bobFrames', bobFrames.map((message) => message.data.payload.$id), [shared.$id]);
    },

    // A subscription with queries gets only the events whose row matches them; one without, on the same socket,
    // gets them all.
    async queries(report, track) {
        const table = await newTable(['users']);
        const alice = track(new Subscriber(await newUser('alice'), 'localStorage'));
        const open = await alice.subscribe(table.channel, [Query.equal('status', ['open'])]);
        const all = await alice.subscribe(table.channel);
        await alice.settled();

        const [a, b, c] = [ID.unique(), ID.unique(), ID.unique()];
        await table.create({ title: 'a', status: 'open' }, a);
        await table.create({ title: 'b', status: 'closed' }, b);
        await table.create({ title: 'c', status: 'open' }, c);
        await table.update(b, { status: 'open' });
        await table.update(a, { status: 'closed' });
        await until('every event', () => all.events.length === 5);
        await sleep(QUIET_MS);
        const base = `databases.${table.databaseId}.tables.${table.tableId}.rows`;
        report.check('all', summary(table, all.events), [
            [`${base}.${a}.create`, 'open'], [`${base}.${b}.create`, 'closed'], [`${base}.${c}.create`, 'open'],
            [`${base}.${b}.update`, 'open'], [`${base}.${a}.update`, 'closed'],
        ]);
        report.check('open', summary(table, open.events), [
            [`${base}.${a}.create`, 'open'], [`${base}.${c}.create`, 'open'], [`${base}.${b}.update`, 'open'],
        ]);
    },

    // Closing a subscription stops its events; the other one on the socket still gets them; closing the last one
    // closes the socket.
    async unsubscribe(report, track) {
        const table = await newTable(['users']);
        const alice = track(new Subscriber(await newUser('alice'), 'localStorage'));
        const kept = await alice.subscribe(table.channel);
        const dropped = await alice.subscribe(table.channel);
        await alice.settled();
        const first = await table.create({ title: 'first', status: 'open' });
        await until('both to get the first row', () => kept.events.length === 1 && dropped.events.length === 1);

        await dropped.close();
        await alice.settled();
        const socket = alice.realtime.socket;
        const record = socket.record;
        const unsubscribed = record.sent.filter((message) => message.type === 'unsubscribe');
        report.check('unsubscribeSent', unsubscribed.length, MESSAGE_MODE ? 1 : 0);
        const second = await table.create({ title: 'second', status: 'open' });
        await until('the kept subscription to get the second row', () => kept.events.length === 2);
        await sleep(QUIET_MS);
        report.check('kept', kept.events.map((message) => message.payload.$id), [first.$id, second.$id]);
        report.check('dropped', dropped.events.map((message) => message.payload.$id), [first.$id]);
        if (MESSAGE_MODE) {
            // The server itself stops: the second row's frame names only the kept subscription.
            const droppedId = unsubscribed[0].data[0].subscriptionId;
            const frames = record.received.filter((message) => message.type === 'event' && message.data.payload.$id === second.$id);
            report.check('secondFrame', frames.map((message) => message.data.subscriptions.includes(droppedId)), [false]);
        }

        await kept.close();
        alice.subscriptions.length = 0;
        await until('the socket to close', () => socket.readyState === WebSocketClient.CLOSED, 5000);
        report.check('closed', socket.readyState, WebSocketClient.CLOSED);
    },

    // Subscriptions made together share one socket; an event two of them match comes once, in one frame naming both,
    // and the SDK hands it to each.
    async multiplex(report, track) {
        const first = await newTable(['users']);
        const second = await newTable(['users']);
        const alice = track(new Subscriber(await newUser('alice'), 'localStorage'));
        const opened = connections.length;
        const rowId = ID.unique();
        const [firstRows, secondRows, oneRow] = await Promise.all([
            alice.subscribe(first.channel),
            alice.subscribe(second.channel),
            alice.subscribe(`${first.channel}.${rowId}`),
        ]);
        await alice.settled();
        let later = null;
        if (MESSAGE_MODE) {
            later = await alice.subscribe(Channel.database(second.databaseId).table(second.tableId).row().create());
            await alice.settled();
        }
        report.check('connections', connections.length - opened, 1);

        await first.create({ title: 'one', status: 'open' }, rowId);
        const other = await second.create({ title: 'two', status: 'open' });
        await until('every subscription to get its row',
            () => firstRows.events.length && secondRows.events.length && oneRow.events.length && (!later || later.events.length));
        await sleep(QUIET_MS);
        report.check('firstRows', firstRows.events.map((message) => message.payload.$id), [rowId]);
        report.check('secondRows', secondRows.events.map((message) => message.payload.$id), [other.$id]);
        report.check('oneRow', oneRow.events.map((message) => message.payload.$id), [rowId]);
        if (later) {
            report.check('later', later.events.map((message) => message.payload.$id), [other.$id]);
        }
        const frames = alice.record.received.filter((message) => message.type === 'event');
        report.check('frames', frames.map((message) => [message.data.payload.$id, message.data.subscriptions.length]),
            [[rowId, 2], [other.$id, later ? 2 : 1]]);
    },
};

// ---- running ---------------------------------------------------------------------------------------------------

async function run(name) {
    const report = new Report();
    const subscribers = [];
    const track = (subscriber) => {
        subscribers.push(subscriber);
        return subscriber;
    };
    const opened = connections.length;
    let error = null;
    try {
        await SCENARIOS[name](report, track);
    } catch (caught) {
        error = String((caught && caught.stack) || caught);
    }
    for (const subscriber of subscribers) {
        await subscriber.close().catch(() => {});
    }
    localStorage.removeItem('cookieFallback');
    const result = { checks: report.checks, mismatches: report.mismatches, error };
    if (error || report.mismatches.length) {
        result.frames = connections.slice(opened);
    }
    return result;
}

function finish(document, failed) {
    process.stdout.write(`${JSON.stringify(document)}\n`, () => process.exit(failed ? 1 : 0));
}

async function main() {
    const chosen = names.length ? names : Object.keys(SCENARIOS);
    const unknown = chosen.filter((name) => !(name in SCENARIOS));
    if (unknown.length) {
        process.stderr.write(`unknown scenarios: ${unknown.join(', ')}\n`);
        process.exit(2);
    }
    const reports = {};
    for (const name of chosen) {
        reports[name] = await run(name);
    }
    const failed = chosen.filter((name) => reports[name].mismatches.length || reports[name].error);
    for (const name of failed) {
        process.stderr.write(`${name}: ${JSON.stringify(reports[name].mismatches)} ${reports[name].error || ''}\n`);
    }
    finish({ sdk: `appwrite ${version}`, scenarios: reports }, failed.length);
}

// --reconnect: subscribes alice to a table only she can read and, once her first row's event has come, prints
// {"subscribed": true}; the driver then kills the server, starts it again on the same port and writes a line on
// stdin. From then on it writes a row every QUIET_MS until one's event comes (the SDK reconnects with its backoff
// and authenticates again), then prints the report as the "reconnect" scenario.
async function reconnect() {
    const lines = readline.createInterface({ input: process.stdin });
    const restarted = new Promise((resolve) => lines.once('line', resolve));
    const report = new Report();
    let error = null;
    let alice = null;
    try {
        const user = await newUser('alice');
        const table = await newTable([`user:${user.userId}`]);
        alice = new Subscriber(user, 'localStorage');
        const rows = await alice.subscribe(table.channel);
        await alice.settled();
        const before = await table.create({ title: 'before', status: 'open' });
        await until('the first row', () => rows.events.length === 1);
        process.stdout.write(`${JSON.stringify({ subscribed: true })}\n`);
        await restarted;

        const written = [];
        const deadline = Date.now() + 60000;
        while (rows.events.length < 2 && Date.now() < deadline) {
            written.push((await table.create({ title: 'after', status: 'open' })).$id);
            await sleep(QUIET_MS);
        }
        report.check('before', rows.events[0].payload.$id, before.$id);
        report.check('afterRestart', rows.events.length >= 2 && written.includes(rows.events[1].payload.$id), true);
        report.check('reconnected', connections.length >= 2 && connections[0].closed !== null, true);
        await alice.settled();
        report.check('authenticatedAgain', alice.authenticatedAs(), user.userId);
    } catch (caught) {
        error = String((caught && caught.stack) || caught);
    }
    if (alice) {
        await alice.close().catch(() => {});
    }
    const result = { checks: report.checks, mismatches: report.mismatches, error };
    if (error || report.mismatches.length) {
        result.frames = connections;
    }
    finish({ sdk: `appwrite ${version}`, scenarios: { reconnect: result } }, error || report.mismatches.length);
}

(names[0] === '--reconnect' ? reconnect() : main());
