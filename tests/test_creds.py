"""Credential chain end to end: tests/helpers/credtool (the real api/ code)
against loopback servers playing the ECS/EKS container endpoint and EC2
IMDSv2, plus credential_process scripts. credtool prints what it resolved as
JSON and must never print a secret.

Environment: HLFS_BUILD_DIR (meson build directory, default <repo>/build).
"""
import datetime
import http.server
import json
import os
import re
import socket
import subprocess
import threading
import time

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.abspath(os.environ.get("HLFS_BUILD_DIR", os.path.join(REPO, "build")))
CREDTOOL = os.path.join(BUILD, "tests", "credtool")

SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYzSECRETzKEY"
TOKEN = "IQoJb3JpZ2luX2VjSESSIONzTOKENzSECRET/+=="

pytestmark = pytest.mark.skipif(not os.path.exists(CREDTOOL),
                                reason="credtool not built: " + CREDTOOL)


def iso(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


def base_env(tmp_path, **extra):
    """A clean environment: no real ~/.aws, IMDS off unless a test turns it on."""
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"),
        "AWS_CONFIG_FILE": str(tmp_path / "config"),
        "AWS_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    for k, v in os.environ.items():
        if k.startswith(("ASAN_", "UBSAN_", "LSAN_")):
            env[k] = v
    env.update(extra)
    return env


def credtool(env, *args, timeout=30):
    """Runs credtool; returns (exit code, parsed stdout, raw stdout+stderr)."""
    p = subprocess.run([CREDTOOL, *args], env=env, capture_output=True, text=True,
                       timeout=timeout)
    assert p.stdout.strip(), "credtool printed nothing; stderr: " + p.stderr
    out = json.loads(p.stdout)
    text = p.stdout + p.stderr
    # the one rule for every run: the secret and the session token never show
    assert not re.search(r"ERROR: (Address|Leak)Sanitizer|runtime error:", p.stderr), p.stderr
    for fragment in (SECRET, TOKEN, "zSECRETzKEY", "zTOKENzSECRET"):
        assert fragment not in text
    return p.returncode, out, text


class Server:
    """A ThreadingHTTPServer on a free 127.0.0.1 port driven by a handler
    function handle(server, handler) -> (status, headers dict, body bytes)."""

    def __init__(self, handle):
        self.handle = handle
        self.requests = []  # (method, path, headers dict)
        self.lock = threading.Lock()
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def _serve(self):
                n = int(self.headers.get("Content-Length") or 0)
                if n:
                    self.rfile.read(n)
                with outer.lock:
                    outer.requests.append((self.command, self.path,
                                           {k.lower(): v for k, v in self.headers.items()}))
                status, headers, body = outer.handle(outer, self)
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_PUT = _serve

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,),
                                       daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def serve():
    servers = []

    def start(handle):
        s = Server(handle)
        servers.append(s)
        return s

    yield start
    for s in servers:
        s.close()


def creds_json(n, expires_in=6 * 3600, token=True, drop=None):
    d = {
        "Code": "Success",
        "LastUpdated": iso(time.time()),
        "Type": "AWS-HMAC",
        "AccessKeyId": f"ASIATEST{n:04d}",
        "SecretAccessKey": SECRET,
        "Token": TOKEN,
        "Expiration": iso(time.time() + expires_in),
    }
    if not token:
        del d["Token"]
    if drop:
        del d[drop]
    return json.dumps(d).encode()


# ---------------------------------------------------------------- config

def test_region_and_derived_endpoint(tmp_path):
    rc, out, _ = credtool(base_env(tmp_path, AWS_ACCESS_KEY_ID="AKIAENV",
                                   AWS_SECRET_ACCESS_KEY=SECRET, AWS_REGION="eu-west-1"))
    assert rc == 0
    assert out["region"] == "eu-west-1"
    assert out["endpoint"] == "https://healthlake.eu-west-1.amazonaws.com"
    assert out["endpoint_custom"] is False
    assert out["max_attempts"] == 3
    assert out["credentials"][0] == {**out["credentials"][0], "source": "environment",
                                     "access_key_id": "AKIAENV", "has_token": False}


