"""healthlakefs in its ecosystem: mount(8) and fstab, the man page, --help and
--version, `healthlakefs wait`, extended attributes and SIGUSR1.

mount(8) runs its helpers (/sbin/mount.fuse3, which runs `healthlakefs`
through /bin/sh) with PATH removed from the environment, so the helper's shell
searches only its default path. These tests therefore run mount(8) inside a
private mount namespace in which a directory holding a `healthlakefs` link to
the build is bind-mounted over /usr/local/sbin: nothing outside the namespace
changes, and the daemon's mount is visible only inside it.
"""
import errno
import json
import os
import re
import signal
import subprocess
import time

import pytest

from conftest import HEALTHLAKEFS, REPO, check_sanitizers, daemons_for, wait_for

ROLE = "arn:aws:iam::123456789012:role/HealthLakeImport"
KMS = "arn:aws:kms:us-east-1:123456789012:key/0a1b2c3d-aaaa-bbbb-cccc-0123456789ab"
JOB_OPTS = f"role_arn={ROLE},import_output=s3://reports/out/,kms_key={KMS}"
MAN = os.path.join(REPO, "doc", "healthlakefs.1")

# The options table of DESIGN.md ("Options"), FUSE's own included.
DESIGN_OPTIONS = ["region=", "profile=", "endpoint=", "ca_file=", "role_arn=", "import_output=",
                  "kms_key=", "preload=synthea", "allow_delete", "show_deleted", "ro",
                  "attr_ttl=", "list_ttl=", "timeout=", "max_attempts=", "max_tps=",
                  "cache_mb=", "-f", "-d", "allow_other", "uid=", "gid=", "umask="]
XATTR_STORE = ["user.healthlake.id", "user.healthlake.arn", "user.healthlake.status",
               "user.healthlake.endpoint"]
XATTR_JOB = ["user.healthlake.status", "user.healthlake.submit_time"]


def read(path):
    with open(path) as f:
        return f.read()


def run(args, **kw):
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    kw.setdefault("timeout", 60)
    return subprocess.run(args, **kw)


# ---------------------------------------------------------------- mount(8), fstab

class Namespace:
    """A private mount namespace (held open by a sleeping process) whose
    /usr/local/sbin holds a link to the build's healthlakefs."""

    def __init__(self, tmp_path):
        self.bindir = str(tmp_path / "nsbin")
        os.makedirs(self.bindir)
        os.symlink(HEALTHLAKEFS, os.path.join(self.bindir, "healthlakefs"))
        self.holder = subprocess.Popen(["unshare", "-m", "--propagation", "private",
                                        "sleep", "600"])
        # The namespace exists once the holder has become sleep.
        wait_for(lambda: os.readlink(f"/proc/{self.holder.pid}/ns/mnt")
                 != os.readlink("/proc/self/ns/mnt") or self.holder.poll() is not None,
                 timeout=10, what="namespace")
        if self.holder.poll() is not None:
            raise RuntimeError("unshare failed")
        r = self.run(["mount", "--bind", self.bindir, "/usr/local/sbin"])
        if r.returncode != 0:
            self.close()
            raise RuntimeError("bind mount in the namespace failed: " + r.stderr)

    def run(self, args, **kw):
        return run(["nsenter", "-t", str(self.holder.pid), "-m", "--", *args], **kw)

    def sh(self, script, **kw):
        return self.run(["sh", "-c", script], **kw)

    def ismount(self, path):
        return self.run(["mountpoint", "-q", path]).returncode == 0

    def private_dev_log(self, tmp_path):
        """Gives the namespace its own /dev (the host's device nodes bound in)
        whose /dev/log is a datagram socket read here. Returns the socket."""
        import socket
        olddev = str(tmp_path / "olddev")
        sock_path = str(tmp_path / "log.sock")
        os.makedirs(olddev)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(sock_path)
        os.chmod(sock_path, 0o666)
        nodes = " ".join(["null", "zero", "full", "random", "urandom", "fuse", "tty"])
        r = self.sh(f"mount --rbind /dev {olddev} && mount -t tmpfs -o mode=755 tmpfs /dev && "
                    f"for n in {nodes}; do [ -e {olddev}/$n ] || continue; "
                    f"touch /dev/$n && mount --bind {olddev}/$n /dev/$n || exit 1; done && "
                    f"touch /dev/log && mount --bind {sock_path} /dev/log")
        if r.returncode != 0:
            sock.close()
            raise RuntimeError(r.stderr)
        return sock

    def close(self):
        if self.holder.poll() is None:
            self.holder.kill()
            self.holder.wait()


