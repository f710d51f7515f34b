"""The Debian packages, the way a user meets them: scripts/package builds
healthlakefs and healthlake-local with dpkg-buildpackage (lintian clean),
`apt-get install ./...` installs them, the packaged healthlake-local serves,
an /etc/fstab line mounts with `mount MNT`, a store's status reads ACTIVE,
`umount` unmounts, and `apt-get purge` leaves none of the packages' files.

The test changes the machine (it installs and purges two packages and adds
one line to /etc/fstab, restored whatever happens), so it needs root. It runs
once, in the plain `scripts/test`: the packages are built by dpkg-buildpackage
with Debian's own flags, whatever build scripts/test uses, so the sanitizer
run (`scripts/test --sanitize`, HLFS_TEST_MODE=sanitize) skips it rather than
repeat the same build.

Credentials reach the root mount the way a boot-time fstab mount gets them:
from a shared credentials file, selected by `profile=` on the fstab line (the
file is named by AWS_SHARED_CREDENTIALS_FILE here so that /root/.aws stays
untouched).
"""
import gzip
import json
import os
import shutil
import signal
import subprocess

import pytest

from conftest import ACCESS_KEY, REGION, REPO, SECRET_KEY, daemons_for, start_server, wait_for

PACKAGES = ["healthlakefs", "healthlake-local"]
FSTAB = "/etc/fstab"
PROFILE = "pkgtest"


def run(args, **kw):
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    kw.setdefault("timeout", 300)
    return subprocess.run(args, **kw)


def apt_get(*args):
    # The dpkg lock may be held by another apt run: wait for it instead of failing.
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    return run(["apt-get", "-y", "-q", "-o", "DPkg::Lock::Timeout=300", *args], env=env)


def meson_version():
    r = run(["meson", "introspect", "--projectinfo", os.path.join(REPO, "meson.build")])
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)["version"]


def installed(pkg):
    r = run(["dpkg-query", "-W", "-f=${Status}", pkg])
    return r.returncode == 0 and "install ok installed" in r.stdout


def owned_by_another_package(path):
    """True when dpkg lists path (a shared directory such as /usr/bin) in a
    package still installed."""
    return run(["dpkg-query", "-S", path]).returncode == 0


@pytest.fixture
def package_host():
    if os.environ.get("HLFS_TEST_MODE") == "sanitize":
        pytest.skip("the Debian packages are built by dpkg-buildpackage with Debian's flags, "
                    "independent of the sanitizer build: test_package runs in plain scripts/test")
    if os.geteuid() != 0:
        pytest.skip("installing packages, editing /etc/fstab and mount(8) need root")
    if not shutil.which("dpkg-buildpackage") and not shutil.which("apt-get"):
        pytest.skip("dpkg-buildpackage cannot run here: no dpkg-dev and no apt-get to install it")
    if not os.path.exists("/dev/fuse"):
        pytest.skip("no /dev/fuse: the fstab mount cannot run here")
    already = [p for p in PACKAGES if installed(p)]
    if already:
        pytest.skip(f"{', '.join(already)} already installed on this machine; this test "
                    "installs and purges them, so it leaves an existing installation alone")


