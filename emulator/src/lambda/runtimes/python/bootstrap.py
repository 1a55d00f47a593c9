"""dynastream's bundled Python runtime.

The program an execution environment starts for ``python3.*`` functions when AWS's own runtime
(``/var/runtime/bootstrap``) is absent. It follows AWS's runtime interface client (awslambdaric: bootstrap.py,
lambda_context.py, lambda_runtime_marshaller.py, lambda_runtime_log_utils.py) behaviour for behaviour, but talks
to the Runtime API with ``http.client`` instead of a native extension, so it needs nothing but the standard library.

Contract: reads ``AWS_LAMBDA_RUNTIME_API``, ``_HANDLER``, ``LAMBDA_TASK_ROOT`` and the function's variables, imports
the handler with the task root first on ``sys.path``, then loops ``GET invocation/next`` -> handler ->
``POST invocation/{id}/response|error``. A handler that cannot be imported is reported to ``POST init/error``,
after which the process exits with status 1, as AWS's does.

NB: this file must run on Python 3.8, the oldest runtime dynastream starts it for: no newer syntax.
"""

import decimal
import http.client
import importlib
import json
import logging
import math
import os
import re
import sys
import time
import traceback
import uuid

RUNTIME_PATH = "/2018-06-01/runtime"
ERROR_TYPE_HEADER = "Lambda-Runtime-Function-Error-Type"
# 6 MiB + 100 bytes: what the Runtime API accepts for a response (AWS's RAPID and dynastream alike).
MAX_RESPONSE_BYTES = 6 * 1024 * 1024 + 100

ERROR_LOG_LINE_TERMINATE = "\r"
ERROR_LOG_IDENT = "\u00a0"  # NO-BREAK SPACE, as AWS indents traceback lines in its error records

MARSHAL_ERROR = "Runtime.MarshalError"
UNMARSHAL_ERROR = "Runtime.UnmarshalError"
USER_CODE_SYNTAX_ERROR = "Runtime.UserCodeSyntaxError"
HANDLER_NOT_FOUND = "Runtime.HandlerNotFound"
IMPORT_MODULE_ERROR = "Runtime.ImportModuleError"
BUILT_IN_MODULE_CONFLICT = "Runtime.BuiltInModuleConflict"
MALFORMED_HANDLER_NAME = "Runtime.MalformedHandlerName"
LAMBDA_CONTEXT_UNMARSHAL_ERROR = "Runtime.LambdaContextUnmarshalError"

LAMBDA_WARNING_UNHANDLED = (
    "LAMBDA_WARNING: "
    "Unhandled exception. "
    "The most likely cause is an issue in the function code. "
    "However, in rare cases, a Lambda runtime update can cause unexpected function behavior. "
    "For functions using managed runtimes, runtime updates can be triggered by a function change, or can be "
    "applied automatically. "
    "To determine if the runtime has been updated, check the runtime version in the INIT_START log entry. "
    "If this error correlates with a change in the runtime version, you may be able to mitigate this error by "
    "temporarily rolling back to the previous runtime version. "
    "For more information, see https://docs.aws.amazon.com/lambda/latest/dg/runtimes-update.html\r"
)


class FaultException(Exception):
    """An error of the runtime itself (bad handler, import failure, marshalling), reported with its own type."""

    def __init__(self, exception_type, msg, trace=None):
        super().__init__(msg)
        self.msg = msg
        self.exception_type = exception_type
        self.trace = trace


# ----------------------------------------------------------------------------------------------------------------
# JSON (lambda_runtime_marshaller.py). AWS uses simplejson, which writes Decimal values as numbers; the standard
# library cannot write raw numbers, so each Decimal becomes a unique placeholder string that is swapped back for
# the number's text after encoding.

_DECIMAL_TOKEN = "__dynastream_decimal_%s__" % uuid.uuid4().hex
_DECIMAL_PLACEHOLDER = re.compile('"' + _DECIMAL_TOKEN + '([^"]*)"')


def _runtime_minor():
    match = re.match(r"AWS_Lambda_python3\.(\d+)", os.environ.get("AWS_EXECUTION_ENV", ""))
    return int(match.group(1)) if match else sys.version_info[1]


# NB: python3.12 and newer runtimes write non-ASCII characters as they are; older ones escape them.
_ENSURE_ASCII = _runtime_minor() < 12


