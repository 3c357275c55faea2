// The scenario, run inside the page: a user signs up and in, works with rows and a file, takes a JWT and signs
// out, all through the web SDK (the global `Appwrite` from the SDK's browser build). The page's origin is not the
// API's, so every call is cross-origin, and the API's session cookie cannot be kept: the SDK keeps the session
// from the X-Fallback-Cookies header in localStorage (`cookieFallback`) and sends it back with every call.
//
// window.runScenario(config) returns {label: what was observed}; the assertions are in tests/rest/test_web_sdk.py.
// config: endpoint, project, userId, password, databaseId, tableId, bucketId, pngBase64.
// window.apiCookies() (provided by run.js) lists the names of the cookies the browser keeps for the API.
'use strict';

window.runScenario = async function runScenario(config) {
    const { Client, Account, TablesDB, Storage, ID, Query, Permission, Role, AppwriteException } = window.Appwrite;
    const checks = {};
    const fallback = () => window.localStorage.getItem('cookieFallback');

    async function failure(promise) {
        try {
            return { resolved: await promise };
        } catch (error) {
            if (!(error instanceof AppwriteException)) {
                throw error;
            }
            return { code: error.code, type: error.type };
        }
    }

    // Runs `call` with the stored session taken away from the SDK, then puts it back.
    async function withoutFallback(call) {
        const kept = fallback();
        window.localStorage.removeItem('cookieFallback');
        try {
            return await call();
        } finally {
            window.localStorage.setItem('cookieFallback', kept);
        }
    }

    const client = new Client().setEndpoint(config.endpoint).setProject(config.project);
    const account = new Account(client);
    const email = `${config.userId}@example.com`;

    const user = await account.create({ userId: config.userId, email, password: config.password, name: 'Web Tester' });
    checks['account.create'] = { id: user.$id, email: user.email, name: user.name, status: user.status };
    checks['fallback.beforeSignIn'] = fallback();

    const session = await account.createEmailPasswordSession({ email, password: config.password });
    checks['session'] = { userId: session.userId, current: session.current, provider: session.provider, secret: session.secret };
    const stored = JSON.parse(fallback());
    const cookieName = `a_session_${config.project}`;
    checks['fallback.afterSignIn'] = {
        keys: Object.keys(stored),
        holdsTheSession: typeof stored[cookieName] === 'string' && stored[cookieName].length > 20,
    };
    checks['cookies.afterSignIn'] = await window.apiCookies();

    const me = await account.get();
    checks['account.get'] = { id: me.$id, email: me.email, name: me.name };
    checks['account.get.withoutFallback'] = await withoutFallback(() => failure(account.get()));

    const tables = new TablesDB(client);
    const mine = [Permission.read(Role.user(me.$id)), Permission.update(Role.user(me.$id)), Permission.delete(Role.user(me.$id))];
    const where = { databaseId: config.databaseId, tableId: config.tableId };
    const row = await tables.createRow({ ...where, rowId: ID.unique(), data: { title: 'From the browser', n: 7 }, permissions: mine });
    checks['tablesDB.createRow'] = {
        title: row.title,
        n: row.n,
        tableId: row.$tableId,
        permissions: row.$permissions.map((permission) => permission.replace(me.$id, 'ME')),
    };
    await tables.createRow({ ...where, rowId: ID.unique(), data: { title: 'And another', n: 3 }, permissions: mine });
    const listed = await tables.listRows({ ...where, queries: [Query.orderAsc('n')] });
    checks['tablesDB.listRows'] = { total: listed.total, titles: listed.rows.map((item) => item.title) };
    checks['tablesDB.listRows.withoutFallback'] = await withoutFallback(async () => {
        const seen = await tables.listRows({ ...where });
        return { total: seen.total };
    });

    const bytes = Uint8Array.from(window.atob(config.pngBase64), (char) => char.charCodeAt(0));
    const storage = new Storage(client);
    const file = await storage.createFile({
        bucketId: config.bucketId,
        fileId: ID.unique(),
        file: new File([bytes], 'pixel.png', { type: 'image/png' }),
        permissions: [Permission.read(Role.user(me.$id))],
    });
    checks['storage.createFile'] = {
        name: file.name,
        mimeType: file.mimeType,
        sizeOriginal: file.sizeOriginal,
        chunks: [file.chunksTotal, file.chunksUploaded],
        permissions: file.$permissions.map((permission) => permission.replace(me.$id, 'ME')),
    };
    const viewUrl = new URL(storage.getFileView({ bucketId: config.bucketId, fileId: file.$id }));
    checks['getFileView.url'] = {
        path: viewUrl.pathname.endsWith(`/storage/buckets/${config.bucketId}/files/${file.$id}/view`),
        project: viewUrl.searchParams.get('project'),
    };
    // An <img> cannot send the stored session; fetch can, as the SDK does.
    const viewed = await fetch(viewUrl, { credentials: 'include', headers: { 'X-Fallback-Cookies': fallback() } });
    const body = new Uint8Array(await viewed.arrayBuffer());
    checks['getFileView.fetch'] = {
        status: viewed.status,
        contentType: viewed.headers.get('content-type'),
        sameBytes: body.length === bytes.length && body.every((value, index) => value === bytes[index]),
    };
    const image = await new Promise((resolve) => {
        const element = new Image();
        element.onload = () => resolve({ loaded: true, width: element.naturalWidth, height: element.naturalHeight });
        element.onerror = () => resolve({ loaded: false });
        element.src = URL.createObjectURL(new Blob([body], { type: viewed.headers.get('content-type') }));
    });
    checks['getFileView.image'] = image;
    // Without the session (and past the browser's cache, which keeps the private answer above), a guest may not.
    const asGuest = await fetch(viewUrl, { cache: 'no-store' });
    const guestType = asGuest.headers.get('content-type') || '';
    checks['getFileView.guest'] = {
        status: asGuest.status,
        type: guestType.includes('json') ? (await asGuest.json()).type : guestType,
    };

    const jwt = await account.createJWT();
    checks['account.createJWT'] = { parts: jwt.jwt.split('.').length };
    const byJwt = new Account(new Client().setEndpoint(config.endpoint).setProject(config.project).setJWT(jwt.jwt));
    // The SDK sends the stored session with every call: with a JWT too, the API refuses both, as Appwrite does.
    checks['jwt.withTheSession'] = await failure(byJwt.get());
    checks['jwt.get'] = await withoutFallback(async () => {
        const found = await byJwt.get();
        return { sameUser: found.$id === me.$id };
    });

    const ended = await account.deleteSession({ sessionId: 'current' });
    checks['account.deleteSession'] = { answer: ended, fallback: fallback() };
    checks['account.get.afterSignOut'] = await failure(account.get());
    checks['cookies.afterSignOut'] = await window.apiCookies();
    return checks;
};
