// Serves Appwrite function executions in Node, one at a time, the way open-runtimes' Node runtime does.
//
// Usage: node node_shim.js <request fd> <result fd>, with OPEN_RUNTIMES_ENTRYPOINT in the environment. Each request is
// a frame (4-byte big-endian length, then JSON {method, url, headers, body (base64), env}) read from the request fd;
// `env` holds the execution's own environment values, set for its duration. The user's module (CommonJS or ESM) is
// loaded once from the current directory and kept: module state persists between executions. Its exported function
// (default or module.exports) is awaited with `context`, and the response frame ({statusCode, headers, body (base64),
// logs, errors, cpu (seconds used by this process so far), reusable}) is written to the result fd. The execution's
// console.* output is collected into its logs, never onto the protocol. The process ends when the request pipe closes.
"use strict";

const fs = require("fs");
const net = require("net");
const path = require("path");
const { pathToFileURL } = require("url");

const MAX_MESSAGE = 8000;
const MAX_LOGS = 1024 * 1024;

let streams = { log: [], error: [] };
let sizes = { log: 0, error: 0 };
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

let loaded = null;
let loadFailed = false;

async function run(context, entrypoint) {
  if (loaded === null && !loadFailed) {
    loaded = await load(context, entrypoint);
    loadFailed = loaded === null;
  }
  if (loaded === null) return context.res.text("", 503, {});
  let output;
  try {
    output = await loaded(context);
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

async function execute(request, entrypoint) {
  streams = { log: [], error: [] };
  sizes = { log: 0, error: 0 };
  nativeSeen = false;
  Object.assign(process.env, request.env);
  const context = {
    req: buildRequest(request),
    res,
    log: (...messages) => write(messages, "log", false),
    error: (...messages) => write(messages, "error", false),
  };
  let output;
  try {
    output = await run(context, entrypoint);
  } finally {
    for (const key of Object.keys(request.env)) delete process.env[key];
  }
  if (typeof output !== "object") {
    context.error("Invalid response: the function must return context.res.*().");
    output = context.res.text("", 500, {});
  }
  const status = output.statusCode ?? 200;
  const headers = {};
  for (const [key, value] of Object.entries(output.headers ?? {})) headers[key] = String(value);
  const usage = process.cpuUsage();
  return {
    statusCode: Number.isInteger(status) ? status : 500,
    headers,
    body: encodeBody(output.body ?? "").toString("base64"),
    logs: streams.log.join(""),
    errors: streams.error.join(""),
    cpu: (usage.user + usage.system) / 1e6,
    reusable: !loadFailed,
  };
}

function send(resultFd, response) {
  const json = Buffer.from(JSON.stringify(response), "utf8");
  const frame = Buffer.alloc(4 + json.length);
  frame.writeUInt32BE(json.length, 0);
  json.copy(frame, 4);
  let written = 0;
  while (written < frame.length) written += fs.writeSync(resultFd, frame, written);
}

function main() {
  const requestFd = Number(process.argv[2]);
  const resultFd = Number(process.argv[3]);
  const entrypoint = process.env.OPEN_RUNTIMES_ENTRYPOINT ?? "";
  const native = (...args) => write(args, "log", true);
  console.log = console.info = console.debug = console.warn = console.error = native;
  const requests = new net.Socket({ fd: requestFd, readable: true, writable: false });
  let pending = Buffer.alloc(0);
  let busy = false;
  const next = async () => {
    if (busy || pending.length < 4) return;
    const size = pending.readUInt32BE(0);
    if (pending.length < 4 + size) return;
    const request = JSON.parse(pending.subarray(4, 4 + size).toString("utf8"));
    pending = pending.subarray(4 + size);
    busy = true;
    send(resultFd, await execute(request, entrypoint));
    busy = false;
    next();
  };
  requests.on("data", (chunk) => {
    pending = Buffer.concat([pending, chunk]);
    next();
  });
  requests.on("end", () => process.exit(0));
}

main();
