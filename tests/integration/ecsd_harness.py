"""Integration-test harness for ecsd: starts the real binary, hands out boto3 clients and an aws CLI runner.

Every boto3 client made here (and every aws CLI call, through a CLI plugin that imports this module) gets a
botocore 'before-parse' hook that walks the raw response body against the operation's output shape from
botocore's model, so a misspelled member, a wrong JSON type, a missing request id or a malformed error body
fails the test instead of being silently dropped by botocore's parser.

Environment:
  ECSD_BIN        path of the ecsd binary (default <repo>/build/ecsd)
  ECSD_KEEP_TMP   if set, temp dirs (data dir, daemon log) are kept and their paths printed
  ECSD_SHOW_LOG   if set, the daemon log tail is printed when a test fails

Docker: a daemon's containers and networks carry the label ecsd.instance=<its instance id>. When a daemon
is cleaned up it is reset (POST /_ecsd/reset) while still running, then killed, and anything of its own
left on the engine is force-removed; if the reset itself left something behind, the cleanup fails.
DockerTestCase (tests with real containers) does the same after every test and skips without an engine.
"""

import base64
import binascii
import datetime
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

ACCOUNT_ID = "000000000000"
ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
DEFAULT_REGION = "us-east-1"
ECS_TARGET_PREFIX = "AmazonEC2ContainerServiceV20141113"

# Only loopback traffic: never let a proxy from the environment intercept 127.0.0.1, and never read the
# developer's ~/.aws files or the instance metadata service.
_no_proxy = ",".join(x for x in (os.environ.get("NO_PROXY", ""), "127.0.0.1,localhost") if x)
os.environ["NO_PROXY"] = os.environ["no_proxy"] = _no_proxy
os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
for _var in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
    os.environ.pop(_var, None)
os.environ["AWS_CONFIG_FILE"] = os.devnull
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull

# Error codes every AWS protocol front end may emit although they are not in a service's model.
COMMON_ERROR_CODES = frozenset(
    {
        "AccessDeniedException",
        "IncompleteSignature",
        "InternalFailure",
        "InvalidAction",
        "InvalidClientTokenId",
        "InvalidParameterCombination",
        "InvalidParameterValue",
        "InvalidQueryParameter",
        "InvalidSignatureException",
        "MalformedQueryString",
        "MissingAction",
        "MissingAuthenticationToken",
        "MissingParameter",
        "OptInRequired",
        "RequestEntityTooLarge",
        "RequestExpired",
        "SerializationException",
        "ServiceUnavailable",
        "ThrottlingException",
        "Throttling",
        "UnknownOperationException",
        "UnrecognizedClientException",
        "ValidationError",
        "ValidationException",
    }
)


def binary_path():
    return os.environ.get("ECSD_BIN") or os.path.join(REPO, "build", "ecsd")