def test_profile_endpoint_services_section(tmp_path):
    (tmp_path / "config").write_text(
        "[profile dev]\nregion = ap-southeast-2\nservices = local\n"
        "[services local]\nhealthlake =\n  endpoint_url = http://127.0.0.1:4566/hl\n")
    (tmp_path / "credentials").write_text(
        f"[dev]\naws_access_key_id = AKIAFILE\naws_secret_access_key = {SECRET}\n"
        f"aws_session_token = {TOKEN}\n")
    env = base_env(tmp_path)
    del env["AWS_REGION"]
    rc, out, _ = credtool(env, "--profile", "dev")
    assert rc == 0
    assert out["profile"] == "dev" and out["profile_explicit"] is True
    assert out["region"] == "ap-southeast-2"
    assert out["endpoint"] == "http://127.0.0.1:4566/hl"
    assert out["endpoint_custom"] is True
    c = out["credentials"][0]
    assert (c["source"], c["access_key_id"], c["has_token"]) == (
        "shared-credentials-file", "AKIAFILE", True)


def test_plain_http_endpoint_to_public_host_is_refused(tmp_path):
    rc, out, _ = credtool(base_env(tmp_path, AWS_ENDPOINT_URL="http://healthlake.example.com"))
    assert rc == 1
    assert out["error"] == "CONFIG"
    assert "loopback" in out["message"]


def test_no_region_names_what_was_tried(tmp_path):
    env = base_env(tmp_path)
    del env["AWS_REGION"]
    rc, out, _ = credtool(env)
    assert rc == 1
    assert out["error"] == "NO_REGION"
    for what in ("region option", "AWS_REGION", "AWS_DEFAULT_REGION", str(tmp_path / "config")):
        assert what in out["message"]


def test_no_credentials_lists_providers(tmp_path):
    rc, out, _ = credtool(base_env(tmp_path))
    assert rc == 1
    assert out["error"] == "NO_CREDENTIALS"
    for what in ("environment", "shared credentials file", "credential_process",
                 "config file", "container", "EC2 IMDS"):
        assert what in out["message"]


# ------------------------------------------------------ credential_process

def write_script(tmp_path, name, body):
    p = tmp_path / name
    p.write_text("#!/bin/sh\n" + body + "\n")
    p.chmod(0o700)
    return p


def test_credential_process_success(tmp_path):
    doc = json.dumps({"Version": 1, "AccessKeyId": "ASIAPROC", "SecretAccessKey": SECRET,
                      "SessionToken": TOKEN, "Expiration": iso(time.time() + 7200)})
    s = write_script(tmp_path, "proc.sh", f"cat <<'EOF'\n{doc}\nEOF")
    (tmp_path / "config").write_text(f"[default]\ncredential_process = {s}\n")
    rc, out, _ = credtool(base_env(tmp_path))
    assert rc == 0
    c = out["credentials"][0]
    assert (c["source"], c["access_key_id"], c["has_token"]) == (
        "credential_process", "ASIAPROC", True)
    assert abs(c["expiration"] - (time.time() + 7200)) < 60


def test_credential_process_inherits_environment_and_runs_without_shell(tmp_path):
    # a shell would expand $HOME and split on ';' -- the process must get both literally
    s = write_script(tmp_path, "args.sh",
                     '[ "$1" = \'$HOME;x\' ] || { echo "got [$1]" >&2; exit 4; }\n'
                     '[ "$MARKER" = inherited ] || { echo "no env" >&2; exit 5; }\n'
                     'echo \'{"Version": 1, "AccessKeyId": "ASIAARGS", '
                     '"SecretAccessKey": "x"}\'')
    (tmp_path / "config").write_text(f"[default]\ncredential_process = {s} '$HOME;x'\n")
    rc, out, text = credtool(base_env(tmp_path, MARKER="inherited"))
    assert rc == 0, text
    assert out["credentials"][0]["access_key_id"] == "ASIAARGS"


