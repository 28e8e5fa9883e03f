// cognito-harness: runs one Node.js Lambda handler once, the way the Lambda Node runtime calls it.
// stdin: {"file", "export", "event", "context"}; stdout: one JSON line, {"result": ...} or
// {"error": {"errorMessage", "errorType"}}. The handler's console output goes to stderr (its log).
// Handlers may be async (return a promise) or callback style (event, context, callback).
"use strict";
const { pathToFileURL } = require("url");

const out = process.stdout.write.bind(process.stdout);
process.stdout.write = process.stderr.write.bind(process.stderr);
for (const level of ["log", "info", "debug", "trace"]) console[level] = console.error;

let answered = false;
function answer(body) {
  if (answered) return;
  answered = true;
  let line;
  try {
    line = JSON.stringify(body === undefined ? { result: null } : body);
  } catch (err) {
    line = JSON.stringify({ error: { errorMessage: `Unable to stringify response body: ${err.message}`, errorType: "Runtime.MarshalError" } });
  }
  out(line + "\n", () => process.exit(0));
}
function fail(err, type) {
  const message = err && err.message !== undefined ? String(err.message) : String(err);
  answer({ error: { errorMessage: message, errorType: type || (err && err.name) || "Error" } });
}
function succeed(value) {
  answer({ result: value === undefined ? null : value });
}

async function load(file, name) {
  let mod;
  try {
    mod = file.endsWith(".mjs") ? await import(pathToFileURL(file).href) : require(file);
  } catch (err) {
    if (err && err.code === "ERR_REQUIRE_ESM") mod = await import(pathToFileURL(file).href);
    else throw Object.assign(new Error(`Cannot find module '${file}': ${err.message}`), { name: "Runtime.ImportModuleError" });
  }
  const handler = mod[name] || (mod.default && mod.default[name]);
  if (typeof handler !== "function") {
    throw Object.assign(new Error(`${file} is undefined or not exported: ${name}`), { name: "Runtime.HandlerNotFound" });
  }
  return handler;
}

function context(wire) {
  const deadline = Date.now() + wire.remaining_ms;
  return {
    functionName: wire.function_name,
    functionVersion: wire.function_version,
    invokedFunctionArn: wire.invoked_function_arn,
    memoryLimitInMB: wire.memory_limit_in_mb,
    awsRequestId: wire.aws_request_id,
    logGroupName: wire.log_group_name,
    logStreamName: wire.log_stream_name,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    succeed: (value) => succeed(value),
    fail: (err) => fail(err),
    done: (err, value) => (err ? fail(err) : succeed(value)),
  };
}

async function main(request) {
  const handler = await load(request.file, request.export);
  const callback = (err, value) => (err ? fail(err) : succeed(value));
  const returned = handler(request.event, context(request.context), callback);
  if (returned && typeof returned.then === "function") succeed(await returned);
  else if (handler.length < 3) succeed(returned);
  // callback style: the answer comes when the callback is called (or null when the event loop empties)
}

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => { input += chunk; });
process.stdin.on("end", () => {
  main(JSON.parse(input)).catch((err) => fail(err));
});
process.on("beforeExit", () => succeed(null));
process.on("uncaughtException", (err) => fail(err));
process.on("unhandledRejection", (err) => fail(err, "Runtime.UnhandledPromiseRejection"));