def free_port():
    """A loopback port that was free a moment ago (bind 0, read, close)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout=10.0, interval=0.02, message="condition"):
    """Poll predicate() until it returns a truthy value; return that value or raise AssertionError."""
    deadline = time.monotonic() + timeout
    last_exc = None
    while True:
        try:
            value = predicate()
            if value:
                return value
        except ModelViolation:
            raise
        except Exception as exc:  # noqa: BLE001 - remembered for the failure message
            last_exc = exc
        if time.monotonic() >= deadline:
            detail = f" (last error: {last_exc!r})" if last_exc else ""
            raise AssertionError(f"timed out after {timeout}s waiting for {message}{detail}")
        time.sleep(interval)


# ---------------------------------------------------------------------------------------------------------
# Raw-response model check
# ---------------------------------------------------------------------------------------------------------

class ModelViolation(AssertionError):
    """A response that a real AWS endpoint would never send for this operation."""


_violations_lock = threading.Lock()
_violations = []  # every violation seen in this process, also raised at the call site


def recorded_violations():
    with _violations_lock:
        return list(_violations)


def clear_violations():
    with _violations_lock:
        _violations.clear()


def _lower_headers(headers):
    return {str(k).lower(): v for k, v in dict(headers or {}).items()}


def _no_dup_object(pairs):
    obj = {}
    for k, v in pairs:
        if k in obj:
            raise ValueError(f"duplicate JSON key {k!r}")
        obj[k] = v
    return obj


def _known_error_codes(service_model):
    codes = set(COMMON_ERROR_CODES)
    for shape in service_model.error_shapes:
        codes.add(shape.name)
        codes.add(shape.metadata.get("error", {}).get("code", shape.name))
    return codes


def _error_shape_for(service_model, code):
    for shape in service_model.error_shapes:
        if code in (shape.name, shape.metadata.get("error", {}).get("code")):
            return shape
    return None


def _is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _check_json_value(shape, value, path, problems):
    if value is None:
        problems.append(f"{path}: null (AWS omits absent members instead of sending null)")
        return
    t = shape.type_name
    if t == "structure":
        if not isinstance(value, dict):
            problems.append(f"{path}: expected object for structure {shape.name}, got {type(value).__name__}")
            return
        by_wire = {m.serialization.get("name", n): m for n, m in shape.members.items()}
        for key, v in value.items():
            member = by_wire.get(key)
            if member is None:
                problems.append(f"{path}.{key}: not a member of {shape.name}")
                continue
            _check_json_value(member, v, f"{path}.{key}", problems)
    elif t == "list":
        if not isinstance(value, list):
            problems.append(f"{path}: expected array for list {shape.name}, got {type(value).__name__}")
            return
        for i, item in enumerate(value):
            _check_json_value(shape.member, item, f"{path}[{i}]", problems)
    elif t == "map":
        if not isinstance(value, dict):
            problems.append(f"{path}: expected object for map {shape.name}, got {type(value).__name__}")
            return
        for k, v in value.items():
            _check_json_value(shape.key, k, f"{path}<key {k!r}>", problems)
            _check_json_value(shape.value, v, f"{path}[{k!r}]", problems)
    elif t == "string":
        if not isinstance(value, str):
            problems.append(f"{path}: expected string, got {type(value).__name__} {value!r}")
        elif getattr(shape, "enum", None) and value not in shape.enum:
            problems.append(f"{path}: {value!r} is not in enum {shape.name} {list(shape.enum)}")
    elif t in ("integer", "long"):
        if not isinstance(value, int) or isinstance(value, bool):
            problems.append(f"{path}: expected {t}, got {type(value).__name__} {value!r}")
    elif t == "boolean":
        if not isinstance(value, bool):
            problems.append(f"{path}: expected boolean, got {type(value).__name__} {value!r}")
    elif t in ("double", "float"):
        if not _is_number(value):
            problems.append(f"{path}: expected {t}, got {type(value).__name__} {value!r}")
    elif t == "timestamp":
        fmt = shape.serialization.get("timestampFormat", "unixTimestamp")
        if fmt == "unixTimestamp":
            if not _is_number(value):
                problems.append(f"{path}: expected epoch-seconds number for timestamp, got {value!r}")
        elif not isinstance(value, str):
            problems.append(f"{path}: expected {fmt} string for timestamp, got {value!r}")
    elif t == "blob":
        if not isinstance(value, str):
            problems.append(f"{path}: expected base64 string for blob, got {type(value).__name__}")
        else:
            try:
                base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError):
                problems.append(f"{path}: blob is not valid base64")
    else:
        problems.append(f"{path}: harness does not know shape type {t}")


def _parse_iso8601(text):
    s = text.strip()
    if s.endswith("Z"):
        s = s[:-1] + "+00:00"
    datetime.datetime.fromisoformat(s)


def _local(tag):
    return tag.rsplit("}", 1)[-1]


def xml_child(elem, name):
    """First child element with this local name (namespaces ignored), or None."""
    return next((c for c in elem if _local(c.tag) == name), None)


def _check_xml_value(shape, elem, path, problems):
    t = shape.type_name
    children = list(elem)
    if t == "structure":
        by_wire = {m.serialization.get("name", n): m for n, m in shape.members.items()}
        seen = set()
        for child in children:
            name = _local(child.tag)
            member = by_wire.get(name)
            if member is None:
                problems.append(f"{path}/{name}: not a member of {shape.name}")
                continue
            flattened = member.type_name == "list" and member.serialization.get("flattened")
            if name in seen and not flattened:
                problems.append(f"{path}/{name}: element repeated")
            seen.add(name)
            if flattened:
                _check_xml_value(member.member, child, f"{path}/{name}", problems)
            else:
                _check_xml_value(member, child, f"{path}/{name}", problems)
        if (elem.text or "").strip():
            problems.append(f"{path}: structure element has text {elem.text.strip()!r}")
        return
    if t == "list":
        item_name = shape.member.serialization.get("name", "member")
        for i, child in enumerate(children):
            if _local(child.tag) != item_name:
                problems.append(f"{path}/{_local(child.tag)}: list items must be <{item_name}>")
                continue
            _check_xml_value(shape.member, child, f"{path}/{item_name}[{i + 1}]", problems)
        return
    if t == "map":
        key_name = shape.key.serialization.get("name", "key")
        value_name = shape.value.serialization.get("name", "value")
        for child in children:
            if _local(child.tag) != "entry":
                problems.append(f"{path}/{_local(child.tag)}: map items must be <entry>")
                continue
            names = sorted(_local(c.tag) for c in child)
            if names != sorted([key_name, value_name]):
                problems.append(f"{path}/entry: expected <{key_name}> and <{value_name}>, got {names}")
        return
    if children:
        problems.append(f"{path}: scalar {t} has child elements {[ _local(c.tag) for c in children]}")
        return
    text = elem.text or ""
    try:
        if t in ("integer", "long"):
            int(text.strip())
        elif t == "boolean":
            if text.strip() not in ("true", "false"):
                raise ValueError("not true/false")
        elif t in ("double", "float"):
            float(text.strip())
        elif t == "timestamp":
            _parse_iso8601(text)
        elif t == "blob":
            base64.b64decode(text.strip(), validate=True)
        elif t == "string":
            if getattr(shape, "enum", None) and text not in shape.enum:
                raise ValueError(f"not in enum {list(shape.enum)}")
    except (ValueError, binascii.Error) as exc:
        problems.append(f"{path}: {text!r} is not a valid {t}: {exc}")


def _check_query_response(operation_model, status, body, problems):
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        problems.append(f"body is not XML: {exc}: {body[:200]!r}")
        return
    service_model = operation_model.service_model
    if status >= 300:
        if _local(root.tag) != "ErrorResponse":
            problems.append(f"error root element is <{_local(root.tag)}>, expected <ErrorResponse>")
            return
        names = [_local(c.tag) for c in root]
        if "Error" not in names or "RequestId" not in names:
            problems.append(f"<ErrorResponse> children are {names}, expected Error and RequestId")
        err = next((c for c in root if _local(c.tag) == "Error"), None)
        if err is not None:
            fields = {_local(c.tag): (c.text or "") for c in err}
            if fields.get("Type") not in ("Sender", "Receiver"):
                problems.append(f"<Error><Type> is {fields.get('Type')!r}, expected Sender or Receiver")
            code = fields.get("Code", "")
            if not code:
                problems.append("<Error><Code> missing or empty")
            elif code not in _known_error_codes(service_model):
                problems.append(f"error code {code!r} is neither in the {service_model.service_name} model nor a common AWS code")
            if "Message" not in fields:
                problems.append("<Error><Message> missing")
        rid = next((c for c in root if _local(c.tag) == "RequestId"), None)
        if rid is not None and not (rid.text or "").strip():
            problems.append("<RequestId> empty")
        return
    expected_root = operation_model.name + "Response"
    if _local(root.tag) != expected_root:
        problems.append(f"root element is <{_local(root.tag)}>, expected <{expected_root}>")
        return
    output_shape = operation_model.output_shape
    wrapper = output_shape.serialization.get("resultWrapper") if output_shape is not None else None
    allowed = {"ResponseMetadata"} | ({wrapper} if wrapper else set())
    for child in root:
        name = _local(child.tag)
        if name not in allowed:
            problems.append(f"<{expected_root}>/{name}: unexpected element (allowed: {sorted(allowed)})")
        elif name == "ResponseMetadata":
            if not any(_local(c.tag) == "RequestId" and (c.text or "").strip() for c in child):
                problems.append("ResponseMetadata without RequestId")
        else:
            _check_xml_value(output_shape, child, f"{expected_root}/{name}", problems)
    if not any(_local(c.tag) == "ResponseMetadata" for c in root):
        problems.append("no ResponseMetadata element")


def _check_ec2_response(operation_model, status, body, problems):
    """The ec2 protocol: <OpResponse> holds <requestId> and the output members (no result wrapper);
    errors are <Response><Errors><Error><Code/><Message/></Error></Errors><RequestID/></Response>."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        problems.append(f"body is not XML: {exc}: {body[:200]!r}")
        return
    if status >= 300:
        if _local(root.tag) != "Response":
            problems.append(f"error root element is <{_local(root.tag)}>, expected <Response>")
            return
        names = [_local(c.tag) for c in root]
        if names != ["Errors", "RequestID"]:
            problems.append(f"<Response> children are {names}, expected Errors and RequestID")
        errors = xml_child(root, "Errors")
        err = xml_child(errors, "Error") if errors is not None else None
        if err is None:
            problems.append("no <Errors><Error> element")
            return
        fields = {_local(c.tag): (c.text or "") for c in err}
        # EC2's model declares no error shapes: check the code's form, not its name.
        if not re.fullmatch(r"[A-Za-z0-9]+(\.[A-Za-z0-9]+)*", fields.get("Code", "")):
            problems.append(f"<Error><Code> {fields.get('Code')!r} is not an EC2 error code")
        if "Message" not in fields:
            problems.append("<Error><Message> missing")
        rid = xml_child(root, "RequestID")
        if rid is not None and not (rid.text or "").strip():
            problems.append("<RequestID> empty")
        return
    expected_root = operation_model.name + "Response"
    if _local(root.tag) != expected_root:
        problems.append(f"root element is <{_local(root.tag)}>, expected <{expected_root}>")
        return
    rid = xml_child(root, "requestId")
    if rid is None or not (rid.text or "").strip():
        problems.append("no <requestId> element")
    output_shape = operation_model.output_shape
    by_wire = {m.serialization.get("name", n): m for n, m in output_shape.members.items()} if output_shape else {}
    seen = set()
    for child in root:
        name = _local(child.tag)
        if name == "requestId":
            continue
        member = by_wire.get(name)
        if member is None:
            problems.append(f"<{expected_root}>/{name}: not a member of the output")
            continue
        if name in seen:
            problems.append(f"<{expected_root}>/{name}: element repeated")
        seen.add(name)
        _check_xml_value(member, child, f"{expected_root}/{name}", problems)