def test_credential_process_failure_carries_stderr(tmp_path):
    s = write_script(tmp_path, "fail.sh",
                     f"echo '{{\"SecretAccessKey\": \"{SECRET}\"}}'\n"
                     "echo 'Error loading SSO Token: token expired' >&2\nexit 255")
    (tmp_path / "config").write_text(
        f"[default]\ncredential_process = {s}\n"
        f"aws_access_key_id = AKIACONF\naws_secret_access_key = {SECRET}\n")
    rc, out, _ = credtool(base_env(tmp_path))
    assert rc == 1
    assert out["error"] == "CREDENTIALS"
    assert "status 255" in out["message"]
    assert "Error loading SSO Token: token expired" in out["message"]


def test_credential_process_bad_version_does_not_echo_output(tmp_path):
    doc = json.dumps({"Version": 2, "AccessKeyId": "ASIAPROC", "SecretAccessKey": SECRET})
    s = write_script(tmp_path, "v2.sh", f"echo '{doc}'")
    (tmp_path / "config").write_text(f"[default]\ncredential_process = {s}\n")
    rc, out, _ = credtool(base_env(tmp_path))
    assert rc == 1
    assert "Version must be the number 1" in out["message"]


def test_credential_process_timeout(tmp_path):
    s = write_script(tmp_path, "slow.sh", "exec sleep 30")
    (tmp_path / "config").write_text(f"[default]\ncredential_process = {s}\n")
    t0 = time.monotonic()
    rc, out, _ = credtool(base_env(tmp_path), "--process-timeout-ms", "500")
    assert rc == 1
    assert "did not finish" in out["message"]
    assert time.monotonic() - t0 < 10


# ------------------------------------------------------------- container

def container_handler(expected_auth, fail_first=0, drop=None, expires_in=6 * 3600):
    state = {"n": 0}

    def handle(server, h):
        state["n"] += 1
        if state["n"] <= fail_first:
            return 500, {}, b"oops"
        auth = h.headers.get("Authorization")
        want = expected_auth() if callable(expected_auth) else expected_auth
        if want is not None and auth != want:
            return 401, {}, b'{"message": "bad token"}'
        if h.headers.get("Accept") != "application/json":
            return 406, {}, b""
        return 200, {"Content-Type": "application/json"}, creds_json(
            state["n"], expires_in=expires_in, drop=drop)

    return handle


def test_container_relative_uri(tmp_path, serve):
    srv = serve(container_handler(None))
    env = base_env(tmp_path, AWS_CONTAINER_CREDENTIALS_RELATIVE_URI="/v2/credentials/abc-123")
    rc, out, text = credtool(env, "--container-host", f"127.0.0.1:{srv.port}")
    assert rc == 0, text
    c = out["credentials"][0]
    assert (c["source"], c["access_key_id"], c["has_token"]) == ("container", "ASIATEST0001",
                                                                 True)
    assert [r[:2] for r in srv.requests] == [("GET", "/v2/credentials/abc-123")]


def test_container_full_uri_with_token(tmp_path, serve):
    srv = serve(container_handler("Bearer eks-pod-identity"))
    env = base_env(tmp_path, AWS_CONTAINER_CREDENTIALS_FULL_URI=srv.url + "/v1/credentials",
                   AWS_CONTAINER_AUTHORIZATION_TOKEN="Bearer eks-pod-identity")
    rc, out, text = credtool(env)
    assert rc == 0, text
    assert out["credentials"][0]["source"] == "container"
    assert srv.requests[0][2]["authorization"] == "Bearer eks-pod-identity"


def test_container_token_file_is_read_on_every_fetch(tmp_path, serve):
    tok = tmp_path / "token"
    tok.write_text("tok-1")
    expected = {"v": "tok-1"}

    def handle(server, h):
        if h.headers.get("Authorization") != expected["v"]:
            return 401, {}, b""
        n = len(server.requests)
        # rotate the token file: the next fetch must send the new contents
        expected["v"] = f"tok-{n + 1}"
        tok.write_text(expected["v"])
        # 5 min left: every lookup is a mandatory refresh
        return 200, {}, creds_json(n, expires_in=300)

    srv = serve(handle)
    env = base_env(tmp_path, AWS_CONTAINER_CREDENTIALS_FULL_URI=srv.url + "/creds",
                   AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=str(tok),
                   AWS_CONTAINER_AUTHORIZATION_TOKEN="ignored-when-file-set")
    rc, out, text = credtool(env, "--then", "1", "--then", "2")
    assert rc == 0, text
    assert [c["access_key_id"] for c in out["credentials"]] == [
        "ASIATEST0001", "ASIATEST0002", "ASIATEST0003"]
    assert [r[2]["authorization"] for r in srv.requests] == ["tok-1", "tok-2", "tok-3"]


