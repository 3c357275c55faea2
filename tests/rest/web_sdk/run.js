// The official web SDK (appwrite, its browser build) in headless Chromium against an Appwrite-compatible endpoint.
//
// Serves page/ and the SDK from a loopback origin of its own (http://localhost:<port>, another site than the API's
// 127.0.0.1, so every call is cross-origin and the API's cookie cannot be kept), opens it in the system's Chromium
// through playwright-core (no browser is downloaded) and runs page/scenario.js there.
//
// Environment: ENDPOINT (e.g. http://127.0.0.1:8080/v1), PROJECT, USER_ID, PASSWORD, DATABASE, TABLE, BUCKET,
// PNG_BASE64, and CHROMIUM (default /usr/bin/chromium).
// Prints one JSON object to stdout: {"pageOrigin", "checks": {label: observed value}, "console": [...]}.
'use strict';

const fs = require('fs');
const http = require('http');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

const FILES = {
    '/': [path.join(__dirname, 'page', 'index.html'), 'text/html; charset=utf-8'],
    '/scenario.js': [path.join(__dirname, 'page', 'scenario.js'), 'text/javascript; charset=utf-8'],
    '/sdk.js': [
        path.join(path.dirname(require.resolve('appwrite/package.json')), 'dist', 'iife', 'sdk.js'),
        'text/javascript; charset=utf-8',
    ],
};
// Chromium as it runs on a machine without a display, offline and as root.
const FLAGS = [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

function servePage() {
    const server = http.createServer((request, response) => {
        const found = FILES[new URL(request.url, 'http://page').pathname];
        if (!found) {
            response.writeHead(404).end();
            return;
        }
        response.writeHead(200, { 'content-type': found[1] }).end(fs.readFileSync(found[0]));
    });
    return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

async function main() {
    const endpoint = process.env.ENDPOINT;
    const server = await servePage();
    const pageOrigin = `http://localhost:${server.address().port}`;
    const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'baas-mcp-chromium-'));
    const browser = await chromium.launchPersistentContext(profile, {
        executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
        headless: true,
        args: FLAGS,
    });
    const messages = [];
    try {
        const page = browser.pages()[0] || (await browser.newPage());
        page.on('console', (message) => messages.push(`${message.type()}: ${message.text()}`));
        page.on('pageerror', (error) => messages.push(`pageerror: ${error.message}`));
        await page.exposeFunction('apiCookies', async () =>
            (await browser.cookies(new URL(endpoint).origin)).map((cookie) => cookie.name));
        await page.goto(`${pageOrigin}/`);
        const checks = await page.evaluate((config) => window.runScenario(config), {
            endpoint,
            project: process.env.PROJECT || 'default',
            userId: process.env.USER_ID,
            password: process.env.PASSWORD,
            databaseId: process.env.DATABASE,
            tableId: process.env.TABLE,
            bucketId: process.env.BUCKET,
            pngBase64: process.env.PNG_BASE64,
        });
        process.stdout.write(JSON.stringify({ pageOrigin, checks, console: messages }));
    } finally {
        await browser.close();
        server.close();
        fs.rmSync(profile, { recursive: true, force: true });
    }
}

main().catch((error) => {
    process.stderr.write(`${error && error.stack}\n`);
    process.exit(1);
});