def _check_json_response(operation_model, status, headers, body, problems):
    ctype = headers.get("content-type", "")
    if not ctype.startswith("application/x-amz-json-1.1"):
        problems.append(f"Content-Type is {ctype!r}, expected application/x-amz-json-1.1")
    service_model = operation_model.service_model
    text = body.decode("utf-8") if isinstance(body, bytes) else body
    if status >= 300:
        try:
            doc = json.loads(text, object_pairs_hook=_no_dup_object)
        except ValueError as exc:
            problems.append(f"error body is not JSON: {exc}: {text[:200]!r}")
            return
        if not isinstance(doc, dict):
            problems.append("error body is not a JSON object")
            return
        code = doc.get("__type")
        if not isinstance(code, str) or not code:
            problems.append(f"error body lacks __type: {doc}")
            return
        code = code.rsplit("#", 1)[-1].split(":", 1)[0]
        if code not in _known_error_codes(service_model):
            problems.append(f"error code {code!r} is neither in the {service_model.service_name} model nor a common AWS code")
        msg = doc.get("message", doc.get("Message"))
        if not isinstance(msg, str):
            problems.append(f"error body lacks a string message/Message: {doc}")
        shape = _error_shape_for(service_model, code)
        allowed = {"__type", "message", "Message"} | (set(shape.members) if shape is not None else set())
        for key in doc:
            if key not in allowed:
                problems.append(f"error body member {key!r} is not in error shape {code}")
        return
    output_shape = operation_model.output_shape
    if not text.strip():
        if output_shape is not None and output_shape.members:
            problems.append("empty body for an operation with output members")
        return
    try:
        doc = json.loads(text, object_pairs_hook=_no_dup_object)
    except ValueError as exc:
        problems.append(f"body is not JSON: {exc}: {text[:200]!r}")
        return
    if output_shape is None:
        if doc != {}:
            problems.append(f"operation has no output but body is {text[:200]!r}")
        return
    _check_json_value(output_shape, doc, operation_model.name + "Response", problems)