def test_container_wrong_token_is_fatal(tmp_path, serve):
    srv = serve(container_handler("right"))
    env = base_env(tmp_path, AWS_CONTAINER_CREDENTIALS_FULL_URI=srv.url + "/creds",
                   AWS_CONTAINER_AUTHORIZATION_TOKEN="wrong")
    rc, out, _ = credtool(env, "--fast")
    assert rc == 1
    assert out["error"] == "CREDENTIALS"
    assert "HTTP status 401" in out["message"]
    assert "3 attempts" in out["message"]
    assert len(srv.requests) == 3
    assert "wrong" not in out["message"]


def test_container_retries_then_succeeds(tmp_path, serve):
    srv = serve(container_handler(None, fail_first=2))
    env = base_env(tmp_path, AWS_CONTAINER_CREDENTIALS_FULL_URI=srv.url + "/creds")
    rc, out, text = credtool(env, "--fast")
    assert rc == 0, text
    assert out["credentials"][0]["access_key_id"] == "ASIATEST0003"
    assert len(srv.requests) == 3


def test_container_missing_field_is_fatal(tmp_path, serve):
    srv = serve(container_handler(None, drop="Token"))
    env = base_env(tmp_path, AWS_CONTAINER_CREDENTIALS_FULL_URI=srv.url + "/creds")
    rc, out, _ = credtool(env, "--fast")
    assert rc == 1
    assert "lacks Token" in out["message"]


def test_container_full_uri_must_be_local_or_https(tmp_path):
    env = base_env(tmp_path,
                   AWS_CONTAINER_CREDENTIALS_FULL_URI="http://creds.example.com/v1")
    rc, out, _ = credtool(env)
    assert rc == 1
    assert out["error"] == "CONFIG"
    assert "allowed only" in out["message"]


# ------------------------------------------------------------------ IMDS

class Imds:
    """IMDSv2: PUT /latest/api/token with the TTL header returns a token that
    every GET must carry (unless token_status makes it fall back to v1)."""

    def __init__(self, token_status=200, expires_in=(6 * 3600,), drop=None):
        self.token_status = token_status
        self.expires_in = expires_in  # per served credentials; the last one repeats
        self.drop = drop
        self.tokens = []
        self.served = 0

    def __call__(self, server, h):
        if h.command == "PUT":
            if h.path != "/latest/api/token":
                return 404, {}, b""
            if h.headers.get("x-aws-ec2-metadata-token-ttl-seconds") != "21600":
                return 400, {}, b"missing ttl"
            if self.token_status != 200:
                return self.token_status, {}, b""
            tok = f"imds-token-{len(self.tokens) + 1}"
            self.tokens.append(tok)
            return 200, {"x-aws-ec2-metadata-token-ttl-seconds": "21600"}, tok.encode()
        if self.token_status == 200:
            if h.headers.get("x-aws-ec2-metadata-token") != (self.tokens or [None])[-1]:
                return 401, {}, b""
        elif "x-aws-ec2-metadata-token" in {k.lower() for k in h.headers.keys()}:
            return 400, {}, b"unexpected token"
        if h.path == "/latest/meta-data/iam/security-credentials/":
            return 200, {}, b"healthlake-role"
        if h.path == "/latest/meta-data/iam/security-credentials/healthlake-role":
            self.served += 1
            exp = self.expires_in[min(self.served, len(self.expires_in)) - 1]
            return 200, {}, creds_json(self.served, expires_in=exp, drop=self.drop)
        return 404, {}, b""


