"""Mount options, the mount-time check and credential sources (DESIGN.md "Options")."""
import errno
import os
import socket
import stat
import subprocess

import pytest

from .hlutil import (HEALTHLAKEFS, assert_errno, launch, listing, read, seed_store, wait_for)


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def run_launch(launches, tmp_path, opts, env, **kw):
    ln = launch(str(tmp_path / f"raw{len(launches)}"), opts, env, **kw)
    launches.append(ln)
    return ln


def base_opts(server):
    return f"endpoint={server.url},region={server.region}"


# ------------------------------------------------------------------ mount-time check

def test_good_setup_mounts(server, store, tmp_path, launches):
    ln = run_launch(launches, tmp_path, base_opts(server), server.env())
    assert ln.mounted()
    assert listing(ln.path) == ["clinic-a"]


def test_mount_time_check_is_one_list_call(server, tmp_path, launches):
    server.reset_counters()
    ln = run_launch(launches, tmp_path, base_opts(server), server.env())
    assert ln.mounted()
    assert server.calls() == {"ListFHIRDatastores": 1}


def test_bad_region_syntax_exits_before_mounting(server, tmp_path, launches):
    ln = run_launch(launches, tmp_path, f"endpoint={server.url},region=not a region!",
                    server.env())
    assert ln.proc.returncode not in (None, 0)
    assert not ln.mounted()
    assert "region" in ln.stderr().lower()


def test_wrong_region_exits_before_mounting(server, tmp_path, launches):
    ln = run_launch(launches, tmp_path, f"endpoint={server.url},region=eu-west-3", server.env())
    assert ln.proc.returncode not in (None, 0)
    assert not ln.mounted()
    assert ln.stderr().strip()


def test_plain_http_to_non_loopback_refused(server, tmp_path, launches):
    ln = run_launch(launches, tmp_path, "endpoint=http://192.0.2.1:8080,region=us-east-1",
                    server.env())
    assert ln.proc.returncode not in (None, 0)
    assert not ln.mounted()
    assert ln.stderr().strip()


def test_malformed_endpoint_refused(server, tmp_path, launches):
    ln = run_launch(launches, tmp_path, "endpoint=ftp//nonsense,region=us-east-1", server.env())
    assert ln.proc.returncode not in (None, 0)
    assert not ln.mounted()
    assert "endpoint" in ln.stderr().lower()


def test_bad_secret_exits_before_mounting(server, tmp_path, launches):
    env = server.env(AWS_SECRET_ACCESS_KEY="wrong-secret-DO-NOT-PRINT")
    ln = run_launch(launches, tmp_path, base_opts(server), env)
    assert ln.proc.returncode not in (None, 0)
    assert not ln.mounted()
    err = ln.stderr()
    assert err.strip()
    assert "wrong-secret-DO-NOT-PRINT" not in err


def test_unknown_access_key_exits_before_mounting(server, tmp_path, launches):
    env = server.env(AWS_ACCESS_KEY_ID="AKIDUNKNOWN00000000")
    ln = run_launch(launches, tmp_path, base_opts(server), env)
    assert ln.proc.returncode not in (None, 0)
    assert not ln.mounted()


def test_no_credentials_exits_before_mounting(server, tmp_path, launches):
    env = server.env()
    del env["AWS_ACCESS_KEY_ID"]
    del env["AWS_SECRET_ACCESS_KEY"]
    ln = run_launch(launches, tmp_path, base_opts(server), env)
    assert ln.proc.returncode not in (None, 0)
    assert not ln.mounted()
    assert ln.stderr().strip()


def test_server_down_warns_and_mounts(tmp_path, launches, server):
    env = server.env()
    opts = f"endpoint=http://127.0.0.1:{closed_port()},region=us-east-1,max_attempts=1,timeout=3"
    ln = run_launch(launches, tmp_path, opts, env)
    assert ln.mounted()
    assert ln.stderr().strip()


def test_server_down_then_operations_eio(tmp_path, launches, server):
    opts = f"endpoint=http://127.0.0.1:{closed_port()},region=us-east-1,max_attempts=1,timeout=3"
    ln = run_launch(launches, tmp_path, opts, server.env())
    assert ln.mounted()
    assert_errno(errno.EIO, os.listdir, ln.path)