def check_raw_response(operation_model, response_dict):
    """Return the list of problems of one raw botocore response dict (empty when it is well-formed)."""
    problems = []
    headers = _lower_headers(response_dict.get("headers"))
    status = response_dict.get("status_code", 0)
    body = response_dict.get("body", b"")
    if not hasattr(body, "decode") and not isinstance(body, str):
        return problems  # streaming body: nothing in ecsd's ECS/STS/ELBv2 surface streams
    if not headers.get("x-amzn-requestid"):
        problems.append("missing x-amzn-RequestId header")
    if status >= 500:
        problems.append(f"server error status {status}: {body[:300]!r}")
    protocol = operation_model.service_model.resolved_protocol
    if protocol in ("json", "rest-json"):
        _check_json_response(operation_model, status, headers, body, problems)
    elif protocol in ("query", "ec2"):
        ctype = headers.get("content-type", "")
        if "xml" not in ctype:
            problems.append(f"Content-Type is {ctype!r}, expected text/xml")
        if protocol == "ec2":
            _check_ec2_response(operation_model, status, body, problems)
        else:
            _check_query_response(operation_model, status, body, problems)
    return problems


def model_check_hook(operation_model, response_dict, **kwargs):
    """botocore 'before-parse' handler: raise ModelViolation on a response that does not fit the model."""
    problems = check_raw_response(operation_model, response_dict)
    if problems:
        body = response_dict.get("body", b"")
        msg = (
            f"ECSD_MODEL_VIOLATION in {operation_model.service_model.service_name}.{operation_model.name} "
            f"(HTTP {response_dict.get('status_code')}):\n  - " + "\n  - ".join(problems)
            + f"\n  raw body: {body[:2000]!r}"
        )
        with _violations_lock:
            _violations.append(msg)
        raise ModelViolation(msg)


def awscli_initialize(event_hooks):
    """aws CLI v1 plugin entry point: the same model check for every response the CLI parses."""
    event_hooks.register("before-parse.*.*", model_check_hook)


# ---------------------------------------------------------------------------------------------------------
# Docker engine helpers (the docker CLI, used by the tests only to look at and clean up the engine)
# ---------------------------------------------------------------------------------------------------------

BUSYBOX_IMAGE = "ecsd-test/busybox:latest"
_docker_state = {}


def docker_available():
    """True when the docker CLI exists and an engine answers `docker info` (checked once per process)."""
    if "ok" not in _docker_state:
        try:
            ok = subprocess.run(["docker", "info"], capture_output=True, timeout=30).returncode == 0
        except (OSError, subprocess.SubprocessError):
            ok = False
        _docker_state["ok"] = ok
    return _docker_state["ok"]


