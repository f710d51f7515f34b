"""Secrets and TLS: no -d log line and no file of the tree holds the secret key
or the session token, even after failures; a server certificate the trusted
CA did not sign fails the mount with a clear message; plain http:// to a host
that is not loopback is refused."""
import errno
import os
import subprocess
import time

import pytest

from relutil import (JOB_OPTS, make_keys, read_all_files, rig, run_op, run_ops,  # noqa: F401
                     secrets_in, try_mount)

T = 3
OPTS = f"timeout={T},max_tps=100,{JOB_OPTS}"
TLS_WORDS = ("tls", "ssl", "certificate", "verify")


def test_secrets_never_in_log_or_tree(rig, tmp_path):
    s = rig.server()
    s.seed(datastores=[{"name": "sec", "status": "ACTIVE"}], import_jobs=1)
    akid, secret, token = make_keys("sec")
    s.admin("keys", {"keys": [{"access_key": akid, "secret_key": secret, "session_token": token}]})
    env = s.env(AWS_ACCESS_KEY_ID=akid, AWS_SECRET_ACCESS_KEY=secret, AWS_SESSION_TOKEN=token)
    m = rig.mount(s, f"attr_ttl=0,list_ttl=0,{OPTS}", env=env, extra_args=("-d",))
    # Successes, refusals and service errors, so every logging path runs.
    res = run_ops([
        ["listdir", "."], ["read", "sec/status"], ["read", "sec/datastore.json"],
        ["write", "sec/tags/owner", ["rel\n"]], ["write", "sec/imports/new", ["s3://rel-bucket/in/s/\n"]],
        ["write", "sec/imports/new", ['{"Bogus": 1}']], ["mkdir", "bad!name"],
        ["stat", "sec/imports/0123456789abcdef0123456789abcdef"], ["mkdir", "sec-new"],
    ], timeout=120, cwd=m.path)
    assert res[0]["errno"] == 0 and res[3]["errno"] == 0, res[:4]
    s.faults(throttle=1.0, first_n=3)  # a throttled call and its retries, logged
    run_op(["read", "sec/endpoint"], timeout=T + 10, cwd=m.path)
    s.faults()
    files = read_all_files(m.path)
    readable = [p for p, d in files.items() if isinstance(d, bytes)]
    assert len(readable) >= 10, files
    # Now the service rejects the session: auth failure text lands in .error and the log.
    s.admin("keys", {"keys": [{"access_key": "AKIDOTHER", "secret_key": "other-secret"}]})
    r = run_op(["listdir", "."], timeout=T + 10, cwd=m.path)
    assert r["errno"] == errno.EACCES, r
    for p in (".error", "sec/.error", "sec/imports/.error", "sec/tags/.error"):
        e = run_op(["read", p], timeout=T + 10, cwd=m.path)
        if e["errno"] == 0:
            files[p + " (after auth failure)"] = e["out"].encode()
    for path, data in files.items():
        if isinstance(data, bytes):
            found = secrets_in(data.decode(errors="replace"), [secret, token])
            assert not found, f"{path} holds a secret: {found}"
    log = m.stderr()
    assert log.count("\n") > 5, "-d logged nearly nothing:\n" + log
    for i, line in enumerate(log.splitlines()):
        found = secrets_in(line, [secret, token])
        assert not found, f"-d log line {i} holds a secret: {line[:200]}"


# ---- TLS ----

def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_ca(d, name):
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.pem", "-days", "2",
            "-subj", f"/CN={name}", cwd=d)
    return os.path.join(d, f"{name}.pem")