def test_throttled_at_mount_warns_and_mounts(server, tmp_path, launches):
    server.faults(throttle=1.0, operations=["ListFHIRDatastores"])
    ln = run_launch(launches, tmp_path, base_opts(server) + ",max_attempts=1", server.env())
    assert ln.mounted()


def test_5xx_at_mount_warns_and_mounts(server, tmp_path, launches):
    server.faults(error5xx=1.0, operations=["ListFHIRDatastores"])
    ln = run_launch(launches, tmp_path, base_opts(server) + ",max_attempts=1", server.env())
    assert ln.mounted()
    assert ln.stderr().strip()


def test_unknown_option_refused(server, tmp_path, launches):
    ln = run_launch(launches, tmp_path, base_opts(server) + ",no_such_option=1", server.env())
    assert ln.proc.returncode not in (None, 0)
    assert not ln.mounted()


def test_daemon_mode_returns_after_mounting(server, store, tmp_path):
    mnt = str(tmp_path / "daemon")
    os.makedirs(mnt)
    r = subprocess.run([HEALTHLAKEFS, "-o", base_opts(server), mnt], env=server.env(),
                       capture_output=True, text=True, timeout=30)
    try:
        assert r.returncode == 0, r.stderr
        assert os.path.ismount(mnt)
        assert listing(mnt) == ["clinic-a"]
    finally:
        subprocess.run(["fusermount3", "-u", mnt], capture_output=True)


def test_daemon_mode_bad_setup_exits_nonzero(server, tmp_path):
    mnt = str(tmp_path / "daemon")
    os.makedirs(mnt)
    r = subprocess.run([HEALTHLAKEFS, "-o", f"endpoint={server.url},region=eu-west-3", mnt],
                       env=server.env(AWS_SECRET_ACCESS_KEY="nope"), capture_output=True,
                       text=True, timeout=30)
    try:
        assert r.returncode != 0
        assert r.stderr.strip()
        assert not os.path.ismount(mnt)
    finally:
        subprocess.run(["fusermount3", "-u", mnt], capture_output=True)


# ------------------------------------------------------------------ AWS settings sources

def test_endpoint_from_env_healthlake(server, store, tmp_path, launches):
    env = server.env()
    del env["AWS_ENDPOINT_URL"]
    env["AWS_ENDPOINT_URL_HEALTHLAKE"] = server.url
    ln = run_launch(launches, tmp_path, "", env)
    assert ln.mounted(), ln.stderr()
    assert listing(ln.path) == ["clinic-a"]


def test_endpoint_from_env_generic(server, store, tmp_path, launches):
    ln = run_launch(launches, tmp_path, "", server.env())
    assert ln.mounted(), ln.stderr()
    assert listing(ln.path) == ["clinic-a"]


def test_region_from_env(server, store, tmp_path, launches):
    ln = run_launch(launches, tmp_path, f"endpoint={server.url}", server.env())
    assert ln.mounted(), ln.stderr()
    assert listing(ln.path) == ["clinic-a"]


def _write_aws_files(tmp_path, server, profile, extra=""):
    cred = tmp_path / "credentials"
    cfg = tmp_path / "config"
    cred.write_text(f"[{profile}]\naws_access_key_id = {server.access_key}\n"
                    f"aws_secret_access_key = {server.secret_key}\n")
    section = "default" if profile == "default" else f"profile {profile}"
    cfg.write_text(f"[{section}]\nregion = {server.region}\n{extra}")
    env = server.env(AWS_SHARED_CREDENTIALS_FILE=str(cred), AWS_CONFIG_FILE=str(cfg))
    for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "AWS_DEFAULT_REGION"):
        env.pop(k, None)
    return env


def test_profile_option(server, store, tmp_path, launches):
    env = _write_aws_files(tmp_path, server, "clinic")
    ln = run_launch(launches, tmp_path, f"endpoint={server.url},profile=clinic", env)
    assert ln.mounted(), ln.stderr()
    assert listing(ln.path) == ["clinic-a"]


def test_profile_from_env(server, store, tmp_path, launches):
    env = _write_aws_files(tmp_path, server, "clinic")
    env["AWS_PROFILE"] = "clinic"
    ln = run_launch(launches, tmp_path, f"endpoint={server.url}", env)
    assert ln.mounted(), ln.stderr()
    assert listing(ln.path) == ["clinic-a"]