def docker(*args, check=True, timeout=60):
    """Run the docker CLI; returns stdout (stripped). With check, a non-zero exit raises AssertionError."""
    proc = subprocess.run(["docker", *map(str, args)], capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"docker {' '.join(map(str, args))} failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc.stdout.strip()


def docker_inspect(ref, kind="container"):
    """`docker <kind> inspect` of one object as a dict, or None when it does not exist."""
    out = docker(kind, "inspect", ref, check=False)
    try:
        docs = json.loads(out) if out else []
    except ValueError:
        return None
    return docs[0] if docs else None


def docker_containers(*filters, all_states=True):
    """Ids of the containers matching every `docker ps --filter` given (e.g. "label=ecsd.managed=true")."""
    args = ["ps", "-q", "--no-trunc"] + (["-a"] if all_states else [])
    for f in filters:
        args += ["--filter", f]
    return [x for x in docker(*args).split() if x]


def docker_networks(*filters):
    args = ["network", "ls", "-q", "--no-trunc"]
    for f in filters:
        args += ["--filter", f]
    return [x for x in docker(*args).split() if x]


def docker_objects_of(instance_id):
    """(container ids, network ids) the daemon with this instance id owns on the engine."""
    label = f"label=ecsd.instance={instance_id}"
    return docker_containers(label), docker_networks(label)


def docker_force_remove(containers=(), networks=()):
    """Best-effort removal (docker rm -f, docker network rm); never raises."""
    try:
        if containers:
            docker("rm", "-f", "-v", *containers, check=False)
        for net in networks:
            docker("network", "rm", net, check=False)
    except (OSError, subprocess.SubprocessError):
        pass


def ensure_busybox_image():
    """Build the offline busybox test image when it is missing (no registry is reachable in tests)."""
    if docker("image", "inspect", BUSYBOX_IMAGE, check=False):
        return
    proc = subprocess.run(
        ["bash", os.path.join(HERE, "make_busybox_image.sh"), BUSYBOX_IMAGE], capture_output=True, text=True,
        timeout=300,
    )
    if proc.returncode != 0:
        raise AssertionError(f"could not build {BUSYBOX_IMAGE}: {proc.stderr.strip()}")


# ---------------------------------------------------------------------------------------------------------
# The daemon
# ---------------------------------------------------------------------------------------------------------

class Daemon:
    """One ecsd process on a loopback port, with its own temp data dir."""

    def __init__(self, account_id=ACCOUNT_ID, data_dir=None, extra_args=()):
        self.binary = binary_path()
        self.account_id = account_id
        self.extra_args = list(extra_args)
        self.tmp_root = tempfile.mkdtemp(prefix="ecsd-it-")
        self.data_dir = data_dir or os.path.join(self.tmp_root, "data")
        os.makedirs(self.data_dir, exist_ok=True)
        self.log_path = os.path.join(self.tmp_root, "ecsd.log")
        self.proc = None
        self.port = None
        self._log = None
        self._starts = 0
        self._instance_id = None
        self.expected_down = True  # no process yet

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout=10.0):
        if not os.access(self.binary, os.X_OK):
            raise FileNotFoundError(f"ecsd binary not found at {self.binary} (build it or set ECSD_BIN)")
        self.expected_down = False
        last_error = None
        for _attempt in range(3):  # the free port can be taken between probe and bind
            self.port = free_port()
            self._starts += 1
            self._log = open(self.log_path, "ab")
            self._log.write(f"\n==== start #{self._starts} on port {self.port}\n".encode())
            self._log.flush()
            cmd = [
                self.binary, "--host", "127.0.0.1", "--port", str(self.port), "--data-dir", self.data_dir,
                "--account-id", self.account_id, "--log-level", "info", *self.extra_args,
            ]
            self.proc = subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
            )
            try:
                self.wait_healthy(timeout)
                self.instance_id()  # remembered now: cleanup needs it after the data dir is gone
                return self
            except AssertionError as exc:
                last_error = exc
                if self.proc.poll() is None:
                    self.kill()
                    raise
                self._close_log()
        raise AssertionError(f"ecsd did not start: {last_error}")

    def instance_id(self):
        """The id in the ecsd.instance label of this daemon's containers, or None.

        Asked from GET /_ecsd/health while the daemon runs (it holds its store's file lock); read from
        the store once it has stopped."""
        if self._instance_id is None:
            if self.alive():
                try:
                    with urllib.request.urlopen(self.endpoint + "/_ecsd/health", timeout=5) as r:
                        self._instance_id = json.loads(r.read()).get("instance_id") or None
                except (OSError, ValueError):
                    pass
            if self._instance_id is None:
                self._instance_id = self._stored_instance_id()
        return self._instance_id

    def _stored_instance_id(self):
        path = os.path.join(self.data_dir, "ecsd.db")
        if not os.path.exists(path):
            return None
        try:
            con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
            try:
                row = con.execute("SELECT value FROM meta WHERE key = 'instance_id'").fetchone()
            finally:
                con.close()
        except sqlite3.Error:
            row = None
        return row[0] if row and row[0] else None

    def docker_objects(self):
        """(container ids, network ids) labelled with this daemon's instance id; ([], []) without Docker."""
        iid = self.instance_id()
        if iid is None or not docker_available():
            return [], []
        return docker_objects_of(iid)

    def reset_runtime(self):
        """POST /_ecsd/reset while the daemon runs; returns True when it answered 2xx."""
        if not self.alive():
            return False
        try:
            return 200 <= raw_request(self.endpoint, "POST", "/_ecsd/reset", timeout=60).status < 300
        except OSError:
            return False

    def health(self, timeout=2.0):
        with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(
            self.endpoint + "/_ecsd/health", timeout=timeout
        ) as resp:
            return resp.status, json.loads(resp.read().decode())

    def wait_healthy(self, timeout=10.0):
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"ecsd exited with code {self.proc.returncode} during startup\n{self.log_tail()}"
                )
            try:
                status, doc = self.health(timeout=1.0)
                if status == 200 and doc.get("status") == "ok":
                    return
            except (OSError, ValueError):
                pass
            if time.monotonic() >= deadline:
                raise AssertionError(f"ecsd not healthy after {timeout}s\n{self.log_tail()}")
            time.sleep(0.02)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill(self):
        """SIGKILL and reap; returns the exit status."""
        if self.proc is None:
            return None
        self.expected_down = True
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        rc = self.proc.wait(timeout=30)
        self._close_log()
        return rc

    def stop(self, timeout=20.0, check=True):
        """SIGTERM and wait; with check, raise unless the exit code is 0. Returns the exit code."""
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.expected_down = True
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=30)
            self._close_log()
            raise AssertionError(f"ecsd did not exit within {timeout}s of SIGTERM\n{self.log_tail()}")
        self._close_log()
        if check and rc != 0:
            raise AssertionError(f"ecsd exited with {rc} on SIGTERM, expected 0\n{self.log_tail()}")
        return rc

    def restart(self, hard=True):
        """Kill (SIGKILL if hard, else SIGTERM expecting exit 0) and start again on the same data dir.

        The new process gets a fresh port, so clients must be made again after a restart.
        """
        if hard:
            self.kill()
        else:
            self.stop()
        return self.start()

    def log_tail(self, lines=60):
        try:
            with open(self.log_path, "rb") as f:
                data = f.read()[-20000:].decode("utf-8", "replace")
        except OSError:
            return "(no daemon log)"
        return "---- ecsd log tail ----\n" + "\n".join(data.splitlines()[-lines:])

    def _close_log(self):
        if self._log is not None:
            self._log.close()
            self._log = None

    def cleanup(self):
        leftovers = None
        try:
            # Reset first so the daemon removes its own containers and networks, then check the engine.
            reset_ok = self.reset_runtime()
            if self.proc is not None and self.proc.poll() is None:
                self.kill()
            containers, networks = self.docker_objects()
            if containers or networks:
                if reset_ok:
                    leftovers = (containers, networks)
                docker_force_remove(containers, networks)
        finally:
            self._close_log()
            if os.environ.get("ECSD_KEEP_TMP"):
                print(f"[ecsd_harness] kept {self.tmp_root}", file=sys.stderr)
            else:
                shutil.rmtree(self.tmp_root, ignore_errors=True)
        if leftovers:
            raise AssertionError(
                f"POST /_ecsd/reset left Docker objects of daemon {self._instance_id} behind (force-removed now): "
                f"containers {leftovers[0]}, networks {leftovers[1]}"
            )


# ---------------------------------------------------------------------------------------------------------
# Clients
# ---------------------------------------------------------------------------------------------------------

def make_client(endpoint, service, region=DEFAULT_REGION, validate=True, read_timeout=60,
                access_key=ACCESS_KEY, secret_key=SECRET_KEY):
    """A boto3 client for the daemon, with no retries (a throttle or 5xx must surface) and the model check."""
    import boto3
    from botocore.config import Config

    session = boto3.session.Session(
        aws_access_key_id=access_key, aws_secret_access_key=secret_key, region_name=region
    )
    config = Config(
        retries={"total_max_attempts": 1, "mode": "standard"},
        connect_timeout=5,
        read_timeout=read_timeout,
        parameter_validation=validate,
        max_pool_connections=4,
    )
    client = session.client(service, endpoint_url=endpoint, region_name=region, config=config)
    client.meta.events.register("before-parse.*.*", model_check_hook)
    return client