def imds_env(tmp_path, srv, **extra):
    env = base_env(tmp_path, AWS_EC2_METADATA_SERVICE_ENDPOINT=srv.url + "/",
                   AWS_METADATA_SERVICE_TIMEOUT="2")
    del env["AWS_EC2_METADATA_DISABLED"]
    env.update(extra)
    return env


def test_imds_v2(tmp_path, serve):
    imds = Imds()
    srv = serve(imds)
    rc, out, text = credtool(imds_env(tmp_path, srv))
    assert rc == 0, text
    c = out["credentials"][0]
    assert (c["source"], c["access_key_id"], c["has_token"]) == ("imds", "ASIATEST0001", True)
    assert [r[:2] for r in srv.requests] == [
        ("PUT", "/latest/api/token"),
        ("GET", "/latest/meta-data/iam/security-credentials/"),
        ("GET", "/latest/meta-data/iam/security-credentials/healthlake-role")]
    assert all(r[2].get("x-aws-ec2-metadata-token") == "imds-token-1" for r in srv.requests[1:])


def test_imds_credentials_rotate_on_refresh(tmp_path, serve):
    imds = Imds(expires_in=(3600, 10 * 3600))
    srv = serve(imds)
    # credtool's clock jumps ahead; the server's expiries follow the real clock
    rc, out, text = credtool(imds_env(tmp_path, srv), "--then", "1800", "--then", "3000",
                             "--then", "3300")
    assert rc == 0, text
    ids = [c["access_key_id"] for c in out["credentials"]]
    assert ids[0] == ids[1] == "ASIATEST0001"  # 30 min left: cached
    assert ids[2] == "ASIATEST0002"           # 10 min left: refreshed
    assert ids[3] == "ASIATEST0002"           # the new ones last 10 h
    assert len(imds.tokens) == 2, "a new token for each retrieval"


def test_imds_static_stability_extends_short_expiry(tmp_path, serve):
    srv = serve(Imds(expires_in=(60,)))
    rc, out, text = credtool(imds_env(tmp_path, srv))
    assert rc == 0, text
    c = out["credentials"][0]
    left = c["expiration"] - c["now"]
    assert 15 * 60 + 120 <= left <= 15 * 60 + 600


def test_imds_v1_fallback(tmp_path, serve):
    srv = serve(Imds(token_status=403))
    rc, out, text = credtool(imds_env(tmp_path, srv))
    assert rc == 0, text
    assert out["credentials"][0]["source"] == "imds"
    assert all("x-aws-ec2-metadata-token" not in r[2] for r in srv.requests)


def test_imds_v1_disabled(tmp_path, serve):
    srv = serve(Imds(token_status=404))
    rc, out, _ = credtool(imds_env(tmp_path, srv, AWS_EC2_METADATA_V1_DISABLED="true"))
    assert rc == 1
    assert out["error"] == "CREDENTIALS"
    assert "IMDSv1 is disabled" in out["message"]
    assert len(srv.requests) == 1


def test_imds_token_400_gives_up_softly(tmp_path, serve):
    srv = serve(Imds(token_status=400))
    rc, out, _ = credtool(imds_env(tmp_path, srv))
    assert rc == 1
    assert out["error"] == "NO_CREDENTIALS"
    assert "EC2 IMDS" in out["message"] and "400" in out["message"]
    assert len(srv.requests) == 1


def test_imds_incomplete_credentials_are_none(tmp_path, serve):
    srv = serve(Imds(drop="Token"))
    rc, out, _ = credtool(imds_env(tmp_path, srv))
    assert rc == 1
    assert out["error"] == "NO_CREDENTIALS"
    assert "lacks Token" in out["message"]


def test_imds_disabled_sends_nothing(tmp_path, serve):
    srv = serve(Imds())
    env = imds_env(tmp_path, srv, AWS_EC2_METADATA_DISABLED="TRUE")
    rc, out, _ = credtool(env)
    assert rc == 1
    assert out["error"] == "NO_CREDENTIALS"
    assert srv.requests == []


