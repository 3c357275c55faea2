// Runs one Appwrite function execution in Node, the way open-runtimes' Node runtime does.
//
// Usage: node node_shim.js <result fd>. The request comes as JSON on stdin ({method, url, headers, body (base64),
// entrypoint}); the user's module (CommonJS or ESM) is loaded from the current directory, its exported function
// (default or module.exports) is awaited with `context`, and the response JSON ({statusCode, headers, body (base64),
// logs, errors}) is written to the result fd. console.* output is collected into the logs, never onto the protocol.
"use strict";

const fs = require("fs");
const path = require("path");
const { pathToFileURL } = require("url");

const MAX_MESSAGE = 8000;
const MAX_LOGS = 1024 * 1024;

const streams = { log: [], error: [] };
const sizes = { log: 0, error: 0 };
let nativeSeen = false;

function write(messages, kind, native) {
  if (native && !nativeSeen) {
    nativeSeen = true;
    write(["Native logs detected. Use context.log() or context.error() for better experience."], "log", false);
  }
  let text = messages
    .map((message) => {
      if (message instanceof Error) return message.stack || String(message);
      if (typeof message === "string") return message;
      try {
        return JSON.stringify(message);
      } catch {
        return String(message);
      }
    })
    .join(" ");
  if (text.length > MAX_MESSAGE) {
    text = text.substring(0, MAX_MESSAGE) + "... Log truncated due to size limit (8000 characters)";
  }
  if (sizes[kind] + text.length > MAX_LOGS) return;
  sizes[kind] += text.length + 1;
  streams[kind].push(text + "\n");
}

function buildRequest(request) {
  const headers = {};
  for (const key of Object.keys(request.headers)) {
    if (!key.toLowerCase().startsWith("x-open-runtimes-")) headers[key.toLowerCase()] = request.headers[key];
  }
  const contentType = (headers["content-type"] ?? "text/plain").toLowerCase();
  const bodyBinary = Buffer.from(request.body, "base64");
  const scheme = headers["x-forwarded-proto"] ?? "http";
  const defaultPort = scheme === "https" ? "443" : "80";
  const hostHeader = headers["host"] ?? "";
  const host = hostHeader.includes(":") ? hostHeader.split(":")[0] : hostHeader;
  const port = +(hostHeader.includes(":") ? hostHeader.split(":")[1] : defaultPort);
  const urlPath = request.url.includes("?") ? request.url.split("?")[0] : request.url;
  const queryString = request.url.includes("?") ? request.url.split("?")[1] : "";
  const query = {};
  for (const param of queryString.split("&")) {
    const [key, ...valueArr] = param.split("=");
    if (key) query[key] = valueArr.join("=") ?? "";
  }
  const portPart = port.toString() === defaultPort ? "" : `:${port}`;
  const url = `${scheme}://${host}${portPart}${urlPath}${queryString === "" ? "" : `?${queryString}`}`;
  return {
    get body() {
      if (contentType.startsWith("application/json")) {
        return this.bodyBinary && this.bodyBinary.length > 0 ? this.bodyJson : {};
      }
      return this.bodyText;
    },
    get bodyRaw() {
      return this.bodyText;
    },
    get bodyText() {
      return this.bodyBinary.toString();
    },
    get bodyJson() {
      return JSON.parse(this.bodyText);
    },
    get bodyBinary() {
      return bodyBinary;
    },
    headers,
    method: request.method,
    host,
    scheme,
    query,
    queryString,
    port,
    url,
    path: urlPath,
  };
}

const res = {
  send: function (body, statusCode = 200, headers = {}) {
    return { body: body, statusCode: statusCode, headers: headers };
  },
  text: function (body, statusCode = 200, headers = {}) {
    return this.binary(Buffer.from(body, "utf8"), statusCode, headers);
  },
  binary: function (bytes, statusCode = 200, headers = {}) {
    return { body: bytes, statusCode: statusCode, headers: headers };
  },
  json: function (obj, statusCode = 200, headers = {}) {
    headers["content-type"] = "application/json";
    return this.text(JSON.stringify(obj), statusCode, headers);
  },
  empty: function () {
    return this.text("", 204, {});
  },
  redirect: function (url, statusCode = 301, headers = {}) {
    headers["location"] = url;
    return this.text("", statusCode, headers);
  },
};

async function load(context, entrypoint) {
  const file = path.resolve(entrypoint);
  if (!fs.existsSync(file)) {
    context.error(`Failed to load entrypoint, file ${entrypoint} does not exist.`);
    return null;
  }
  try {
    let userFunction;
    try {
      userFunction = require(file);
    } catch (err) {
      if (err.code !== "ERR_REQUIRE_ESM") throw err;
      userFunction = await import(pathToFileURL(file).href);
    }
    const fn = userFunction.default || userFunction;
    if (typeof fn !== "function") {
      throw new TypeError("Function signature invalid. Did you forget to export a 'main' function?");
    }
    return fn;
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    if (e instanceof SyntaxError) context.error(`Syntax error in ${entrypoint}: ${message}`);
    else if (e instanceof TypeError) context.error(message);
    else context.error(`Failed to load module: ${message}`);
    return null;
  }
}

async function run(context, entrypoint) {
  const fn = await load(context, entrypoint);
  if (fn === null) return context.res.text("", 503, {});
  let output;
  try {
    output = await fn(context);
  } catch (e) {
    context.error((e && e.stack) || e);
    return context.res.text("", 500, {});
  }
  if (output === null || output === undefined) {
    context.error("Return statement missing. return context.res.empty() if no response is expected.");
    return context.res.text("", 500, {});
  }
  return output;
}

function encodeBody(body) {
  if (Buffer.isBuffer(body) || body instanceof Uint8Array) return Buffer.from(body);
  if (typeof body === "string") return Buffer.from(body, "utf8");
  return Buffer.from(JSON.stringify(body) ?? String(body), "utf8");
}

async function main() {
  const resultFd = Number(process.argv[2]);
  const request = JSON.parse(fs.readFileSync(0, "utf8"));
  const context = {
    req: buildRequest(request),
    res,
    log: (...messages) => write(messages, "log", false),
    error: (...messages) => write(messages, "error", false),
  };
  const native = (...args) => write(args, "log", true);
  console.log = console.info = console.debug = console.warn = console.error = native;
  let output = await run(context, request.entrypoint);
  if (typeof output !== "object") {
    context.error("Invalid response: the function must return context.res.*().");
    output = context.res.text("", 500, {});
  }
  const status = output.statusCode ?? 200;
  const headers = {};
  for (const [key, value] of Object.entries(output.headers ?? {})) headers[key] = String(value);
  fs.writeFileSync(
    resultFd,
    JSON.stringify({
      statusCode: Number.isInteger(status) ? status : 500,
      headers,
      body: encodeBody(output.body ?? "").toString("base64"),
      logs: streams.log.join(""),
      errors: streams.error.join(""),
    }),
  );
  fs.closeSync(resultFd);
  process.exit(0);
}

main();