def test_credential_process(server, store, tmp_path, launches):
    helper = tmp_path / "cred-helper"
    helper.write_text("#!/bin/sh\nprintf '{\"Version\": 1, \"AccessKeyId\": \"%s\", "
                      "\"SecretAccessKey\": \"%s\"}\\n' '" + server.access_key + "' '"
                      + server.secret_key + "'\n")
    helper.chmod(0o700)
    cfg = tmp_path / "config"
    cfg.write_text(f"[default]\nregion = {server.region}\ncredential_process = {helper}\n")
    env = server.env(AWS_CONFIG_FILE=str(cfg))
    env.pop("AWS_ACCESS_KEY_ID")
    env.pop("AWS_SECRET_ACCESS_KEY")
    ln = run_launch(launches, tmp_path, f"endpoint={server.url}", env)
    assert ln.mounted(), ln.stderr()
    assert listing(ln.path) == ["clinic-a"]


def test_session_token(server, store, tmp_path, launches):
    server.admin("keys", {"keys": [{"access_key": "ASIATEMP0000000001", "secret_key": "tmp-secret",
                                    "session_token": "TOKEN-SHOULD-STAY-SECRET"}]})
    env = server.env(AWS_ACCESS_KEY_ID="ASIATEMP0000000001", AWS_SECRET_ACCESS_KEY="tmp-secret",
                     AWS_SESSION_TOKEN="TOKEN-SHOULD-STAY-SECRET")
    ln = run_launch(launches, tmp_path, base_opts(server), env, extra_args=["-d"])
    assert ln.mounted(), ln.stderr()
    assert listing(ln.path) == ["clinic-a"]
    assert "TOKEN-SHOULD-STAY-SECRET" not in ln.stderr()
    assert "tmp-secret" not in ln.stderr()


# ------------------------------------------------------------------ retries, logging, FUSE options

def test_max_attempts_option(server, store, mount_factory):
    m = mount_factory(server, "attr_ttl=0,list_ttl=0,max_attempts=4")
    os.stat(m.p("clinic-a"))
    server.faults(error5xx=1.0)
    server.reset_counters()
    assert_errno(errno.EIO, read, m.p("clinic-a", "datastore.json"))
    assert sum(server.calls().values()) == 4


def test_max_attempts_from_env(server, store, mount_factory):
    m = mount_factory(server, "attr_ttl=0,list_ttl=0", env=server.env(AWS_MAX_ATTEMPTS="2"))
    os.stat(m.p("clinic-a"))
    server.faults(error5xx=1.0)
    server.reset_counters()
    assert_errno(errno.EIO, read, m.p("clinic-a", "datastore.json"))
    assert sum(server.calls().values()) == 2


def test_default_max_attempts_is_3(server, store, mount_factory):
    m = mount_factory(server, "attr_ttl=0,list_ttl=0")
    os.stat(m.p("clinic-a"))
    server.faults(error5xx=1.0)
    server.reset_counters()
    assert_errno(errno.EIO, read, m.p("clinic-a", "datastore.json"))
    assert sum(server.calls().values()) == 3


def test_transient_5xx_retried_transparently(server, store, mount_factory):
    m = mount_factory(server, "attr_ttl=0,list_ttl=0")
    os.stat(m.p("clinic-a"))
    server.faults(error5xx=1.0, first_n=1)
    assert read(m.p("clinic-a", "status")) == "ACTIVE\n"


def test_debug_logs_one_line_per_call(server, store, mount_factory):
    m = mount_factory(server, extra_args=["-d"])
    read(m.p("clinic-a", "datastore.json"))
    err = m.stderr()
    assert "ListFHIRDatastores" in err
    assert server.secret_key not in err


def test_logs_never_contain_secret(server, store, mount_factory):
    m = mount_factory(server, "attr_ttl=0,list_ttl=0", extra_args=["-d"])
    listing(m.path)
    read(m.p("clinic-a", "status"))
    assert server.secret_key not in m.stderr()


def test_uid_gid_options(server, store, mount_factory):
    m = mount_factory(server, "uid=1234,gid=4321")
    st = os.stat(m.p("clinic-a", "status"))
    assert (st.st_uid, st.st_gid) == (1234, 4321)