def test_imds_unreachable_is_quick_and_soft(tmp_path):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens here now
    env = base_env(tmp_path, AWS_EC2_METADATA_SERVICE_ENDPOINT=f"http://127.0.0.1:{port}",
                   AWS_METADATA_SERVICE_NUM_ATTEMPTS="2")
    del env["AWS_EC2_METADATA_DISABLED"]
    t0 = time.monotonic()
    rc, out, _ = credtool(env)
    assert rc == 1
    assert out["error"] == "NO_CREDENTIALS"
    assert f"127.0.0.1:{port}" in out["message"]
    assert time.monotonic() - t0 < 10


def test_container_comes_before_imds(tmp_path, serve):
    imds = Imds()
    isrv = serve(imds)
    csrv = serve(container_handler(None))
    env = imds_env(tmp_path, isrv, AWS_CONTAINER_CREDENTIALS_FULL_URI=csrv.url + "/c")
    rc, out, text = credtool(env)
    assert rc == 0, text
    assert out["credentials"][0]["source"] == "container"
    assert isrv.requests == []


# ------------------------------------------- cross-check against botocore
#
# The same files and environment given to botocore (Debian's python3-botocore)
# and to credtool must pick the same profile, provider, key id and region, or
# both fail. Inputs avoid what the installed botocore predates or leaves
# lazy (AWS_REGION, assume-role).

PROC_OK = ("printf '{\"Version\": 1, \"AccessKeyId\": \"AKPROC\", "
           "\"SecretAccessKey\": \"x\", \"SessionToken\": \"t\"}'")

XCHECK = [
    # (name, credentials file, config file, env, profile option)
    ("creds file", "[default]\naws_access_key_id = AKC\naws_secret_access_key = s\n", "", {}, None),
    ("config file", "", "[default]\naws_access_key_id = AKF\naws_secret_access_key = s\n", {},
     None),
    ("profile prefix", "", "[profile dev]\naws_access_key_id = AKD\naws_secret_access_key = s\n"
     "region = eu-west-3\n", {}, "dev"),
    ("bare name in config is no profile", "", "[dev]\naws_access_key_id = AKD\n"
     "aws_secret_access_key = s\n", {}, "dev"),
    ("profile prefix in creds file is literal", "[profile dev]\naws_access_key_id = AKL\n"
     "aws_secret_access_key = s\n", "", {}, "profile dev"),
    ("quoted profile name", "", "[profile \"my dev\"]\naws_access_key_id = AKQ\n"
     "aws_secret_access_key = s\n", {}, "my dev"),
    ("inline comment kept", "[default]\naws_access_key_id = AKI # note\n"
     "aws_secret_access_key = s\n", "", {}, None),
    ("uppercase keys", "[default]\nAWS_Access_Key_ID = AKU\nAws_Secret_Access_Key: s\n", "", {},
     None),
    ("DEFAULT section", "[DEFAULT]\naws_access_key_id = AKDEF\n[default]\n"
     "aws_secret_access_key = s\n", "", {}, None),
    ("section name with spaces", "[ default ]\naws_access_key_id = AKS\n"
     "aws_secret_access_key = s\n", "", {}, None),
    ("continuation line", "[default]\naws_access_key_id = AKC\naws_secret_access_key = s\n"
     "  more\n", "", {}, None),
    ("env beats AWS_PROFILE", "[dev]\naws_access_key_id = AKC\naws_secret_access_key = s\n", "",
     {"AWS_ACCESS_KEY_ID": "AKENV", "AWS_SECRET_ACCESS_KEY": "s", "AWS_PROFILE": "dev"}, None),
    ("explicit profile drops env", "[dev]\naws_access_key_id = AKC\naws_secret_access_key = s\n",
     "", {"AWS_ACCESS_KEY_ID": "AKENV", "AWS_SECRET_ACCESS_KEY": "s"}, "dev"),
    ("AWS_DEFAULT_PROFILE first", "[a]\naws_access_key_id = AKA\naws_secret_access_key = s\n"
     "[b]\naws_access_key_id = AKB\naws_secret_access_key = s\n", "",
     {"AWS_DEFAULT_PROFILE": "a", "AWS_PROFILE": "b"}, None),
    ("env token", "", "", {"AWS_ACCESS_KEY_ID": "AKENV", "AWS_SECRET_ACCESS_KEY": "s",
                           "AWS_SESSION_TOKEN": "t"}, None),
    ("partial env", "", "", {"AWS_ACCESS_KEY_ID": "AKENV"}, None),
    ("partial file", "[default]\naws_access_key_id = AKC\n", "", {}, None),
    ("creds file beats process", "[default]\naws_access_key_id = AKC\naws_secret_access_key = s\n",
     "[default]\ncredential_process = {proc}\n", {}, None),
    ("process beats config keys", "", "[default]\ncredential_process = {proc}\n"
     "aws_access_key_id = AKF\naws_secret_access_key = s\n", {}, None),
    ("process in creds file", "[dev]\ncredential_process = {proc}\n", "[profile dev]\n", {},
     "dev"),
    ("later [profile default] wins", "", "[default]\naws_access_key_id = AK1\n"
     "aws_secret_access_key = s\n[profile default]\naws_access_key_id = AK2\n"
     "aws_secret_access_key = s\n", {}, None),
    ("missing named profile", "", "", {}, "nope"),
    ("duplicate key", "[default]\naws_access_key_id = A\naws_access_key_id = B\n", "", {}, None),
    ("text before section", "aws_access_key_id = A\n", "", {}, None),
    ("region from AWS_DEFAULT_REGION", "[default]\naws_access_key_id = AKC\n"
     "aws_secret_access_key = s\nregion = eu-west-1\n", "[default]\nregion = eu-west-2\n",
     {"AWS_DEFAULT_REGION": "ap-east-1"}, None),
    ("region merged from creds file", "[default]\naws_access_key_id = AKC\n"
     "aws_secret_access_key = s\nregion = eu-west-1\n", "[default]\nregion = eu-west-2\n", {},
     None),
]

