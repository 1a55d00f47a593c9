// dynastream's bundled Node.js runtime: the program an execution environment starts for `nodejs*` functions when
// AWS's own runtime (/var/runtime/bootstrap) is absent. It follows AWS's runtime interface client
// (aws-lambda-nodejs-runtime-interface-client: index.mjs, Runtime.js, UserFunction.js, CallbackContext.js,
// InvokeContext.js, Errors.js, LogPatch.js) behaviour for behaviour, but talks to the Runtime API with Node's own
// `http` module instead of a native addon, so it needs nothing but `node`.
//
// Contract: reads `AWS_LAMBDA_RUNTIME_API`, `_HANDLER`, `LAMBDA_TASK_ROOT` and the function's variables, loads the
// handler, then loops `GET invocation/next` -> handler -> `POST invocation/{id}/response|error`. A handler that
// cannot be loaded is reported to `POST init/error`, after which the process exits (code 129, as AWS's does).
//
// NB: this file must run on Node.js 16, the oldest runtime dynastream starts it for: no syntax or API newer than
// Node 16 outside feature checks.

import fs from 'fs';
import http from 'http';
import Module, { createRequire } from 'module';
import path from 'path';
import { Writable } from 'stream';
import { fileURLToPath, pathToFileURL } from 'url';
import util from 'util';

const require = createRequire(import.meta.url);
const HERE = path.dirname(fileURLToPath(import.meta.url));
const RUNTIME_PATH = '/2018-06-01/runtime';
const ERROR_TYPE_HEADER = 'Lambda-Runtime-Function-Error-Type';
// 6 MiB + 100 bytes: what the Runtime API accepts for a response (AWS's RAPID and dynastream alike).
const MAX_RESPONSE_BYTES = 6 * 1024 * 1024 + 100;

// The runtime's Node.js major version: from AWS_EXECUTION_ENV (`AWS_Lambda_nodejs20.x`), which the environment
// sets, else the interpreter's own.
const RUNTIME_MAJOR = (() => {
  const match = /^AWS_Lambda_nodejs(\d+)/.exec(process.env.AWS_EXECUTION_ENV || '');
  return parseInt(match ? match[1] : process.versions.node.split('.')[0], 10);
})();
// NB: nodejs24.x removed callback handlers and context.done/succeed/fail/callbackWaitsForEmptyEventLoop.
const CALLBACKS_REMOVED = RUNTIME_MAJOR >= 24;

// ---------------------------------------------------------------------------------------------------------------
// Errors (Errors.js): runtime errors are named `Runtime.<Class>`, so a trace starts `Runtime.ImportModuleError: ...`.

class ImportModuleError extends Error {}
class HandlerNotFound extends Error {}
class MalformedHandlerName extends Error {}
class UserCodeSyntaxError extends Error {}
class MalformedStreamingHandler extends Error {}
class CallbackHandlerDeprecated extends Error {
  constructor() {
    super(
      'ERROR: AWS Lambda has removed support for callback-based function handlers starting with Node.js 24. You need to modify this function to use a supported handler signature to use Node.js 24 or later. For more information see https://docs.aws.amazon.com/lambda/latest/dg/nodejs-handler.html.',
    );
  }
}
class NodeJsExit extends Error {
  constructor() {
    super(
      'The Lambda runtime client detected an unexpected Node.js exit code. This is most commonly caused by a Promise that was never settled. For more information, see https://nodejs.org/docs/latest/api/process.html#exit-codes',
    );
  }
}
class UnhandledPromiseRejection extends Error {
  constructor(reason, promise) {
    super(reason);
    this.reason = reason;
    this.promise = promise;
  }
}
for (const errorClass of [
  ImportModuleError,
  HandlerNotFound,
  MalformedHandlerName,
  UserCodeSyntaxError,
  MalformedStreamingHandler,
  CallbackHandlerDeprecated,
  NodeJsExit,
  UnhandledPromiseRejection,
]) {
  errorClass.prototype.name = `Runtime.${errorClass.name}`;
}

function isErrorLike(value) {
  return Boolean(
    value &&
      value.name &&
      value.message &&
      value.stack &&
      typeof value.name === 'string' &&
      typeof value.message === 'string' &&
      typeof value.stack === 'string',
  );
}