def sign_request(method, url, service, region=DEFAULT_REGION, headers=None, body=b""):
    """SigV4-sign a raw request with the dummy credentials; returns the header dict to send."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    req = AWSRequest(method=method, url=url, data=body, headers=dict(headers or {}))
    SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), service, region).add_auth(req)
    return dict(req.headers.items())


class RawResponse:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = {k.lower(): v for k, v in headers}
        self.body = body

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def xml(self):
        return ET.fromstring(self.body)

    def __repr__(self):
        return f"<HTTP {self.status} {self.headers} {self.body[:500]!r}>"


def raw_request(endpoint, method, path, body=b"", headers=None, sign_service=None, region=DEFAULT_REGION,
                timeout=30):
    """One HTTP request with urllib (no proxies); HTTP errors are returned, not raised."""
    url = endpoint + path
    if isinstance(body, str):
        body = body.encode("utf-8")
    headers = dict(headers or {})
    if sign_service:
        headers = sign_request(method, url, sign_service, region, headers, body)
    req = urllib.request.Request(url, data=body if method != "GET" else None, method=method, headers=headers)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(req, timeout=timeout) as resp:
            return RawResponse(resp.status, resp.getheaders(), resp.read())
    except urllib.error.HTTPError as err:
        with err:
            return RawResponse(err.code, err.headers.items(), err.read())


# ---------------------------------------------------------------------------------------------------------
# Test base class
# ---------------------------------------------------------------------------------------------------------

class EcsdTestCase(unittest.TestCase):
    """One daemon per test class; state is wiped with POST /_ecsd/reset before each test.

    Subclasses that need a fresh daemon per test (durability) set PER_TEST_DAEMON = True.
    """

    PER_TEST_DAEMON = False
    DAEMON_ARGS = ()  # extra ecsd command-line arguments for this class's daemons
    daemon = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if not cls.PER_TEST_DAEMON:
            cls.daemon = cls._start_daemon(cls.addClassCleanup)

    @classmethod
    def _start_daemon(cls, add_cleanup):
        daemon = Daemon(extra_args=cls.DAEMON_ARGS)
        add_cleanup(daemon.cleanup)
        daemon.start()
        return daemon

    def setUp(self):
        super().setUp()
        clear_violations()
        self._cli_home = None
        if self.PER_TEST_DAEMON:
            self.daemon = self._start_daemon(self.addCleanup)
        else:
            if not self.daemon.alive():
                self.fail(f"ecsd died before this test\n{self.daemon.log_tail()}")
            self.reset()
        self.addCleanup(self._check_after_test)

    def _check_after_test(self):
        violations = recorded_violations()
        d = self.daemon
        if d is not None and not d.alive() and not d.expected_down:
            self.fail(f"ecsd exited unexpectedly with {d.proc.returncode}\n{d.log_tail()}")
        result = getattr(getattr(self, "_outcome", None), "result", None)
        reported = list(getattr(result, "failures", [])) + list(getattr(result, "errors", []))
        already_failed = any(test is self for test, _tb in reported)
        if violations and not already_failed:  # a violation raised at the call site is reported there
            self.fail("model violations seen during the test:\n" + "\n".join(violations))

    def run(self, result=None):
        # Print the daemon log tail next to a failure when asked to.
        before = len(result.failures) + len(result.errors) if result is not None else 0
        out = super().run(result)
        if (
            result is not None
            and os.environ.get("ECSD_SHOW_LOG")
            and len(result.failures) + len(result.errors) > before
            and self.daemon is not None
        ):
            print(self.daemon.log_tail(), file=sys.stderr)
        return out

    # -- helpers ---------------------------------------------------------------------------------------

    @property
    def endpoint(self):
        return self.daemon.endpoint

    def client(self, service, region=DEFAULT_REGION, validate=True, **kw):
        return make_client(self.endpoint, service, region=region, validate=validate, **kw)

    def ecs(self, region=DEFAULT_REGION, **kw):
        return self.client("ecs", region=region, **kw)

    def default_network(self, region=DEFAULT_REGION):
        """The default VPC as EC2 describes it: (vpc id, the first two subnet ids, the first security group)."""
        ec2 = self.client("ec2", region=region)
        subnets = [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]][:2]
        vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
        group = ec2.describe_security_groups()["SecurityGroups"][0]["GroupId"]
        return vpc, subnets, group

    def reset(self, path="/_ecsd/reset"):
        resp = raw_request(self.endpoint, "POST", path)
        self.assertTrue(200 <= resp.status < 300, f"reset via {path} failed: {resp!r}")
        return resp

    def raw(self, method, path, body=b"", headers=None, sign_service=None, region=DEFAULT_REGION, timeout=30):
        return raw_request(self.endpoint, method, path, body, headers, sign_service, region, timeout)

    def ecs_raw(self, operation, body, region=DEFAULT_REGION, extra_headers=None):
        """POST an awsJson1.1 ECS request with an arbitrary body (str/bytes/dict), signed."""
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
        headers = {
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": f"{ECS_TARGET_PREFIX}.{operation}",
        }
        headers.update(extra_headers or {})
        return self.raw("POST", "/", body, headers, sign_service="ecs", region=region)

    def cli_dir(self):
        """The aws CLI's HOME and working directory for this test (relative file:// paths resolve here)."""
        if self._cli_home is None:
            self._cli_home = tempfile.mkdtemp(prefix="ecsd-cli-")
            self.addCleanup(shutil.rmtree, self._cli_home, True)
            with open(os.path.join(self._cli_home, "config"), "w") as f:
                # Load this module as an aws CLI plugin so CLI responses get the same model check.
                f.write("[plugins]\necsd_model_check = ecsd_harness\n")
        return self._cli_home

    def _cli_env(self):
        self.cli_dir()
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(
            AWS_ACCESS_KEY_ID=ACCESS_KEY,
            AWS_SECRET_ACCESS_KEY=SECRET_KEY,
            AWS_CONFIG_FILE=os.path.join(self._cli_home, "config"),
            AWS_SHARED_CREDENTIALS_FILE=os.path.join(self._cli_home, "credentials-none"),
            AWS_EC2_METADATA_DISABLED="true",
            AWS_MAX_ATTEMPTS="1",
            AWS_PAGER="",
            HOME=self._cli_home,
            PYTHONPATH=os.pathsep.join(p for p in (HERE, os.environ.get("PYTHONPATH", "")) if p),
        )
        return env

    def aws(self, *args, region=DEFAULT_REGION, cwd=None, timeout=180):
        """Run the real aws CLI against the daemon. Returns (rc, parsed JSON or None, stderr)."""
        cmd = ["aws", "--endpoint-url", self.endpoint, "--region", region, "--output", "json", *map(str, args)]
        proc = subprocess.run(
            cmd, env=self._cli_env(), cwd=cwd or self._cli_home, capture_output=True, text=True, timeout=timeout
        )
        if "ECSD_MODEL_VIOLATION" in proc.stderr:
            self.fail(f"aws {' '.join(map(str, args))}: response does not match the model:\n{proc.stderr}")
        out = proc.stdout.strip()
        parsed = None
        if out:
            try:
                parsed = json.loads(out)
            except ValueError:
                parsed = None
        return proc.returncode, parsed, proc.stderr

    def aws_ok(self, *args, **kw):
        rc, doc, err = self.aws(*args, **kw)
        self.assertEqual(rc, 0, f"aws {' '.join(map(str, args))} failed (rc {rc}):\n{err}")
        return doc

    def aws_err(self, code, *args, **kw):
        """Run the CLI expecting a service error with the given code; returns stderr."""
        rc, _doc, err = self.aws(*args, **kw)
        self.assertNotEqual(rc, 0, f"aws {' '.join(map(str, args))} unexpectedly succeeded")
        self.assertIn(f"({code})", err, f"aws {' '.join(map(str, args))}: expected {code}, stderr:\n{err}")
        return err

    def assertClientError(self, code, fn, *args, message=None, status=400, **kwargs):
        """Call fn expecting a botocore ClientError with this code (and message substring); return it."""
        from botocore.exceptions import ClientError

        try:
            result = fn(*args, **kwargs)
        except ClientError as exc:
            err = exc.response.get("Error", {})
            meta = exc.response.get("ResponseMetadata", {})
            self.assertEqual(err.get("Code"), code, f"wrong error code; full error: {exc.response}")
            if status is not None:
                self.assertEqual(meta.get("HTTPStatusCode"), status, f"wrong HTTP status; error: {exc.response}")
            if message is not None:
                self.assertIn(message, err.get("Message", ""), f"wrong message; error: {exc.response}")
            return exc
        self.fail(f"expected {code}, call succeeded with {result!r}")

    def arn(self, resource, region=DEFAULT_REGION):
        return f"arn:aws:ecs:{region}:{ACCOUNT_ID}:{resource}"