BOTO_SOURCE = {"env": "environment", "shared-credentials-file": "shared-credentials-file",
               "config-file": "config-file", "custom-process": "credential_process"}


BOTO_ERROR = {"NoCredentials": "NO_CREDENTIALS", "ProfileNotFound": "CONFIG",
              "ConfigParseError": "CONFIG", "PartialCredentialsError": "CREDENTIALS"}


def botocore_view(monkeypatch, env, profile):
    botocore = pytest.importorskip("botocore.session")
    for k in list(os.environ):
        if k.startswith("AWS_") or k == "BOTO_CONFIG":
            monkeypatch.delenv(k)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    try:
        s = botocore.Session(profile=profile)
        c = s.get_credentials()
        region = s.get_config_variable("region")
    except Exception as e:  # ProfileNotFound, PartialCredentialsError, ConfigParseError
        return {"error": type(e).__name__}
    if c is None:
        return {"error": "NoCredentials"}
    return {"source": BOTO_SOURCE.get(c.method, c.method), "akid": c.access_key,
            "token": bool(c.token), "region": region}


@pytest.mark.parametrize("case", XCHECK, ids=[c[0] for c in XCHECK])
def test_matches_botocore(case, tmp_path, monkeypatch):
    _, creds, config, extra, profile = case
    proc = write_script(tmp_path, "proc.sh", PROC_OK)
    (tmp_path / "credentials").write_text(creds.replace("{proc}", str(proc)))
    (tmp_path / "config").write_text(config.replace("{proc}", str(proc)))
    env = base_env(tmp_path, **extra)
    del env["AWS_REGION"]
    if "AWS_DEFAULT_REGION" not in extra and "region" not in creds + config:
        env["AWS_DEFAULT_REGION"] = "us-east-1"
    want = botocore_view(monkeypatch, {k: v for k, v in env.items() if k != "PATH"}, profile)
    rc, out, text = credtool(env, *(["--profile", profile] if profile else []))
    if "error" in want:
        assert rc == 1, f"botocore failed with {want['error']} but credtool: {text}"
        assert out["error"] == BOTO_ERROR[want["error"]], text
        return
    assert rc == 0, f"botocore gave {want} but credtool: {text}"
    c = out["credentials"][0]
    got = {"source": c["source"], "akid": c["access_key_id"], "token": c["has_token"],
           "region": out["region"]}
    assert got == want