def test_fractional_ttls_accepted(server, store, mount_factory):
    m = mount_factory(server, "attr_ttl=0.25,list_ttl=1.5,timeout=2.5")
    assert listing(m.path) == ["clinic-a"]


def test_cache_mb_option_accepted(server, store, mount_factory):
    m = mount_factory(server, "cache_mb=1")
    assert read(m.p("clinic-a", "status")) == "ACTIVE\n"


def test_small_cache_serves_many_stores(server, mount_factory):
    server.seed(count=200, name_prefix="c")
    m = mount_factory(server, "cache_mb=1,max_tps=1000")
    r = m.sh("cat */status | sort | uniq -c")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["200", "ACTIVE"]


def test_allow_delete_and_show_deleted_together(server, mount_factory):
    seed_store(server, "gone", status="DELETED")
    seed_store(server, "doomed")
    m = mount_factory(server, "allow_delete,show_deleted")
    os.rmdir(m.p("doomed"))
    wait_for(lambda: read(m.p("doomed", "status")) == "DELETED\n", timeout=10, what="DELETED")
    assert listing(m.path) == ["doomed", "gone"]


@pytest.mark.parametrize("opt", ["attr_ttl=abc", "timeout=-1", "max_tps=0", "preload=fhir"])
def test_bad_option_values_refused(server, tmp_path, launches, opt):
    ln = run_launch(launches, tmp_path, base_opts(server) + "," + opt, server.env())
    assert ln.proc.returncode not in (None, 0)
    assert not ln.mounted()
    assert ln.stderr().strip()


def test_default_permissions_dir_mode(server, mount_factory):
    m = mount_factory(server)
    assert stat.S_IMODE(os.stat(m.path).st_mode) == 0o700


# ------------------------------------------------------------------ refreshable credentials

def _iso_in(seconds):
    import datetime
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_credential_process_refreshed_without_remount(server, store, tmp_path, launches):
    # Expiration inside the mandatory refresh window: the process runs again before requests,
    # so rotated keys are picked up by the running mount.
    keyfile = tmp_path / "current-keys"
    keyfile.write_text(f"{server.access_key} {server.secret_key}\n")
    helper = tmp_path / "cred-helper"
    helper.write_text("#!/bin/sh\nread ak sk < " + str(keyfile) + "\n"
                      "printf '{\"Version\": 1, \"AccessKeyId\": \"%s\", \"SecretAccessKey\": \"%s\", "
                      "\"Expiration\": \"%s\"}\\n' \"$ak\" \"$sk\" '" + _iso_in(300) + "'\n")
    helper.chmod(0o700)
    cfg = tmp_path / "config"
    cfg.write_text(f"[default]\nregion = {server.region}\ncredential_process = {helper}\n")
    env = server.env(AWS_CONFIG_FILE=str(cfg))
    env.pop("AWS_ACCESS_KEY_ID")
    env.pop("AWS_SECRET_ACCESS_KEY")
    ln = run_launch(launches, tmp_path, f"endpoint={server.url},attr_ttl=0,list_ttl=0", env)
    assert ln.mounted(), ln.stderr()
    assert listing(ln.path) == ["clinic-a"]
    keyfile.write_text("AKIDROTATED00000001 rotated-secret-value\n")
    server.admin("keys", {"keys": [{"access_key": "AKIDROTATED00000001",
                                    "secret_key": "rotated-secret-value"}]})
    assert listing(ln.path) == ["clinic-a"]