class Encoder(json.JSONEncoder):
    """json.dumps as the runtime's marshaller does it: Decimal as a number, NaN and Infinity allowed."""

    def __init__(self):
        super().__init__(ensure_ascii=_ENSURE_ASCII, allow_nan=True)

    def default(self, o):
        if isinstance(o, decimal.Decimal):
            if o.is_nan():
                return math.nan
            return _DECIMAL_TOKEN + str(o)
        return super().default(o)

    def encode(self, o):
        text = super().encode(o)
        if _DECIMAL_TOKEN in text:
            text = _DECIMAL_PLACEHOLDER.sub(lambda match: match.group(1), text)
        return text


def to_json(value):
    return Encoder().encode(value)


def unmarshal_request(body, content_type):
    if content_type != "application/json":
        return body
    try:
        return json.loads(body)
    except Exception as error:
        raise FaultException(UNMARSHAL_ERROR, "Unable to unmarshal input: {}".format(str(error)), None)


def marshal_response(response):
    if isinstance(response, bytes):
        return response, "application/unknown"
    try:
        return to_json(response).encode("utf-8"), "application/json"
    except Exception as error:
        raise FaultException(MARSHAL_ERROR, "Unable to marshal response: {}".format(str(error)), None)


# ----------------------------------------------------------------------------------------------------------------
# The Runtime API client, over one keep-alive connection.


class RuntimeClient(object):
    def __init__(self, address):
        self.address = address
        self.connection = None

    def _request(self, method, path, body=None, headers=None):
        # One retry on a fresh connection: a kept-alive connection may have been closed while idle.
        for attempt in (0, 1):
            if self.connection is None:
                self.connection = http.client.HTTPConnection(self.address)
            try:
                self.connection.request(method, path, body=body, headers=headers or {})
                response = self.connection.getresponse()
                return response.status, response.getheaders(), response.read()
            except (http.client.HTTPException, OSError):
                self.connection.close()
                self.connection = None
                if attempt == 1:
                    raise

    def wait_next_invocation(self):
        status, headers, body = self._request("GET", RUNTIME_PATH + "/invocation/next")
        if status != 200:
            raise RuntimeError("Runtime API answered {} to invocation/next: {!r}".format(status, body))
        # Header names are case-insensitive: index them in lower case.
        return {name.lower(): value for name, value in headers}, body

    def post_invocation_result(self, invoke_id, result, content_type):
        # NB: a response too large for the Runtime API is not sent at all, because a server refusing a large body
        # may reset the connection before its 413 is read; the invoker sees AWS's error for it either way.
        status = 413
        if len(result) <= MAX_RESPONSE_BYTES:
            path = "{}/invocation/{}/response".format(RUNTIME_PATH, invoke_id)
            status, _, _ = self._request("POST", path, result, {"Content-Type": content_type})
        if status == 413:
            self.post_invocation_error(
                invoke_id,
                to_json(
                    {
                        "errorMessage": "Response payload size exceeded maximum allowed payload size "
                        "({} bytes).".format(MAX_RESPONSE_BYTES),
                        "errorType": "Function.ResponseSizeTooLarge",
                    }
                ),
                "Function.ResponseSizeTooLarge",
            )

    def post_invocation_error(self, invoke_id, error_json, error_type):
        path = "{}/invocation/{}/error".format(RUNTIME_PATH, invoke_id)
        headers = {"Content-Type": "application/json", ERROR_TYPE_HEADER: _header_safe(error_type)}
        self._request("POST", path, error_json.encode("utf-8"), headers)

    def post_init_error(self, error_result):
        headers = {"Content-Type": "application/json", ERROR_TYPE_HEADER: _header_safe(error_result["errorType"])}
        self._request("POST", RUNTIME_PATH + "/init/error", to_json(error_result).encode("utf-8"), headers)


def _header_safe(value):
    text = "".join(c for c in str(value) if " " <= c <= "~")
    return text or "Unknown"


# ----------------------------------------------------------------------------------------------------------------
# Handler import (bootstrap._get_handler).


def _get_handler(handler):
    try:
        modname, fname = handler.rsplit(".", 1)
    except ValueError as error:
        raise FaultException(MALFORMED_HANDLER_NAME, "Bad handler '{}': {}".format(handler, str(error)))

    try:
        if modname.split(".")[0] in sys.builtin_module_names:
            raise FaultException(
                BUILT_IN_MODULE_CONFLICT, "Cannot use built-in module {} as a handler module".format(modname)
            )
        module = importlib.import_module(modname.replace("/", "."))
    except ImportError as error:
        raise FaultException(IMPORT_MODULE_ERROR, "Unable to import module '{}': {}".format(modname, str(error)))
    except SyntaxError as error:
        trace = ['  File "%s" Line %s\n    %s' % (error.filename, error.lineno, error.text)]
        raise FaultException(
            USER_CODE_SYNTAX_ERROR, "Syntax error in module '{}': {}".format(modname, str(error)), trace
        )

    try:
        return getattr(module, fname)
    except AttributeError:
        raise FaultException(HANDLER_NOT_FOUND, "Handler '{}' missing on module '{}'".format(fname, modname), None)