def make_leaf(d, name, ca, san="IP:127.0.0.1,DNS:localhost"):
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", "/CN=localhost", cwd=d)
    with open(os.path.join(d, f"{name}.ext"), "w") as f:
        f.write(f"subjectAltName={san}\nbasicConstraints=CA:FALSE\n")
    if ca:
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key",
                "-CAcreateserial", "-out", f"{name}.pem", "-days", "2", "-extfile", f"{name}.ext",
                cwd=d)
    else:  # self-signed leaf
        openssl("x509", "-req", "-in", f"{name}.csr", "-signkey", f"{name}.key",
                "-out", f"{name}.pem", "-days", "2", "-extfile", f"{name}.ext", cwd=d)
    return os.path.join(d, f"{name}.pem"), os.path.join(d, f"{name}.key")


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    d = str(tmp_path_factory.mktemp("pki"))
    trusted = make_ca(d, "trusted-ca")
    rogue = make_ca(d, "rogue-ca")
    return {
        "dir": d, "trusted": trusted, "rogue": rogue,
        "good": make_leaf(d, "good", "trusted-ca"),
        "rogue_leaf": make_leaf(d, "rogue-leaf", "rogue-ca"),
        "self": make_leaf(d, "self-signed", None),
        "wrong_name": make_leaf(d, "wrong-name", "trusted-ca", san="DNS:other.example"),
    }


def admin_unverified(s, path):
    """The admin API of a server whose certificate the test made wrong on purpose."""
    import json
    import ssl
    import urllib.request
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with urllib.request.urlopen(s.url + "/__admin/" + path, timeout=30, context=ctx) as r:
        return json.loads(r.read())


def tls_server(rig, pki, leaf, admin_ca):
    cert, key = pki[leaf]
    return rig.server("--tls-cert", cert, "--tls-key", key, cafile=admin_ca)


def test_tls_positive_control_trusted_ca_mounts(rig, pki):
    s = tls_server(rig, pki, "good", pki["trusted"])
    assert s.url.startswith("https://")
    s.seed(datastores=[{"name": "tls", "status": "ACTIVE"}])
    env = s.env(AWS_CA_BUNDLE=pki["trusted"])
    mounted, rc, err, m = try_mount(rig, f"endpoint={s.url},region={s.region},"
                                         f"ca_file={pki['trusted']},{OPTS}", env)
    assert mounted, (rc, err)
    r = run_op(["read", "tls/status"], timeout=T + 10, cwd=m.path)
    assert r["errno"] == 0 and r["out"] == "ACTIVE\n", r


@pytest.mark.parametrize("leaf,admin_ca", [("rogue_leaf", "rogue"), ("self", "self"),
                                           ("wrong_name", "trusted")])
def test_untrusted_certificate_fails_mount_clearly(rig, pki, leaf, admin_ca):
    ca = pki[leaf][0] if admin_ca == "self" else pki[admin_ca]
    s = tls_server(rig, pki, leaf, ca)
    requests_before = admin_unverified(s, "counters")["requests"]
    env = s.env(AWS_CA_BUNDLE=pki["trusted"])
    t0 = time.monotonic()
    mounted, rc, err, m = try_mount(rig, f"endpoint={s.url},region={s.region},"
                                         f"ca_file={pki['trusted']},{OPTS}", env)
    assert not mounted, f"mounted against a server whose certificate is {leaf}"
    assert rc not in (None, 0), (rc, err)
    assert time.monotonic() - t0 < T + 5
    assert any(w in err.lower() for w in TLS_WORDS), f"unclear message: {err!r}"
    # No request got through: the handshake failed before any HTTP.
    assert admin_unverified(s, "counters")["requests"] == requests_before


def test_untrusted_certificate_with_system_store_fails(rig, pki):
    s = tls_server(rig, pki, "good", pki["trusted"])
    env = s.env()
    env.pop("AWS_CA_BUNDLE", None)
    mounted, rc, err, m = try_mount(rig, f"endpoint={s.url},region={s.region},{OPTS}", env)
    assert not mounted and rc not in (None, 0), (rc, err)
    assert any(w in err.lower() for w in TLS_WORDS), err


@pytest.mark.parametrize("endpoint", ["http://192.0.2.10:8080", "http://example.com",
                                      "http://10.1.2.3/"])
def test_plain_http_to_non_loopback_refused(rig, endpoint):
    s = rig.server()
    t0 = time.monotonic()
    mounted, rc, err, m = try_mount(rig, f"endpoint={endpoint},region={s.region},{OPTS}", s.env())
    took = time.monotonic() - t0
    assert not mounted and rc not in (None, 0), (rc, err)
    assert took < 5, f"refusal took {took:.1f}s: it should not even connect"
    assert "http" in err.lower(), err