@pytest.fixture
def ns(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("mount(8) tests need root")
    try:
        n = Namespace(tmp_path)
    except (RuntimeError, OSError, TimeoutError) as e:
        pytest.skip(f"no private mount namespace here: {e}")
    yield n
    n.close()


def daemon_env(server, tmp_path):
    """server.env() plus sanitizer reports written to files: a daemon's stderr
    is /dev/null."""
    e = server.env()
    e["ASAN_OPTIONS"] = f"detect_leaks=1:log_path={tmp_path}/asan"
    e["UBSAN_OPTIONS"] = f"print_stacktrace=1:log_path={tmp_path}/ubsan"
    return e


def check_daemon_reports(tmp_path):
    for f in os.listdir(tmp_path):
        if f.startswith(("asan", "ubsan")):
            check_sanitizers(read(os.path.join(tmp_path, f)))
            pytest.fail(f"sanitizer report {f}:\n" + read(os.path.join(tmp_path, f))[:4000])


def unmount_daemon(ns, mnt):
    """fusermount3 -u inside the namespace; asserts that no daemon is left."""
    pids = daemons_for(mnt)
    r = ns.run(["fusermount3", "-u", mnt])
    assert r.returncode == 0, r.stderr
    try:
        wait_for(lambda: not daemons_for(mnt), timeout=10, what="daemon exit")
    finally:
        for p in daemons_for(mnt):
            os.kill(p, signal.SIGKILL)
    return pids


def check_tree(ns, mnt):
    """mkdir, ls and cat through the namespace's mount."""
    r = ns.sh(f"mkdir {mnt}/clinic && ls {mnt} && cat {mnt}/clinic/status {mnt}/clinic/id")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.split()
    assert "clinic" in lines
    assert "ACTIVE" in lines
    assert re.fullmatch(r"[0-9a-f]{32}", lines[-1])
    r = ns.run(["getfattr", "-d", "--absolute-names", f"{mnt}/clinic"])
    assert 'user.healthlake.status="ACTIVE"' in r.stdout, r.stdout + r.stderr
    assert f'user.healthlake.id="{lines[-1]}"' in r.stdout


def test_mount_t_fuse_healthlakefs(server, ns, tmp_path):
    mnt = str(tmp_path / "m")
    os.makedirs(mnt)
    # Options that mount(8), mount.fuse3 or systemd use, mixed into ours.
    r = ns.run(["mount", "-t", "fuse.healthlakefs", "healthlake", mnt, "-o",
                f"_netdev,nofail,noauto,x-systemd.automount,endpoint={server.url},"
                f"region={server.region}"], env=daemon_env(server, tmp_path))
    assert r.returncode == 0, r.stderr
    try:
        assert ns.ismount(mnt)
        assert not os.path.ismount(mnt), "the mount stays inside the namespace"
        info = ns.sh(f"grep ' {mnt} ' /proc/self/mountinfo").stdout
        assert "fuse.healthlakefs" in info and " healthlake " in info
        pids = daemons_for(mnt)
        assert len(pids) == 1, "one daemon, forked off mount"
        with open(f"/proc/{pids[0]}/cmdline", "rb") as f:
            argv = f.read().split(b"\0")
        assert argv[1:3] == [b"healthlake", mnt.encode()], "mount.fuse3 passes the source"
        check_tree(ns, mnt)
        # SIGUSR1 in daemonised mode logs (to syslog) and must not kill it.
        os.kill(pids[0], signal.SIGUSR1)
        time.sleep(0.3)
        assert ns.sh(f"cat {mnt}/clinic/status").stdout == "ACTIVE\n"
    finally:
        unmount_daemon(ns, mnt)
    assert not ns.ismount(mnt)
    check_daemon_reports(tmp_path)


def test_mount_from_fstab_line(server, ns, tmp_path):
    mnt = str(tmp_path / "m")
    os.makedirs(mnt)
    fstab = tmp_path / "fstab"
    fstab.write_text(
        "# test fstab\n"
        f"healthlake {mnt} fuse.healthlakefs _netdev,noauto,x-systemd.automount,"
        f"endpoint={server.url},region={server.region} 0 0\n")
    # `mount MNT` form: everything else comes from the fstab line.
    r = ns.run(["mount", "--fstab", str(fstab), mnt], env=daemon_env(server, tmp_path))
    assert r.returncode == 0, r.stderr
    try:
        assert ns.ismount(mnt)
        assert len(daemons_for(mnt)) == 1
        check_tree(ns, mnt)
    finally:
        unmount_daemon(ns, mnt)
    check_daemon_reports(tmp_path)


def test_usr1_daemonised_logs_to_syslog(server, ns, tmp_path):
    """Daemonised, the log (and SIGUSR1's stats lines) goes to syslog."""
    try:
        sock = ns.private_dev_log(tmp_path)
    except RuntimeError as e:
        pytest.skip(f"cannot give the namespace its own /dev/log: {e}")
    sock.settimeout(10)
    mnt = str(tmp_path / "m")
    os.makedirs(mnt)
    r = ns.run(["mount", "-t", "fuse.healthlakefs", "healthlake", mnt, "-o",
                f"endpoint={server.url},region={server.region}"],
               env=daemon_env(server, tmp_path))
    assert r.returncode == 0, r.stderr
    messages = []

    def until(text):
        while not any(text in m for m in messages):
            messages.append(sock.recv(65536).decode(errors="replace"))
        return True

    try:
        pid = daemons_for(mnt)[0]
        assert until("mounted " + mnt)
        assert ns.sh(f"cat {mnt}/.stats").returncode == 0
        os.kill(pid, signal.SIGUSR1)
        assert until("stats throttled")  # the last key: stats lines are sorted
        stats = [m for m in messages if ": stats " in m]
        assert all(re.match(rf"<\d+>.*healthlakefs\[{pid}\]: stats \S+ \d+$", m)
                   for m in stats), stats
        assert any(": stats calls.ListFHIRDatastores " in m for m in stats)
        assert ns.sh(f"ls {mnt}").returncode == 0, "still serving"
    finally:
        unmount_daemon(ns, mnt)
        sock.close()
    check_daemon_reports(tmp_path)


def test_mount_failure_reaches_mount(server, ns, tmp_path):
    """A set-up error (no credentials) makes mount(8) fail with the reason, and
    leaves neither a mount nor a daemon."""
    mnt = str(tmp_path / "m")
    os.makedirs(mnt)
    env = server.env()
    del env["AWS_ACCESS_KEY_ID"]
    del env["AWS_SECRET_ACCESS_KEY"]
    r = ns.run(["mount", "-t", "fuse.healthlakefs", "healthlake", mnt, "-o",
                f"endpoint={server.url},region={server.region},_netdev"], env=env)
    assert r.returncode != 0
    assert "credentials" in r.stderr
    assert not ns.ismount(mnt)
    assert not daemons_for(mnt)


def test_direct_source_and_mount_only_options(server, mount_factory):
    """What mount.fuse3 would run, and options it may pass on or that other
    callers (systemd units, scripts) give: the daemon ignores them."""
    m = mount_factory(server, "_netdev,noauto,nofail,x-systemd.automount,"
                      "x-systemd.idle-timeout=60,comment=x,user,defaults",
                      extra_args=("healthlake",))
    os.mkdir(m.p("clinic"))
    assert read(m.p("clinic", "status")) == "ACTIVE\n"


def test_mount_only_option_does_not_hide_a_bad_one(server, tmp_path):
    """Only the mount(8) set is dropped: an unknown option still fails."""
    mnt = str(tmp_path / "m")
    os.makedirs(mnt)
    r = run([HEALTHLAKEFS, "-f", "-o", f"endpoint={server.url},_netdev,no_such_option",
             "healthlake", mnt], env=server.env(), timeout=30)
    assert r.returncode != 0
    assert "no_such_option" in r.stderr
    assert not os.path.ismount(mnt)


# ---------------------------------------------------------------- man, --help, --version

def test_man_page_renders_without_warnings():
    r = run(["man", "-l", MAN], env={**os.environ, "MANWIDTH": "80", "LC_ALL": "C.UTF-8"})
    assert r.returncode == 0
    assert r.stderr == "", r.stderr
    assert "healthlakefs - mount Amazon HealthLake" in r.stdout or \
        "healthlakefs \u2010 mount Amazon HealthLake" in r.stdout
    # groff's own warnings, all of them on.
    g = run(["groff", "-man", "-ww", "-z", "-t", MAN])
    assert g.stderr == "", g.stderr


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_names_every_option(flag):
    r = run([HEALTHLAKEFS, flag])
    assert r.returncode == 0, r.stderr
    text = r.stdout
    for name in DESIGN_OPTIONS:
        assert re.search(r"(^|[\s,])" + re.escape(name), text, re.M), f"{name} missing"
    for group in ["AWS settings", "Defaults for writes", "Safety", "Caching and pacing",
                  "FUSE's own"]:
        assert group in text
    for default in ["(default 2)", "(default 5)", "(default 20)", "(default 10)",
                    "(default 64)"]:
        assert default in text


def test_help_mirrors_man_page_options():
    """Every option the man page documents is in --help."""
    man = read(MAN).split("\n.SH OPTIONS\n", 1)[1].split("\n.SH ", 1)[0]
    names = set(re.findall(r"^\.BI ([a-z_]+=)", man, re.M))
    names |= set(re.findall(r"^\.B ([a-z_]+(?:=synthea)?)$", man, re.M))
    assert len(names) >= 15
    text = run([HEALTHLAKEFS, "--help"]).stdout
    for n in sorted(names):
        assert n in text, n


def test_help_does_not_mount(tmp_path):
    mnt = str(tmp_path / "m")
    os.makedirs(mnt)
    r = run([HEALTHLAKEFS, "-f", "--help", mnt], env={"PATH": os.environ["PATH"]})
    assert r.returncode == 0
    assert not os.path.ismount(mnt)


def pkg_version(name):
    r = run(["pkg-config", "--modversion", name])
    return r.stdout.strip() if r.returncode == 0 else None


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version_shows_libraries(flag, tmp_path):
    mnt = str(tmp_path / "m")
    os.makedirs(mnt)
    r = run([HEALTHLAKEFS, flag, mnt])
    assert r.returncode == 0, r.stderr
    assert not os.path.ismount(mnt)
    lines = r.stdout.splitlines()
    assert re.fullmatch(r"healthlakefs \d+\.\d+\.\d+", lines[0])
    assert any(re.fullmatch(r"libfuse 3\.\d+\.\d+", l) for l in lines)
    assert any(re.fullmatch(r"libcurl \d+\.\d+\.\d+\S*", l) for l in lines)
    assert any(re.match(r"OpenSSL \d+\.\d+\.\d+", l) for l in lines)
    assert any(re.fullmatch(r"cJSON \d+\.\d+\.\d+", l) for l in lines)
    # The versions are the ones it runs with (built against the same here).
    for pc, prefix in [("fuse3", "libfuse "), ("libcurl", "libcurl "), ("libcjson", "cJSON ")]:
        v = pkg_version(pc)
        if v:
            assert prefix + v in lines, (pc, v, lines)


# ---------------------------------------------------------------- healthlakefs wait

def wait_cmd(*args, timeout=60):
    return run([HEALTHLAKEFS, "wait", "--interval", "0.1", *args], timeout=timeout)


def put_ndjson(server, bucket, key, n=3):
    path = os.path.join(server.state, "s3", bucket, key)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        for i in range(n):
            f.write(json.dumps({"resourceType": "Patient", "id": f"p{i}"}) + "\n")


def start_import(m, store, uri):
    with open(m.p(store, "imports", "new"), "w") as f:
        f.write(uri + "\n")
    return os.readlink(m.p(store, "imports", "latest"))


def status_lines(out):
    return [l.split()[0] for l in out.splitlines() if l.strip()]


def test_wait_import_completes(server_factory, mount_factory):
    server = server_factory("--create-delay", "0", "--job-delay", "2")
    m = mount_factory(server, "attr_ttl=0.1,list_ttl=0.1," + JOB_OPTS)
    os.mkdir(m.p("clinic"))
    put_ndjson(server, "input-bucket", "batch/a.ndjson")
    job = start_import(m, "clinic", "s3://input-bucket/batch/")
    r = wait_cmd("--timeout", "30", m.p("clinic", "imports", job))
    assert r.returncode == 0, r.stdout + r.stderr
    seen = status_lines(r.stdout)
    assert seen[-1] == "COMPLETED", r.stdout
    # Not a tty: one line per status change, never the same status twice in a row.
    assert len(seen) >= 2, "saw the job before it completed"
    assert all(a != b for a, b in zip(seen, seen[1:])), r.stdout
    assert "\r" not in r.stdout and "\033" not in r.stdout
    assert json.loads(read(m.p("clinic", "imports", job)))["JobStatus"] == "COMPLETED"


def test_wait_import_fails(server_factory, mount_factory):
    server = server_factory("--create-delay", "0", "--job-delay", "1")
    m = mount_factory(server, "attr_ttl=0.1,list_ttl=0.1," + JOB_OPTS)
    os.mkdir(m.p("clinic"))
    job = start_import(m, "clinic", "s3://input-bucket/nothing-here/")
    r = wait_cmd("--timeout", "30", m.p("clinic", "imports", job))
    assert r.returncode == 1, r.stdout + r.stderr
    assert status_lines(r.stdout)[-1] == "FAILED"
    message = json.loads(read(m.p("clinic", "imports", job))).get("Message", "")
    assert message, "the failed job has a message"
    assert "FAILED" in r.stderr and message in r.stderr


def test_wait_store_becomes_active(server_factory, mount_factory):
    server = server_factory("--create-delay", "2", "--job-delay", "0")
    m = mount_factory(server, "attr_ttl=0.1,list_ttl=0.1")
    os.mkdir(m.p("clinic"))
    assert read(m.p("clinic", "status")) == "CREATING\n"
    t0 = time.monotonic()
    r = wait_cmd("--timeout", "30", m.p("clinic"))
    assert r.returncode == 0, r.stdout + r.stderr
    assert status_lines(r.stdout) == ["CREATING", "ACTIVE"]
    assert time.monotonic() - t0 >= 1.0, "it did wait"
    assert read(m.p("clinic", "status")) == "ACTIVE\n"


def test_wait_timeout(server_factory, mount_factory):
    server = server_factory("--create-delay", "60", "--job-delay", "0")
    m = mount_factory(server, "attr_ttl=0.1,list_ttl=0.1")
    os.mkdir(m.p("clinic"))
    t0 = time.monotonic()
    r = wait_cmd("--timeout", "1", m.p("clinic"))
    elapsed = time.monotonic() - t0
    assert r.returncode == 3, r.stdout + r.stderr
    assert "CREATING" in r.stderr
    assert status_lines(r.stdout) == ["CREATING"]
    assert elapsed < 10


# ---------------------------------------------------------------- extended attributes

def xattrs(path):
    return {n: os.getxattr(path, n).decode() for n in os.listxattr(path)}


def test_store_xattrs_equal_files(server, mount_factory):
    m = mount_factory(server)
    os.mkdir(m.p("clinic"))
    got = xattrs(m.p("clinic"))
    assert sorted(got) == sorted(XATTR_STORE)
    for name in ["id", "arn", "status", "endpoint"]:
        assert got["user.healthlake." + name] == read(m.p("clinic", name)).rstrip("\n")
    # getfattr -d shows them (the user namespace is its default).
    r = run(["getfattr", "-d", "--absolute-names", m.p("clinic")])
    assert r.returncode == 0, r.stderr
    for name in XATTR_STORE:
        assert f'{name}="{got[name]}"' in r.stdout
    # Reachable by id too, same values.
    assert xattrs(m.p(got["user.healthlake.id"])) == got


def test_job_xattrs(server, mount_factory):
    m = mount_factory(server, JOB_OPTS)
    os.mkdir(m.p("clinic"))
    put_ndjson(server, "input-bucket", "j/a.ndjson")
    job = start_import(m, "clinic", "s3://input-bucket/j/")
    path = m.p("clinic", "imports", job)
    got = xattrs(path)
    assert sorted(got) == sorted(XATTR_JOB)
    doc = json.loads(read(path))
    assert got["user.healthlake.status"] == doc["JobStatus"]
    assert got["user.healthlake.submit_time"] == doc["SubmitTime"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z",
                        got["user.healthlake.submit_time"])
    # Through the symlink (getfattr follows it by default) the same.
    r = run(["getfattr", "-d", "--absolute-names", m.p("clinic", "imports", "latest")])
    assert f'user.healthlake.status="{doc["JobStatus"]}"' in r.stdout


def test_xattr_size_query_and_erange(server, mount_factory):
    import ctypes
    import ctypes.util
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    libc.getxattr.restype = ctypes.c_ssize_t
    libc.listxattr.restype = ctypes.c_ssize_t
    m = mount_factory(server)
    os.mkdir(m.p("clinic"))
    path = m.p("clinic").encode()
    want = read(m.p("clinic", "arn")).rstrip("\n").encode()
    name = b"user.healthlake.arn"
    assert libc.getxattr(path, name, None, ctypes.c_size_t(0)) == len(want)
    buf = ctypes.create_string_buffer(len(want))
    assert libc.getxattr(path, name, buf, ctypes.c_size_t(len(want))) == len(want)
    assert buf.raw == want
    small = ctypes.create_string_buffer(len(want) - 1)
    assert libc.getxattr(path, name, small, ctypes.c_size_t(len(want) - 1)) == -1
    assert ctypes.get_errno() == errno.ERANGE
    names = b"\0".join(n.encode() for n in XATTR_STORE) + b"\0"
    assert libc.listxattr(path, None, ctypes.c_size_t(0)) == len(names)
    lbuf = ctypes.create_string_buffer(len(names))
    assert libc.listxattr(path, lbuf, ctypes.c_size_t(len(names))) == len(names)
    assert lbuf.raw == names
    assert libc.listxattr(path, lbuf, ctypes.c_size_t(len(names) - 1)) == -1
    assert ctypes.get_errno() == errno.ERANGE


def test_xattr_unknown_names_and_other_nodes(server, mount_factory):
    m = mount_factory(server)
    os.mkdir(m.p("clinic"))
    for path, name in [(m.p("clinic"), "user.healthlake.submit_time"),
                       (m.p("clinic"), "user.other"),
                       (m.p("clinic"), "security.capability"),
                       (m.p("clinic", "status"), "user.healthlake.status")]:
        with pytest.raises(OSError) as e:
            os.getxattr(path, name)
        assert e.value.errno == errno.ENODATA, (path, name)
    for p in [m.path, m.p("clinic", "status"), m.p("clinic", "imports"), m.p(".stats")]:
        assert os.listxattr(p) == []


def test_xattr_writes_refused(server, mount_factory):
    m = mount_factory(server)
    os.mkdir(m.p("clinic"))
    for name in ["user.healthlake.status", "user.mine"]:
        with pytest.raises(OSError) as e:
            os.setxattr(m.p("clinic"), name, b"x")
        assert e.value.errno == errno.EPERM
    with pytest.raises(OSError) as e:
        os.removexattr(m.p("clinic"), "user.healthlake.status")
    assert e.value.errno == errno.EPERM
    r = run(["setfattr", "-n", "user.healthlake.status", "-v", "DELETED", m.p("clinic")])
    assert r.returncode != 0 and "Operation not permitted" in r.stderr
    assert read(m.p("clinic", "status")) == "ACTIVE\n"
    assert server.mutating_calls() == 1, "only the mkdir"


def test_xattr_writes_on_ro_mount(server, mount_factory):
    server.seed(datastores=[{"name": "clinic", "status": "ACTIVE"}])
    m = mount_factory(server, "ro")
    with pytest.raises(OSError) as e:
        os.setxattr(m.p("clinic"), "user.healthlake.status", b"x")
    assert e.value.errno == errno.EROFS
    assert xattrs(m.p("clinic"))["user.healthlake.status"] == "ACTIVE"


def test_xattrs_cost_no_more_than_cat(server, mount_factory):
    """getfattr -d on a store makes no call that `cat status` would not make."""
    server.seed(datastores=[{"name": "clinic", "status": "ACTIVE"}])
    opts = "attr_ttl=30,list_ttl=30"

    def calls_for(script):
        m = mount_factory(server, opts)
        server.reset_counters()
        r = m.sh(script)
        assert r.returncode == 0, r.stderr
        return server.calls()

    cat = calls_for("cat clinic/status >/dev/null")
    attrs = calls_for("getfattr -d clinic >/dev/null")
    assert attrs.get("DescribeFHIRDatastore", 0) == cat.get("DescribeFHIRDatastore", 0) == 1
    assert sum(attrs.values()) <= sum(cat.values()), (attrs, cat)
    # A second look within the TTL costs nothing.
    m = mount_factory(server, opts)
    m.sh("getfattr -d clinic >/dev/null")
    server.reset_counters()
    m.sh("getfattr -d clinic >/dev/null; cat clinic/status >/dev/null")
    assert server.calls() == {}


def test_xattr_on_unknown_store_is_enoent(server, mount_factory):
    m = mount_factory(server)
    with pytest.raises(FileNotFoundError):
        os.getxattr(m.p("nope"), "user.healthlake.id")


# ---------------------------------------------------------------- SIGUSR1

def test_usr1_logs_stats_lines(server, mount_factory):
    server.seed(datastores=[{"name": "clinic", "status": "ACTIVE"}])
    m = mount_factory(server)
    assert read(m.p("clinic", "status")) == "ACTIVE\n"
    stats = read(m.p(".stats"))
    keys = [l.split()[0] for l in stats.splitlines()]
    assert "calls.DescribeFHIRDatastore" in keys
    m.proc.send_signal(signal.SIGUSR1)
    # The lines come sorted, so "throttled" is the last.
    wait_for(lambda: "stats throttled" in m.stderr(), timeout=10, what="stats lines in the log")
    logged = re.findall(r"^healthlakefs: stats (\S+) (\d+)$", m.stderr(), re.M)
    assert [k for k, _ in logged] == keys, "the same keys as /.stats, in its order"
    assert dict(logged)["calls.DescribeFHIRDatastore"] == "1"
    # Still serving, and a second signal logs again.
    assert read(m.p("clinic", "status")) == "ACTIVE\n"
    m.proc.send_signal(signal.SIGUSR1)
    wait_for(lambda: m.stderr().count("stats throttled") == 2, timeout=10,
             what="second stats dump")
    assert m.proc.poll() is None
    check_sanitizers(m.stderr())