function escapeDel(text) {
  return typeof text === 'string' ? text.replace(/\x7F/g, '%7F') : text;
}

// The body of `POST .../error` and `init/error`: Node's runtime says `trace`, not `stackTrace`.
function toRapidResponse(error) {
  try {
    if (util.types.isNativeError(error) || isErrorLike(error)) {
      return {
        errorType: escapeDel(error.name),
        errorMessage: escapeDel(error.message),
        trace: escapeDel(error.stack).split('\n'),
      };
    }
    return { errorType: typeof error, errorMessage: error.toString(), trace: [] };
  } catch (_) {
    return {
      errorType: 'handled',
      errorMessage:
        'callback called with Error argument, but there was a problem while retrieving one or more of its message, name, and stack',
    };
  }
}

function intoError(value) {
  return value instanceof Error ? value : new Error(value);
}

// Name, message and stack are not enumerable, so they are copied in for the `Invoke Error` log record.
function withEnumerableProperties(value) {
  if (value instanceof Error) {
    const copy = Object.assign({ errorType: value.name, errorMessage: value.message, code: value.code }, value);
    if (typeof value.stack === 'string') {
      copy.stack = value.stack.split('\n');
    }
    return copy;
  }
  return value;
}

function toFormatted(error) {
  try {
    return '\t' + JSON.stringify(error, (_key, value) => withEnumerableProperties(value));
  } catch (_) {
    return '\t' + JSON.stringify(toRapidResponse(error));
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Logging (LogPatch.js): console.* write one record per call to stdout,
// `<ISO time>\t<requestId>\t<LEVEL>\t<message>` with newlines turned into `\r`, or a JSON object per record when
// AWS_LAMBDA_LOG_FORMAT=JSON. AWS_LAMBDA_LOG_LEVEL filters.

const REQUEST_ID = Symbol.for('aws.lambda.runtime.requestId');
const TENANT_ID = Symbol.for('aws.lambda.runtime.tenantId');
const structuredConsole = {};

function jsonErrorReplacer(_key, value) {
  if (value instanceof Error) {
    return Object.assign(
      {
        errorType: (value.constructor && value.constructor.name) || 'UnknownError',
        errorMessage: value.message,
        stackTrace: typeof value.stack === 'string' ? value.stack.split('\n') : value.stack,
      },
      value,
    );
  }
  return value;
}

function formatJsonMessage(requestId, timestamp, level, tenantId, messageParams) {
  const result = { timestamp, level: level.name, requestId };
  if (tenantId !== undefined && tenantId !== null) {
    result.tenantId = tenantId;
  }
  if (messageParams.length === 1) {
    result.message = messageParams[0];
    try {
      return JSON.stringify(result, jsonErrorReplacer);
    } catch (_) {
      result.message = util.format(result.message);
      return JSON.stringify(result);
    }
  }
  result.message = util.format(...messageParams);
  for (const param of messageParams) {
    if (param instanceof Error) {
      result.errorType = (param.constructor && param.constructor.name) || 'UnknownError';
      result.errorMessage = param.message;
      result.stackTrace = typeof param.stack === 'string' ? param.stack.split('\n') : [];
      break;
    }
  }
  return JSON.stringify(result);
}

function logText(level, message, ...params) {
  const line = `${new Date().toISOString()}\t${global[REQUEST_ID]}\t${level.name}\t${util.format(message, ...params)}`;
  process.stdout.write(line.replace(/\n/g, '\r') + '\n');
}

function logJson(level, message, ...params) {
  const line = formatJsonMessage(global[REQUEST_ID], new Date().toISOString(), level, global[TENANT_ID], [
    message,
    ...params,
  ]);
  process.stdout.write(line.replace(/\n/g, '\r') + '\n');
}

function patchConsole() {
  const json = (process.env.AWS_LAMBDA_LOG_FORMAT || '').toUpperCase() === 'JSON';
  const log = json ? logJson : logText;
  const levels = {
    TRACE: { name: 'TRACE', priority: 1 },
    DEBUG: { name: 'DEBUG', priority: 2 },
    INFO: { name: 'INFO', priority: 3 },
    WARN: { name: 'WARN', priority: 4 },
    ERROR: { name: 'ERROR', priority: 5 },
    FATAL: { name: 'FATAL', priority: 6 },
  };
  const minimum = levels[(process.env.AWS_LAMBDA_LOG_LEVEL || '').toUpperCase()] || levels.TRACE;
  const writer = (level) =>
    level.priority >= minimum.priority ? (message, ...params) => log(level, message, ...params) : () => {};
  console.trace = writer(levels.TRACE);
  console.debug = writer(levels.DEBUG);
  console.info = writer(levels.INFO);
  console.log = console.info;
  console.warn = writer(levels.WARN);
  console.error = writer(levels.ERROR);
  console.fatal = (message, ...params) => log(levels.FATAL, message, ...params);
  structuredConsole.logError = json
    ? (_label, error) => console.error(intoError(error))
    : (label, error) => console.error(label, toFormatted(intoError(error)));
}

// ---------------------------------------------------------------------------------------------------------------
// The Runtime API client (RAPIDClient.js), over one keep-alive connection.
// NB: idle keep-alive sockets are unref'd by Node's agent, so they never keep the event loop alive; that matters
// because callback handlers answer when the event loop drains ('beforeExit').

class RuntimeClient {
  constructor(hostPort) {
    const colon = hostPort.lastIndexOf(':');
    this.hostname = hostPort.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
    this.port = parseInt(hostPort.slice(colon + 1), 10);
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  }

  request(method, urlPath, body, headers) {
    const options = { hostname: this.hostname, port: this.port, path: urlPath, method, agent: this.agent };
    let payload;
    if (body !== undefined) {
      payload = Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
      options.headers = Object.assign(
        { 'Content-Type': 'application/json', 'Content-Length': payload.length },
        headers || {},
      );
    }
    return this.attempt(options, payload).catch((error) => {
      // A kept-alive connection that the server closed while the handler ran fails when reused: once more on a
      // fresh connection (a duplicate that did get through is refused by the Runtime API, never applied twice).
      if (error.reusedSocket && (error.code === 'ECONNRESET' || error.code === 'EPIPE')) {
        return this.attempt(options, payload);
      }
      throw error;
    });
  }

  attempt(options, payload) {
    return new Promise((resolve, reject) => {
      const request = http.request(options, (response) => {
        const chunks = [];
        response.on('data', (chunk) => chunks.push(chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode, headers: response.headers, body: Buffer.concat(chunks) }),
        );
        response.on('error', reject);
      });
      request.on('error', (error) => {
        error.reusedSocket = request.reusedSocket;
        reject(error);
      });
      request.end(payload);
    });
  }

  async nextInvocation() {
    const response = await this.request('GET', `${RUNTIME_PATH}/invocation/next`);
    if (response.status !== 200) {
      throw new Error(`Runtime API answered ${response.status} to invocation/next: ${response.body.toString()}`);
    }
    return { bodyJson: response.body.toString('utf8'), headers: response.headers };
  }

  postInvocationResponse(result, id, callback) {
    const body = serializeResponse(result);
    this.postResult(id, body).then(callback, fatal);
  }

  // Output Node still queues for a full pipe is written before the result is posted, so that it belongs to this
  // invocation's log (the agent collects what the pipes hold when the result arrives).
  static async outputWritten() {
    const pending = [process.stdout, process.stderr].filter((stream) => stream.writableLength > 0);
    await Promise.all(pending.map((stream) => new Promise((resolve) => stream.write('', resolve))));
  }

  // Posts a response body; one too large for the Runtime API becomes AWS's Function.ResponseSizeTooLarge.
  // NB: checked before sending too, because a server refusing a large body may reset the connection before the
  // client has read its 413.
  async postResult(id, body) {
    const tooLarge = {
      errorMessage: `Response payload size exceeded maximum allowed payload size (${MAX_RESPONSE_BYTES} bytes).`,
      errorType: 'Function.ResponseSizeTooLarge',
    };
    if (Buffer.byteLength(body) > MAX_RESPONSE_BYTES) {
      await this.postError(id, tooLarge);
      return;
    }
    await RuntimeClient.outputWritten();
    const response = await this.request('POST', `${RUNTIME_PATH}/invocation/${encodeURIComponent(id)}/response`, body);
    if (response.status === 413) {
      await this.postError(id, tooLarge);
    }
  }

  postInvocationError(error, id, callback) {
    this.postError(id, toRapidResponse(error)).then(callback, fatal);
  }

  async postError(id, response) {
    const body = JSON.stringify(response);
    const headers = { [ERROR_TYPE_HEADER]: headerSafe(response.errorType) };
    await RuntimeClient.outputWritten();
    await this.request('POST', `${RUNTIME_PATH}/invocation/${encodeURIComponent(id)}/error`, body, headers);
  }

  postInitError(error, callback) {
    const response = toRapidResponse(error);
    const headers = { [ERROR_TYPE_HEADER]: headerSafe(response.errorType) };
    this.request('POST', `${RUNTIME_PATH}/init/error`, JSON.stringify(response), headers).then(callback, fatal);
  }
}

// A header value must be printable ASCII; anything else would make Node refuse the request.
function headerSafe(value) {
  const text = String(value === undefined ? 'Unknown' : value).replace(/[^\x20-\x7E]/g, '');
  return text === '' ? 'Unknown' : text;
}

function serializeResponse(body) {
  try {
    return JSON.stringify(body === undefined ? null : body);
  } catch (_) {
    throw new Error('Unable to stringify response body');
  }
}

// The Runtime API is gone (the environment is shutting down): nothing can be reported any more.
function fatal(error) {
  process.stderr.write(`dynastream runtime: lost the Runtime API: ${error && error.message}\n`);
  process.exit(1);
}

// ---------------------------------------------------------------------------------------------------------------
// The single 'beforeExit' listener (BeforeExitListener.js): what to do when the event loop drains.

const BEFORE_EXIT = Symbol.for('aws.lambda.beforeExit');
const NO_OP = () => {};
const beforeExit = {
  invoke: () => global[BEFORE_EXIT](),
  reset: () => (global[BEFORE_EXIT] = NO_OP),
  set: (listener) => (global[BEFORE_EXIT] = listener),
};

// ---------------------------------------------------------------------------------------------------------------
// Handler loading (UserFunction.js).

const FUNCTION_EXPR = /^([^.]*)\.(.*)$/;
const HANDLER_STREAMING = Symbol.for('aws.lambda.runtime.handler.streaming');
const HANDLER_HIGHWATERMARK = Symbol.for('aws.lambda.runtime.handler.streaming.highWaterMark');
const STREAM_RESPONSE = 'response';

function tryRequireFile(file, extension) {
  const candidate = file + (extension || '');
  return fs.existsSync(candidate) ? require(candidate) : undefined;
}

async function tryAwaitImport(file, extension) {
  const candidate = file + (extension || '');
  if (fs.existsSync(candidate)) {
    registerResolveFallback();
    return await import(pathToFileURL(candidate).href);
  }
  return undefined;
}

// NB: ES modules ignore NODE_PATH, yet on AWS `import '@aws-sdk/client-dynamodb'` finds the SDK the runtime ships.
// A resolve hook (loader.mjs) falls back to the NODE_PATH folders for bare specifiers that resolve nowhere else.
// It is registered only when an ES module is about to be loaded, so CommonJS handlers never pay for its thread;
// it needs `module.register` (Node 18.19 / 20.6 and newer).
let resolveFallbackRegistered = false;
function registerResolveFallback() {
  if (resolveFallbackRegistered) {
    return;
  }
  resolveFallbackRegistered = true;
  const paths = (process.env.NODE_PATH || '').split(path.delimiter).filter((entry) => entry !== '');
  if (paths.length === 0 || typeof Module.register !== 'function') {
    return;
  }
  try {
    Module.register(pathToFileURL(path.join(HERE, 'loader.mjs')).href, { data: { paths } });
  } catch (error) {
    process.stderr.write(`dynastream runtime: cannot register the module resolve fallback: ${error}\n`);
  }
}

function hasFolderPackageJsonTypeModule(folder) {
  if (folder.endsWith('/node_modules')) {
    return false;
  }
  const packageJson = path.join(folder, '/package.json');
  if (fs.existsSync(packageJson)) {
    try {
      const pkg = JSON.parse(fs.readFileSync(packageJson));
      if (pkg) {
        return pkg.type === 'module';
      }
    } catch (error) {
      console.warn(`${packageJson} cannot be read, it will be ignored for ES module detection purposes.`, error);
      return false;
    }
  }
  if (folder === '/') {
    return false;
  }
  return hasFolderPackageJsonTypeModule(path.resolve(folder, '..'));
}

function hasPackageJsonTypeModule(file) {
  const jsPath = file + '.js';
  return fs.existsSync(jsPath) ? hasFolderPackageJsonTypeModule(path.resolve(path.dirname(jsPath))) : false;
}

async function tryRequire(appRoot, moduleRoot, module) {
  const lambdaStylePath = path.resolve(appRoot, moduleRoot, module);

  const extensionless = tryRequireFile(lambdaStylePath);
  if (extensionless) {
    return extensionless;
  }

  const pjHasModule = hasPackageJsonTypeModule(lambdaStylePath);
  if (!pjHasModule) {
    const loaded = tryRequireFile(lambdaStylePath, '.js');
    if (loaded) {
      return loaded;
    }
  }

  const loaded =
    (pjHasModule && (await tryAwaitImport(lambdaStylePath, '.js'))) ||
    (await tryAwaitImport(lambdaStylePath, '.mjs')) ||
    tryRequireFile(lambdaStylePath, '.cjs');
  if (loaded) {
    return loaded;
  }

  // Node's own resolution from the task root: a package in node_modules, or a folder with an index.
  const nodeStylePath = require.resolve(module, { paths: [appRoot, moduleRoot] });
  return require(nodeStylePath);
}

function installAwslambdaGlobal() {
  const disabled = process.env.AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA;
  if (disabled === '1' || disabled === 'true') {
    return;
  }
  globalThis.awslambda = {
    streamifyResponse: (handler, options) => {
      handler[HANDLER_STREAMING] = STREAM_RESPONSE;
      if (options && typeof options.highWaterMark === 'number') {
        handler[HANDLER_HIGHWATERMARK] = parseInt(options.highWaterMark, 10);
      }
      return handler;
    },
    HttpResponseStream,
  };
}

async function loadUserApp(appRoot, moduleRoot, module) {
  installAwslambdaGlobal();
  try {
    return await tryRequire(appRoot, moduleRoot, module);
  } catch (error) {
    if (error instanceof SyntaxError) {
      throw new UserCodeSyntaxError(error);
    } else if (error && error.code === 'MODULE_NOT_FOUND') {
      throw new ImportModuleError(error);
    }
    throw error;
  }
}

async function loadHandler(appRoot, fullHandlerString) {
  if (fullHandlerString.includes('..')) {
    throw new MalformedHandlerName(
      `'${fullHandlerString}' is not a valid handler name. Use absolute paths when specifying root directories in handler names.`,
    );
  }
  const handlerString = path.basename(fullHandlerString);
  const moduleRoot = fullHandlerString.substring(0, fullHandlerString.indexOf(handlerString));
  const match = handlerString.match(FUNCTION_EXPR);
  if (!match || match.length !== 3) {
    throw new MalformedHandlerName('Bad handler');
  }
  const [, module, handlerPath] = match;

  const userApp = await loadUserApp(appRoot, moduleRoot, module);
  const handler = handlerPath.split('.').reduce((nested, key) => nested && nested[key], userApp);
  if (!handler) {
    throw new HandlerNotFound(`${fullHandlerString} is undefined or not exported`);
  }
  if (typeof handler !== 'function') {
    throw new HandlerNotFound(`${fullHandlerString} is not a function`);
  }
  return handler;
}

function isAsyncFunction(handler) {
  try {
    return Boolean(handler && handler.constructor && handler.constructor.name === 'AsyncFunction');
  } catch (_) {
    return false;
  }
}

function handlerMetadata(handler) {
  const streaming = handler[HANDLER_STREAMING];
  if (streaming !== undefined && streaming !== null && streaming !== false && streaming !== STREAM_RESPONSE) {
    throw new MalformedStreamingHandler('Only response streaming is supported.');
  }
  return {
    streaming: streaming === STREAM_RESPONSE,
    isAsync: isAsyncFunction(handler),
    argsNum: handler.length,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// The context object (InvokeContext.js + CallbackContext.js).

function parseJsonHeader(text, name) {
  if (text === undefined) {
    return undefined;
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`Cannot parse ${name} as json: ${error.toString()}`);
  }
}

function attachEnvironmentData(context, headers) {
  // _X_AMZN_TRACE_ID carries the current invocation's trace header, as the SDKs and X-Ray expect.
  if (headers['lambda-runtime-trace-id']) {
    process.env._X_AMZN_TRACE_ID = headers['lambda-runtime-trace-id'];
  } else {
    delete process.env._X_AMZN_TRACE_ID;
  }
  const deadline = Number(headers['lambda-runtime-deadline-ms']);
  return Object.assign(
    context,
    {
      functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
      functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
      memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
      logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
      logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    },
    {
      clientContext: parseJsonHeader(headers['lambda-runtime-client-context'], 'ClientContext'),
      identity: parseJsonHeader(headers['lambda-runtime-cognito-identity'], 'CognitoIdentity'),
      invokedFunctionArn: headers['lambda-runtime-invoked-function-arn'],
      awsRequestId: headers['lambda-runtime-aws-request-id'],
      tenantId: headers['lambda-runtime-aws-tenant-id'],
      getRemainingTimeInMillis: function () {
        return deadline - Date.now();
      },
    },
  );
}

// Builds the handler's callback and the context's done/succeed/fail; only the first of them to be called counts.
function buildCallbackContext(client, id, scheduleNext) {
  const postError = (error, callback) => {
    structuredConsole.logError('Invoke Error', error);
    client.postInvocationError(error, id, callback);
  };

  let isCompleteInvoked = false;
  const complete = (result, callback) => {
    if (isCompleteInvoked) {
      console.error(
        'Invocation has already been reported as done. Cannot call complete more than once per invocation.',
      );
      return;
    }
    isCompleteInvoked = true;
    client.postInvocationResponse(result, id, callback);
  };

  let waitForEmptyEventLoop = true;

  const callback = function (error, result) {
    beforeExit.reset();
    if (error !== undefined && error !== null) {
      postError(error, scheduleNext);
    } else if (!waitForEmptyEventLoop) {
      complete(result, scheduleNext);
    } else {
      // NB: AWS answers a callback only once the event loop is empty (pending timers, sockets, ...), unless
      // context.callbackWaitsForEmptyEventLoop is false; Node's 'beforeExit' says exactly when that is.
      beforeExit.set(() => {
        setImmediate(() => {
          complete(result, scheduleNext);
        });
      });
    }
  };

  const done = (error, result) => {
    beforeExit.reset();
    if (error !== undefined && error !== null) {
      postError(error, scheduleNext);
    } else {
      complete(result, scheduleNext);
    }
  };
  const succeed = (result) => done(null, result);
  const fail = (error) => (error === undefined || error === null ? done('handled') : done(error, null));

  let finished = false;
  const onlyFirstCall = (wrapped) =>
    function () {
      if (!finished) {
        wrapped.apply(null, arguments);
        finished = true;
      }
    };

  const context = CALLBACKS_REMOVED
    ? {}
    : {
        get callbackWaitsForEmptyEventLoop() {
          return waitForEmptyEventLoop;
        },
        set callbackWaitsForEmptyEventLoop(value) {
          waitForEmptyEventLoop = value;
        },
        succeed: onlyFirstCall(succeed),
        fail: onlyFirstCall(fail),
        done: onlyFirstCall(done),
      };
  // The runtime itself settles promises through these, even where the context no longer offers them.
  const settle = CALLBACKS_REMOVED
    ? { succeed: onlyFirstCall(succeed), fail: onlyFirstCall(fail) }
    : { succeed: context.succeed, fail: context.fail };
  return {
    callback: onlyFirstCall(callback),
    context,
    settle,
    markCompleted: () => {
      isCompleteInvoked = true;
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Response streaming (awslambda.streamifyResponse): dynastream buffers the stream and answers with its bytes, which
// is what a plain Invoke of a streaming function returns on AWS.

const METADATA_PRELUDE_CONTENT_TYPE = 'application/vnd.awslambda.http-integration-response';

class HttpResponseStream {
  static from(underlyingStream, prelude) {
    underlyingStream.setContentType(METADATA_PRELUDE_CONTENT_TYPE);
    const metadataPrelude = JSON.stringify(prelude);
    underlyingStream._onBeforeFirstWrite = (write) => {
      write(metadataPrelude);
      write(new Uint8Array(8));
    };
    return underlyingStream;
  }
}

function createBufferedResponseStream(options) {
  const chunks = [];
  let firstWrite = true;
  const stream = new Writable({
    highWaterMark: options && options.highWaterMark,
    write(chunk, encoding, callback) {
      if (firstWrite) {
        firstWrite = false;
        if (typeof stream._onBeforeFirstWrite === 'function') {
          stream._onBeforeFirstWrite((data) => chunks.push(Buffer.from(data)));
        }
      }
      chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk, encoding));
      callback();
    },
  });
  stream.setContentType = (contentType) => {
    stream.contentType = contentType;
  };
  stream.body = () => Buffer.concat(chunks);
  return stream;
}

// ---------------------------------------------------------------------------------------------------------------
// The invoke loop (Runtime.js).

class Runtime {
  constructor(client, handler, metadata, errorCallbacks) {
    this.client = client;
    this.handler = handler;
    this.metadata = metadata;
    this.errorCallbacks = errorCallbacks;
  }

  scheduleIteration() {
    setImmediate(() => {
      const once = this.metadata.streaming ? this.handleOnceStreaming() : this.handleOnce();
      once.then(
        () => {},
        (error) => {
          console.log(`Unexpected Top Level Error: ${error.toString()}`);
          this.errorCallbacks.uncaughtException(error);
        },
      );
    });
  }

  async nextInvocation() {
    try {
      return await this.client.nextInvocation();
    } catch (error) {
      return fatal(error);
    }
  }

  async handleOnce() {
    const { bodyJson, headers } = await this.nextInvocation();
    const id = headers['lambda-runtime-aws-request-id'];
    global[REQUEST_ID] = id;
    global[TENANT_ID] = headers['lambda-runtime-aws-tenant-id'];

    const { callback, context, settle, markCompleted } = buildCallbackContext(
      this.client,
      id,
      this.scheduleIteration.bind(this),
    );

    try {
      this.setErrorCallbacks(id);
      this.setDefaultExitListener(id, markCompleted);
      const event = JSON.parse(bodyJson);
      const userContext = attachEnvironmentData(context, headers);
      const result = CALLBACKS_REMOVED
        ? this.handler(event, userContext)
        : this.handler(event, userContext, callback);
      if (isPromise(result)) {
        result.then(settle.succeed, settle.fail).catch(settle.fail);
      }
    } catch (error) {
      if (CALLBACKS_REMOVED) {
        settle.fail(error);
      } else {
        callback(error);
      }
    }
  }

  async handleOnceStreaming() {
    const { bodyJson, headers } = await this.nextInvocation();
    const id = headers['lambda-runtime-aws-request-id'];
    global[REQUEST_ID] = id;
    global[TENANT_ID] = headers['lambda-runtime-aws-tenant-id'];

    let waitForEmptyEventLoop = true;
    const context = {
      get callbackWaitsForEmptyEventLoop() {
        return waitForEmptyEventLoop;
      },
      set callbackWaitsForEmptyEventLoop(value) {
        waitForEmptyEventLoop = value;
      },
    };
    const scheduleNext = () => {
      beforeExit.reset();
      if (!waitForEmptyEventLoop) {
        this.scheduleIteration();
      } else {
        beforeExit.set(() => setImmediate(() => this.scheduleIteration()));
      }
    };
    const fail = (error) => {
      structuredConsole.logError('Invoke Error', error);
      this.client.postInvocationError(error, id, scheduleNext);
    };

    const responseStream = createBufferedResponseStream({ highWaterMark: this.handler[HANDLER_HIGHWATERMARK] });
    try {
      this.setErrorCallbacks(id);
      beforeExit.set(() => this.scheduleIteration());
      const userContext = attachEnvironmentData(context, headers);
      const result = this.handler(JSON.parse(bodyJson), responseStream, userContext);
      if (!isPromise(result)) {
        fail('Streaming does not support non-async handlers.');
        return;
      }
      const value = await result;
      if (typeof value !== 'undefined') {
        console.warn('Streaming handlers ignore return values.');
      }
      if (!responseStream.writableEnded) {
        fail('Response stream is not finished.');
        return;
      }
      if (!responseStream.writableFinished) {
        await new Promise((resolve) => responseStream.once('finish', resolve));
      }
      beforeExit.reset();
      this.client.postResult(id, responseStream.body()).then(scheduleNext, fatal);
    } catch (error) {
      fail(error);
    }
  }

  setErrorCallbacks(id) {
    this.errorCallbacks.uncaughtException = (error) => {
      this.client.postInvocationError(error, id, () => process.exit(129));
    };
    this.errorCallbacks.unhandledRejection = (error) => {
      this.client.postInvocationError(error, id, () => process.exit(128));
    };
  }

  // When the event loop drains and the handler never answered: an async handler whose promise never settled is
  // an error; any other handler answers `null`.
  setDefaultExitListener(id, markCompleted) {
    beforeExit.set(() => {
      markCompleted();
      if (this.metadata.isAsync) {
        const error = new NodeJsExit();
        structuredConsole.logError('Invoke Error', error);
        this.client.postInvocationError(error, id, () => this.scheduleIteration());
      } else {
        this.client.postInvocationResponse(null, id, () => this.scheduleIteration());
      }
    });
  }
}

function isPromise(value) {
  return Boolean(value && value.then && typeof value.then === 'function');
}

// ---------------------------------------------------------------------------------------------------------------
// Start-up (index.mjs).

async function main() {
  patchConsole();
  const api = process.env.AWS_LAMBDA_RUNTIME_API;
  if (!api) {
    process.stderr.write('dynastream runtime: AWS_LAMBDA_RUNTIME_API is not set\n');
    process.exit(1);
  }
  const client = new RuntimeClient(api);

  const errorCallbacks = {
    uncaughtException: (error) => client.postInitError(error, () => process.exit(129)),
    unhandledRejection: (error) => client.postInitError(error, () => process.exit(128)),
  };
  process.on('uncaughtException', (error) => {
    structuredConsole.logError('Uncaught Exception', error);
    errorCallbacks.uncaughtException(error);
  });
  process.on('unhandledRejection', (reason, promise) => {
    const error = new UnhandledPromiseRejection(reason, promise);
    structuredConsole.logError('Unhandled Promise Rejection', error);
    errorCallbacks.unhandledRejection(error);
  });
  beforeExit.reset();
  process.on('beforeExit', beforeExit.invoke);

  const appRoot = process.env.LAMBDA_TASK_ROOT || process.cwd();
  addTaskRootToNodePath(appRoot);

  let handler;
  let metadata;
  try {
    handler = await loadHandler(appRoot, process.env._HANDLER || '');
    metadata = handlerMetadata(handler);
    if (CALLBACKS_REMOVED && metadata.argsNum >= 3 && !metadata.isAsync && !metadata.streaming) {
      throw new CallbackHandlerDeprecated();
    }
  } catch (error) {
    // On AWS the failed load rejects the runtime's top-level await and lands in 'uncaughtException'.
    structuredConsole.logError('Uncaught Exception', error);
    errorCallbacks.uncaughtException(error);
    return;
  }
  if (RUNTIME_MAJOR === 22 && metadata.argsNum === 3 && !metadata.isAsync && !metadata.streaming) {
    if (process.env.AWS_LAMBDA_NODEJS_DISABLE_CALLBACK_WARNING === undefined) {
      console.warn(
        'AWS Lambda plans to remove support for callback-based function handlers starting with Node.js 24. You will need to update this function to use an async handler to use Node.js 24 or later. For more information and to provide feedback on this change, see https://github.com/aws/aws-lambda-nodejs-runtime-interface-client/issues/137. To disable this warning, set the AWS_LAMBDA_NODEJS_DISABLE_CALLBACK_WARNING environment variable.',
      );
    }
  }
  new Runtime(client, handler, metadata, errorCallbacks).scheduleIteration();
}

// NB: AWS's NODE_PATH ends with the task root (`...:/var/runtime:/var/task`), so `require('lib/x')` finds
// `/var/task/lib/x.js` from anywhere; the task root is only known here, so it is appended here.
function addTaskRootToNodePath(appRoot) {
  const entries = (process.env.NODE_PATH || '').split(path.delimiter).filter((entry) => entry !== '');
  if (entries.includes(appRoot)) {
    return;
  }
  entries.push(appRoot);
  process.env.NODE_PATH = entries.join(path.delimiter);
  if (typeof Module._initPaths === 'function') {
    Module._initPaths();
  }
}

main();