# ----------------------------------------------------------------------------------------------------------------
# Errors (bootstrap.make_error, log_error).


def make_error(error_message, error_type, stack_trace, invoke_id=None):
    return {
        "errorMessage": error_message if error_message else "",
        "errorType": error_type if error_type else "",
        "requestId": invoke_id if invoke_id is not None else "",
        "stackTrace": stack_trace if stack_trace else [],
    }


def _user_frames(tb):
    """The traceback's frames without the leading ones of this file, as AWS drops its bootstrap's frames."""
    frames = [(f.filename, f.lineno, f.name, f.line) for f in traceback.extract_tb(tb)]
    for index in range(len(frames)):
        if "/bootstrap.py" not in frames[index][0]:
            return frames[index:]
    return frames


def build_fault_result(exc_info, msg):
    etype, value, tb = exc_info
    return make_error(msg if msg else str(value), etype.__name__, traceback.format_list(_user_frames(tb)))


def _replace_line_indentation(line, indent_char, new_indent_char):
    count = 0
    for c in line:
        if c != indent_char:
            break
        count += 1
    return (new_indent_char * count) + line[count:]


def log_error(error_result):
    if _LOG_FORMAT_JSON:
        record = {
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time())),
            "log_level": "ERROR",
        }
        record.update(error_result)
        sys.stdout.write(ERROR_LOG_LINE_TERMINATE.join([to_json(record)]) + "\n")
        return
    description = "[ERROR]"
    error_type = error_result.get("errorType")
    if error_type:
        description += " " + error_type
    error_message = error_result.get("errorMessage")
    if error_message:
        if error_type:
            description += ":"
        description += " " + error_message
    lines = [description]
    stack_trace = error_result.get("stackTrace")
    if stack_trace is not None:
        lines.append("Traceback (most recent call last):")
        for element in stack_trace:
            if element == "":
                lines.append("")
            else:
                for line in element.splitlines():
                    lines.append(_replace_line_indentation(line, " ", ERROR_LOG_IDENT))
    sys.stdout.write(ERROR_LOG_LINE_TERMINATE.join(lines) + "\n")


# ----------------------------------------------------------------------------------------------------------------
# The context object (lambda_context.py).


class LambdaContext(object):
    def __init__(
        self,
        invoke_id,
        client_context,
        cognito_identity,
        epoch_deadline_time_in_ms,
        invoked_function_arn=None,
        tenant_id=None,
    ):
        self.aws_request_id = invoke_id
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = invoked_function_arn
        self.tenant_id = tenant_id

        self.client_context = make_obj_from_dict(ClientContext, client_context)
        if self.client_context is not None:
            self.client_context.client = make_obj_from_dict(Client, self.client_context.client)

        self.identity = make_obj_from_dict(CognitoIdentity, {})
        if cognito_identity is not None:
            self.identity.cognito_identity_id = cognito_identity.get("cognitoIdentityId")
            self.identity.cognito_identity_pool_id = cognito_identity.get("cognitoIdentityPoolId")

        self._epoch_deadline_time_in_ms = epoch_deadline_time_in_ms

    def get_remaining_time_in_millis(self):
        epoch_now_in_ms = int(time.time() * 1000)
        delta_ms = self._epoch_deadline_time_in_ms - epoch_now_in_ms
        return delta_ms if delta_ms > 0 else 0

    def log(self, msg):
        sys.stdout.write(str(msg))

    def __repr__(self):
        return (
            "{}([aws_request_id={},log_group_name={},log_stream_name={},function_name={},memory_limit_in_mb={},"
            "function_version={},invoked_function_arn={},client_context={},identity={},tenant_id={}])".format(
                self.__class__.__name__,
                self.aws_request_id,
                self.log_group_name,
                self.log_stream_name,
                self.function_name,
                self.memory_limit_in_mb,
                self.function_version,
                self.invoked_function_arn,
                self.client_context,
                self.identity,
                self.tenant_id,
            )
        )


class CognitoIdentity(object):
    __slots__ = ["cognito_identity_id", "cognito_identity_pool_id"]

    def __repr__(self):
        return "{}([cognito_identity_id={},cognito_identity_pool_id={}])".format(
            self.__class__.__name__, self.cognito_identity_id, self.cognito_identity_pool_id
        )