def test_container_credentials(server, store, tmp_path, launches):
    import http.server
    import json
    import threading
    seen = []

    class H(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            seen.append(self.headers.get("Authorization"))
            body = json.dumps({"AccessKeyId": "ASIACONTAINER000001", "SecretAccessKey": "ctr-secret",
                               "Token": "ctr-token", "Expiration": _iso_in(3600)}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        server.admin("keys", {"keys": [{"access_key": "ASIACONTAINER000001",
                                        "secret_key": "ctr-secret", "session_token": "ctr-token"}]})
        env = server.env(
            AWS_CONTAINER_CREDENTIALS_FULL_URI=f"http://127.0.0.1:{httpd.server_address[1]}/creds",
            AWS_CONTAINER_AUTHORIZATION_TOKEN="ctr-auth")
        env.pop("AWS_ACCESS_KEY_ID")
        env.pop("AWS_SECRET_ACCESS_KEY")
        ln = run_launch(launches, tmp_path, base_opts(server), env)
        assert ln.mounted(), ln.stderr()
        assert listing(ln.path) == ["clinic-a"]
        assert "ctr-auth" in seen
    finally:
        httpd.shutdown()


def test_env_keys_win_over_profile(server, store, tmp_path, launches):
    cred = tmp_path / "credentials"
    cred.write_text("[default]\naws_access_key_id = AKIDWRONG0000000000\n"
                    "aws_secret_access_key = wrong\n")
    env = server.env(AWS_SHARED_CREDENTIALS_FILE=str(cred))
    ln = run_launch(launches, tmp_path, base_opts(server), env)
    assert ln.mounted(), ln.stderr()
    assert listing(ln.path) == ["clinic-a"]


def test_timeout_bounds_retries_and_backoff(server, store, mount_factory):
    import time
    m = mount_factory(server, "attr_ttl=0,list_ttl=0,max_attempts=10,timeout=1")
    os.stat(m.p("clinic-a"))
    server.faults(throttle=1.0)
    t0 = time.monotonic()
    assert_errno(errno.ETIMEDOUT, read, m.p("clinic-a", "datastore.json"))
    assert time.monotonic() - t0 < 3.0


def test_debug_call_line_has_operation_and_status(server, store, mount_factory):
    m = mount_factory(server, "attr_ttl=0,list_ttl=0", extra_args=["-d"])
    read(m.p("clinic-a", "status"))
    lines = [ln for ln in m.stderr().splitlines() if "DescribeFHIRDatastore" in ln]
    assert lines, m.stderr()[-2000:]
    assert any("200" in ln for ln in lines), lines


def test_secret_nowhere_in_tree(server, store, mount_factory):
    server.admin("keys", {"keys": [{"access_key": server.access_key, "secret_key": server.secret_key,
                                    "session_token": "tok-SECRET-xyz"}]})
    m = mount_factory(server, "attr_ttl=0,list_ttl=0",
                      env=server.env(AWS_SESSION_TOKEN="tok-SECRET-xyz"))
    m.sh("mkdir 'bad!'; cat clinic-a/status; rmdir clinic-a")
    r = m.sh(f"grep -r -l -F -e '{server.secret_key}' -e tok-SECRET-xyz . 2>/dev/null; "
             "cat .stats .error clinic-a/.error")
    assert server.secret_key not in r.stdout
    assert "tok-SECRET-xyz" not in r.stdout
    assert server.secret_key not in m.stderr()


# ------------------------------------------------------------------ precedence

def test_endpoint_option_beats_env(server, store, tmp_path, launches):
    env = server.env(AWS_ENDPOINT_URL=f"http://127.0.0.1:{closed_port()}",
                     AWS_ENDPOINT_URL_HEALTHLAKE=f"http://127.0.0.1:{closed_port()}")
    ln = run_launch(launches, tmp_path, base_opts(server), env)
    assert ln.mounted(), ln.stderr()
    assert listing(ln.path) == ["clinic-a"]


def test_service_endpoint_env_beats_generic(server, store, tmp_path, launches):
    env = server.env(AWS_ENDPOINT_URL=f"http://127.0.0.1:{closed_port()}",
                     AWS_ENDPOINT_URL_HEALTHLAKE=server.url)
    ln = run_launch(launches, tmp_path, f"region={server.region},max_attempts=1,timeout=3", env)
    assert ln.mounted(), ln.stderr()
    assert listing(ln.path) == ["clinic-a"]


def test_region_option_beats_env(server, store, tmp_path, launches):
    env = server.env(AWS_REGION="eu-west-3", AWS_DEFAULT_REGION="eu-west-3")
    ln = run_launch(launches, tmp_path, base_opts(server), env)
    assert ln.mounted(), ln.stderr()
    assert listing(ln.path) == ["clinic-a"]


def test_max_attempts_option_beats_env(server, store, mount_factory):
    m = mount_factory(server, "attr_ttl=0,list_ttl=0,max_attempts=1",
                      env=server.env(AWS_MAX_ATTEMPTS="5"))
    os.stat(m.p("clinic-a"))
    server.faults(error5xx=1.0)
    server.reset_counters()
    assert_errno(errno.EIO, read, m.p("clinic-a", "datastore.json"))
    assert sum(server.calls().values()) == 1