class DockerTestCase(EcsdTestCase):
    """Tests that run real containers: skipped without a Docker engine; after every test the daemon is reset
    (POST /_ecsd/reset) and the engine must hold no container or network of that daemon any more."""

    POLL_INTERVAL = 0.25

    @classmethod
    def setUpClass(cls):
        if not docker_available():
            raise unittest.SkipTest("no Docker engine answers `docker info`")
        ensure_busybox_image()
        super().setUpClass()

    def setUp(self):
        super().setUp()
        self.addCleanup(self._check_engine_clean)

    def _check_engine_clean(self):
        d = self.daemon
        if d is None:
            return
        reset_ok = d.reset_runtime()
        containers, networks = d.docker_objects()
        if not (containers or networks):
            return
        docker_force_remove(containers, networks)
        if reset_ok:
            self.fail(f"POST /_ecsd/reset left containers {containers} and networks {networks} of daemon "
                      f"{d.instance_id()} on the engine (force-removed now)")

    # -- helpers ---------------------------------------------------------------------------------------

    def wait_for(self, predicate, timeout=60.0, message="condition"):
        return wait_until(predicate, timeout=timeout, interval=self.POLL_INTERVAL, message=message)

    def describe_task(self, cluster, task_arn, client=None):
        resp = (client or self.ecs()).describe_tasks(cluster=cluster, tasks=[task_arn])
        self.assertEqual(resp.get("failures", []), [], f"describe_tasks failures: {resp}")
        self.assertEqual(len(resp["tasks"]), 1, f"describe_tasks: {resp}")
        return resp["tasks"][0]

    def wait_task(self, cluster, task_arn, predicate=None, last_status=None, timeout=60.0, client=None):
        """Poll describe_tasks until predicate(task) holds (or lastStatus == last_status); returns the task."""
        state = {}

        def check():
            task = self.describe_task(cluster, task_arn, client)
            state["task"] = task
            if last_status is not None and task["lastStatus"] != last_status:
                return None
            return task if predicate is None or predicate(task) else None

        try:
            return wait_until(check, timeout=timeout, interval=self.POLL_INTERVAL,
                              message=f"task {task_arn} ({last_status or 'predicate'})")
        except AssertionError as exc:
            raise AssertionError(f"{exc}\nlast seen: {json.dumps(state.get('task'), default=str, indent=1)}") from None

    def run_task(self, cluster, task_definition, client=None, **kw):
        """RunTask expecting one task and no failures; returns the task."""
        resp = (client or self.ecs()).run_task(cluster=cluster, taskDefinition=task_definition, **kw)
        self.assertEqual(resp.get("failures", []), [], f"run_task failures: {resp}")
        self.assertEqual(len(resp["tasks"]), kw.get("count", 1), f"run_task: {resp}")
        return resp["tasks"][0]

    def container_of(self, task, name="app"):
        for c in task.get("containers", []):
            if c.get("name") == name:
                return c
        self.fail(f"task has no container {name!r}: {task.get('containers')}")

    def task_containers_on_engine(self, task_arn):
        """Engine container ids carrying this task ARN and this daemon's instance label."""
        return docker_containers(f"label=com.amazonaws.ecs.task-arn={task_arn}",
                                 f"label=ecsd.instance={self.daemon.instance_id()}")

    def http_get(self, url, timeout=3.0):
        """GET through no proxy; returns (status, body text)."""
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(url, timeout=timeout) as resp:
            return resp.status, resp.read().decode("utf-8", "replace")