class Client(object):
    __slots__ = ["installation_id", "app_title", "app_version_name", "app_version_code", "app_package_name"]

    def __repr__(self):
        return "{}([installation_id={},app_title={},app_version_name={},app_version_code={},app_package_name={}])".format(
            self.__class__.__name__,
            self.installation_id,
            self.app_title,
            self.app_version_name,
            self.app_version_code,
            self.app_package_name,
        )


class ClientContext(object):
    __slots__ = ["custom", "env", "client"]

    def __repr__(self):
        return "{}([custom={},env={},client={}])".format(
            self.__class__.__name__, self.custom, self.env, self.client
        )


def make_obj_from_dict(_class, _dict):
    if _dict is None:
        return None
    obj = _class()
    for field in _class.__slots__:
        setattr(obj, field, _dict.get(field, None))
    return obj


def _parse_json_header(header, name):
    try:
        return json.loads(header)
    except Exception as error:
        raise FaultException(
            LAMBDA_CONTEXT_UNMARSHAL_ERROR, "Unable to parse {} JSON: {}".format(name, str(error)), None
        )


# ----------------------------------------------------------------------------------------------------------------
# Logging: print() is left alone; the root logger gets AWS's handler and format.

_LOG_FORMAT_JSON = (os.environ.get("AWS_LAMBDA_LOG_FORMAT") or "").upper() == "JSON"
_LOG_LEVEL = {None: "", "TRACE": "DEBUG"}.get(
    os.environ.get("AWS_LAMBDA_LOG_LEVEL"), os.environ.get("AWS_LAMBDA_LOG_LEVEL")
).upper()
_CURRENT_REQUEST_ID = None
_CURRENT_TENANT_ID = None

_JSON_RESERVED_FIELDS = {
    "name",
    "msg",
    "args",
    "levelname",
    "levelno",
    "pathname",
    "filename",
    "module",
    "exc_info",
    "exc_text",
    "stack_info",
    "lineno",
    "funcName",
    "created",
    "msecs",
    "relativeCreated",
    "thread",
    "threadName",
    "processName",
    "process",
    "aws_request_id",
    "tenant_id",
    "_frame_type",
    "taskName",
}


class JsonFormatter(logging.Formatter):
    def __init__(self):
        super().__init__(datefmt="%Y-%m-%dT%H:%M:%SZ")
        self._encoder = json.JSONEncoder(ensure_ascii=False, default=str)

    def format(self, record):
        record.levelno = min(50, max(0, record.levelno)) // 10 * 10
        record.levelname = logging.getLevelName(record.levelno)
        exc_info = record.exc_info
        result = {
            "timestamp": self.formatTime(record, self.datefmt),
            "level": record.levelname,
            "message": record.getMessage(),
            "logger": record.name,
            "stackTrace": traceback.format_tb(exc_info[2]) if exc_info else None,
            "errorType": exc_info[0].__name__ if exc_info else None,
            "errorMessage": str(exc_info[1]) if exc_info else None,
            "requestId": getattr(record, "aws_request_id", None),
            "location": "{}:{}:{}".format(record.pathname, record.funcName, record.lineno) if exc_info else None,
        }
        if getattr(record, "tenant_id", None) is not None:
            result["tenantId"] = record.tenant_id
        for key, value in record.__dict__.items():
            if key not in _JSON_RESERVED_FIELDS and key not in result:
                result[key] = value
        result = {key: value for key, value in result.items() if value is not None}
        return self._encoder.encode(result) + "\n"


class LambdaLoggerHandler(logging.Handler):
    def emit(self, record):
        sys.stdout.write(self.format(record))


class LambdaLoggerFilter(logging.Filter):
    def filter(self, record):
        record.aws_request_id = _CURRENT_REQUEST_ID or ""
        record.tenant_id = _CURRENT_TENANT_ID
        return True


def _setup_logging():
    logging.Formatter.converter = time.gmtime
    logger = logging.getLogger()
    handler = LambdaLoggerHandler()
    if _LOG_FORMAT_JSON:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter(
                "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n",
                "%Y-%m-%dT%H:%M:%S",
            )
        )
    if _LOG_LEVEL in logging._nameToLevel:
        logger.setLevel(_LOG_LEVEL)
    handler.addFilter(LambdaLoggerFilter())
    logger.addHandler(handler)