def test_package_install_fstab_mount_purge(package_host, tmp_path):
    out = tmp_path / "out"
    # scripts/test has run the unit tests already (meson test): the package build
    # skips them and the debug symbols package, to stay short.
    r = run([os.path.join(REPO, "scripts", "package"), "--out", str(out), "--nocheck"],
            env={**os.environ, "DEB_BUILD_OPTIONS": "noautodbgsym"}, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "lintian" in r.stdout
    debs = sorted(str(p) for p in out.glob("*.deb"))
    names = sorted(os.path.basename(d).split("_")[0] for d in debs)
    assert names == sorted(PACKAGES), debs

    mnt = str(tmp_path / "x")
    os.makedirs(mnt)
    creds = tmp_path / "credentials"
    creds.write_text(f"[{PROFILE}]\naws_access_key_id = {ACCESS_KEY}\n"
                     f"aws_secret_access_key = {SECRET_KEY}\n")
    os.chmod(creds, 0o600)
    with open(FSTAB, "rb") as f:
        fstab_before = f.read()
    server = None
    listed = {}
    try:
        r = apt_get("install", *[d if d.startswith("/") else "./" + d for d in debs])
        assert r.returncode == 0, r.stdout + r.stderr
        for p in PACKAGES:
            assert installed(p), p
            r = run(["dpkg", "-L", p])
            assert r.returncode == 0, r.stderr
            listed[p] = [line for line in r.stdout.splitlines() if line.startswith("/")]
        assert "/usr/bin/healthlakefs" in listed["healthlakefs"]
        assert "/usr/share/man/man1/healthlakefs.1.gz" in listed["healthlakefs"]
        assert "/usr/share/doc/healthlakefs/examples/healthlakefs.service" in \
            listed["healthlakefs"]
        assert "/usr/bin/healthlake-local" in listed["healthlake-local"]
        # One version, meson.build's, in the package, the program and the man page.
        version = meson_version()
        for p in PACKAGES:
            assert run(["dpkg-query", "-W", "-f=${Version}", p]).stdout == version
        assert run(["/usr/bin/healthlakefs", "--version"]).stdout.startswith(
            f"healthlakefs {version}\n")
        with gzip.open("/usr/share/man/man1/healthlakefs.1.gz", "rt") as f:
            assert f'"healthlakefs {version}"' in f.readline()

        state = tmp_path / "state"
        os.makedirs(state)
        server = start_server(str(state), "--create-delay", "0", "--quiet",
                              program=["/usr/bin/healthlake-local"])

        with open(FSTAB, "ab") as f:
            f.write(b"\n# healthlakefs tests/test_package.py (removed when the test ends)\n" +
                    f"healthlake {mnt} fuse.healthlakefs noauto,endpoint={server.url},"
                    f"region={REGION},profile={PROFILE} 0 0\n".encode())
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update({"AWS_SHARED_CREDENTIALS_FILE": str(creds),
                    "AWS_CONFIG_FILE": "/nonexistent/config",
                    "AWS_EC2_METADATA_DISABLED": "true"})
        r = run(["mount", mnt], env=env, timeout=60)
        assert r.returncode == 0, r.stderr
        assert os.path.ismount(mnt)
        with open("/proc/self/mountinfo") as f:
            info = [line for line in f if f" {mnt} " in line]
        assert info and " fuse.healthlakefs healthlake " in info[0], info
        pids = daemons_for(mnt)
        assert len(pids) == 1, pids
        assert os.readlink(f"/proc/{pids[0]}/exe") == "/usr/bin/healthlakefs", \
            "mount.fuse3 ran another healthlakefs than the package's (one earlier on sh's PATH?)"

        os.mkdir(os.path.join(mnt, "pkg-store"))
        with open(os.path.join(mnt, "pkg-store", "status")) as f:
            assert f.read() == "ACTIVE\n"
        r = run(["umount", mnt], timeout=60)
        assert r.returncode == 0, r.stderr
        assert not os.path.ismount(mnt)
        wait_for(lambda: not daemons_for(mnt), timeout=10, what="daemon exit after umount")
    finally:
        if os.path.ismount(mnt):
            run(["umount", "-l", mnt], timeout=60)
        for pid in daemons_for(mnt):
            os.kill(pid, signal.SIGKILL)
        if server:
            server.stop()
        with open(FSTAB, "wb") as f:
            f.write(fstab_before)
        r = apt_get("purge", *[p for p in PACKAGES if installed(p)]) \
            if any(installed(p) for p in PACKAGES) else None
    with open(FSTAB, "rb") as f:
        assert f.read() == fstab_before
    assert r is not None and r.returncode == 0, r and (r.stdout + r.stderr)
    for p in PACKAGES:
        assert not installed(p), p
    left = [path for p in PACKAGES for path in listed[p]
            if path != "/." and os.path.lexists(path)
            and not (os.path.isdir(path) and not os.path.islink(path)
                     and owned_by_another_package(path))]
    assert left == [], "files of the purged packages left behind"