def busybox_container(name="app", command=None, essential=True, **extra):
    """A container definition on the offline busybox image (command: a shell script string or an argv list)."""
    c = {"name": name, "image": BUSYBOX_IMAGE, "essential": essential, "memory": 32, "stopTimeout": 2}
    if isinstance(command, str):
        c["command"] = ["sh", "-c", command]
    elif command is not None:
        c["command"] = list(command)
    c.update(extra)
    return {k: v for k, v in c.items() if v is not None}  # memory=None etc. drops a default


def httpd_command(port=80, body="ok"):
    """Shell command serving `body` at / with busybox httpd in the foreground."""
    return f"mkdir -p /www && echo {body} > /www/index.html && exec httpd -f -p {port} -h /www"


# ---------------------------------------------------------------------------------------------------------
# ECS fixtures shared by the test files
# ---------------------------------------------------------------------------------------------------------

# An image reference whose pull fails at once (nothing listens on 127.0.0.1:1), so services with
# desiredCount > 0 never start containers on the test machine's Docker engine.
UNPULLABLE_IMAGE = "127.0.0.1:1/ecsd-it/never-pulled:latest"
# The default VPC's subnet in us-east-1a and its default security group for account 000000000000:
# ecsd derives these ids from account and region, so they are the same in every daemon (ECS checks
# awsvpc subnets and security groups against EC2, as AWS does).
SUBNET = "subnet-06b56746f1b4671e0"
SECURITY_GROUP = "sg-0a06357c5ce80a6eb"
AWSVPC_NETWORK = {
    "awsvpcConfiguration": {"subnets": [SUBNET], "securityGroups": [SECURITY_GROUP], "assignPublicIp": "DISABLED"}
}


def fargate_task_definition(family, cpu="256", memory="512", image=UNPULLABLE_IMAGE, **extra):
    """Arguments for register_task_definition: a minimal valid Fargate task definition."""
    args = {
        "family": family,
        "networkMode": "awsvpc",
        "requiresCompatibilities": ["FARGATE"],
        "cpu": cpu,
        "memory": memory,
        "containerDefinitions": [{"name": "app", "image": image, "essential": True}],
    }
    args.update(extra)
    return args


def ec2_task_definition(family, image=UNPULLABLE_IMAGE, **extra):
    """Arguments for register_task_definition: a minimal bridge-mode EC2 task definition."""
    args = {
        "family": family,
        "networkMode": "bridge",
        "containerDefinitions": [{"name": "app", "image": image, "memory": 64, "essential": True}],
    }
    args.update(extra)
    return args


def tags_dict(tags):
    """ECS [{key, value}] tags as a dict."""
    return {t["key"]: t["value"] for t in tags or []}


def td_arn(family, revision, region=DEFAULT_REGION):
    return f"arn:aws:ecs:{region}:{ACCOUNT_ID}:task-definition/{family}:{revision}"


def paginate(call, key, **kwargs):
    """Follow nextToken by hand; returns (all items, list of page sizes)."""
    items, sizes, token, seen_tokens = [], [], None, set()
    while True:
        args = dict(kwargs)
        if token:
            args["nextToken"] = token
        page = call(**args)
        items.extend(page.get(key, []))
        sizes.append(len(page.get(key, [])))
        token = page.get("nextToken")
        if not token:
            return items, sizes
        if token in seen_tokens or len(sizes) > 1000:
            raise AssertionError(f"pagination does not terminate (token {token!r} repeated)")
        seen_tokens.add(token)


def assert_subset(testcase, expected, actual, path="$"):
    """Every member given in `expected` appears unchanged in `actual` (the server may add defaults)."""
    if isinstance(expected, dict):
        testcase.assertIsInstance(actual, dict, f"{path}: expected an object, got {actual!r}")
        for key, value in expected.items():
            testcase.assertIn(key, actual, f"{path}.{key} missing; got keys {sorted(actual)}")
            assert_subset(testcase, value, actual[key], f"{path}.{key}")
    elif isinstance(expected, list):
        testcase.assertIsInstance(actual, list, f"{path}: expected a list, got {actual!r}")
        testcase.assertEqual(len(expected), len(actual), f"{path}: list length differs: {expected!r} vs {actual!r}")
        for i, (e, a) in enumerate(zip(expected, actual)):
            assert_subset(testcase, e, a, f"{path}[{i}]")
    else:
        testcase.assertEqual(expected, actual, f"{path} changed")


def main():
    unittest.main(verbosity=2)