class Unbuffered(object):
    """Flushes after every write, so each line reaches the environment's log as soon as it is written."""

    def __init__(self, stream):
        self.stream = stream

    def __getattr__(self, attr):
        return getattr(self.stream, attr)

    def write(self, msg):
        self.stream.write(msg)
        self.stream.flush()

    def writelines(self, msgs):
        self.stream.writelines(msgs)
        self.stream.flush()


# ----------------------------------------------------------------------------------------------------------------
# The invoke loop (bootstrap.handle_event_request, run).


def handle_event_request(client, request_handler, headers, body):
    invoke_id = headers.get("lambda-runtime-aws-request-id")
    error_result = None
    try:
        client_context = None
        if headers.get("lambda-runtime-client-context"):
            client_context = _parse_json_header(headers["lambda-runtime-client-context"], "Client Context")
        cognito_identity = None
        if headers.get("lambda-runtime-cognito-identity"):
            cognito_identity = _parse_json_header(headers["lambda-runtime-cognito-identity"], "Cognito Identity")
        context = LambdaContext(
            invoke_id,
            client_context,
            cognito_identity,
            int(headers.get("lambda-runtime-deadline-ms") or 0),
            headers.get("lambda-runtime-invoked-function-arn"),
            headers.get("lambda-runtime-aws-tenant-id"),
        )
        event = unmarshal_request(body, headers.get("content-type"))
        response = request_handler(event, context)
        result, content_type = marshal_response(response)
    except FaultException as fault:
        error_result = make_error(fault.msg, fault.exception_type, fault.trace, invoke_id)
    except Exception:
        etype, value, tb = sys.exc_info()
        error_result = make_error(
            str(value), etype.__name__, traceback.format_list(_user_frames(tb)), invoke_id
        )

    if error_result is not None:
        log_error(error_result)
        client.post_invocation_error(invoke_id, to_json(error_result), error_result["errorType"])
    else:
        client.post_invocation_result(invoke_id, result, content_type)


def _update_xray_env_variable(trace_id):
    if trace_id is not None:
        os.environ["_X_AMZN_TRACE_ID"] = trace_id
    elif "_X_AMZN_TRACE_ID" in os.environ:
        del os.environ["_X_AMZN_TRACE_ID"]


def _prepare_sys_path(task_root):
    # NB: AWS puts /var/task first on sys.path. This file's own folder (sys.path[0] when run as a script) must not
    # shadow the function's modules, so it is replaced by the task root.
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [entry for entry in sys.path if os.path.abspath(entry or ".") != here]
    if task_root in sys.path:
        sys.path.remove(task_root)
    sys.path.insert(0, task_root)


def run():
    global _CURRENT_REQUEST_ID, _CURRENT_TENANT_ID
    sys.stdout = Unbuffered(sys.stdout)
    sys.stderr = Unbuffered(sys.stderr)

    address = os.environ.get("AWS_LAMBDA_RUNTIME_API")
    if not address:
        sys.stderr.write("dynastream runtime: AWS_LAMBDA_RUNTIME_API is not set\n")
        sys.exit(1)
    client = RuntimeClient(address)

    task_root = os.environ.get("LAMBDA_TASK_ROOT") or os.getcwd()
    _prepare_sys_path(task_root)
    if os.path.isdir(task_root):
        os.chdir(task_root)

    error_result = None
    try:
        _setup_logging()
        request_handler = _get_handler(os.environ.get("_HANDLER", ""))
    except FaultException as fault:
        error_result = make_error(fault.msg, fault.exception_type, fault.trace)
    except Exception:
        error_result = build_fault_result(sys.exc_info(), None)

    if error_result is not None:
        logging.warning(LAMBDA_WARNING_UNHANDLED)
        log_error(error_result)
        client.post_init_error(error_result)
        sys.exit(1)

    while True:
        try:
            headers, body = client.wait_next_invocation()
        except Exception as error:
            # The Runtime API is gone (the environment is shutting down): nothing can be reported any more.
            sys.stderr.write("dynastream runtime: lost the Runtime API: {}\n".format(error))
            sys.exit(1)
        _CURRENT_REQUEST_ID = headers.get("lambda-runtime-aws-request-id")
        _CURRENT_TENANT_ID = headers.get("lambda-runtime-aws-tenant-id")
        _update_xray_env_variable(headers.get("lambda-runtime-trace-id"))
        try:
            handle_event_request(client, request_handler, headers, body)
        except (http.client.HTTPException, OSError) as error:
            sys.stderr.write("dynastream runtime: lost the Runtime API: {}\n".format(error))
            sys.exit(1)


if __name__ == "__main__":
    run()
