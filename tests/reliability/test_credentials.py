"""Credentials under change: keys rotated in the shared credentials file and
session credentials expiring from a container-credentials endpoint are picked
up without a remount; keys the service rejects give EACCES and a clear .error;
no log line or file of the tree ever holds a secret."""
import errno

from relutil import (CredsEndpoint, JOB_OPTS, make_keys, read_all_files, rig, run_op,  # noqa: F401
                     secrets_in, try_mount, write_atomic)

T = 3
OPTS = f"timeout={T},attr_ttl=0,list_ttl=0,max_tps=100,{JOB_OPTS}"
AUTH_WORDS = ("credential", "signature", "token", "access", "key", "unrecognized", "expired",
              "denied", "auth")


def set_keys(server, *triples, tokens=True):
    server.admin("keys", {"keys": [
        dict({"access_key": a, "secret_key": s}, **({"session_token": t} if tokens and t else {}))
        for a, s, t in triples]})


def env_without_keys(server, **extra):
    """The server's client environment minus its keys, plus extra."""
    e = server.env()
    for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        e.pop(k, None)
    e.update(extra)
    return e


def creds_file(path, akid, secret, profile="default"):
    write_atomic(path, f"[{profile}]\naws_access_key_id = {akid}\n"
                       f"aws_secret_access_key = {secret}\n")


def ls_ok(m, attempts=2):
    """Lists / up to `attempts` times; returns the results."""
    out = []
    for _ in range(attempts):
        r = run_op(["listdir", "."], timeout=T + 20, cwd=m.path)
        out.append(r)
        if r["errno"] == 0:
            break
    return out


def test_keys_rotated_in_credentials_file_are_picked_up(rig, tmp_path):
    s = rig.server()
    s.seed(datastores=[{"name": "rot", "status": "ACTIVE"}])
    k1, k2 = make_keys("one"), make_keys("two")
    set_keys(s, k1, tokens=False)
    cred = tmp_path / "credentials"
    creds_file(cred, k1[0], k1[1])
    env = env_without_keys(s, AWS_SHARED_CREDENTIALS_FILE=str(cred))
    m = rig.mount(s, OPTS, env=env, extra_args=("-d",))
    r = ls_ok(m, 1)
    assert r[-1]["errno"] == 0 and "rot" in r[-1]["out"], r

    # Rotate the way an operator does: new key valid, file updated, old key revoked.
    set_keys(s, k1, k2, tokens=False)
    creds_file(cred, k2[0], k2[1])
    set_keys(s, k2, tokens=False)
    r = ls_ok(m, 2)
    # The service's rejection of the old key makes the client read the file again:
    # at most the call that met the rejection may fail.
    assert r[-1]["errno"] == 0, f"rotated keys not picked up without a remount: {r}"
    assert all(x["errno"] in (0, errno.EACCES) for x in r), r
    w = run_op(["write", "rot/tags/rotated", ["yes\n"]], timeout=T + 20, cwd=m.path)
    assert w["errno"] == 0, w
    assert m.proc.poll() is None
    leaks = secrets_in(m.stderr(), [k1[1], k2[1]])
    assert not leaks, f"secret in the -d log: {leaks}"


def test_container_session_credentials_rotate(rig, tmp_path):
    s = rig.server()
    s.seed(datastores=[{"name": "ctr", "status": "ACTIVE"}])
    a, b = make_keys("ctra"), make_keys("ctrb")
    ep = CredsEndpoint(auth="Bearer rel-container-auth-token")
    try:
        # Nine minutes left: inside the window where the client must refresh.
        ep.serve(*a, expires_in=9 * 60)
        set_keys(s, a)
        env = env_without_keys(s, AWS_CONTAINER_CREDENTIALS_FULL_URI=ep.url,
                               AWS_CONTAINER_AUTHORIZATION_TOKEN="Bearer rel-container-auth-token")
        m = rig.mount(s, OPTS, env=env, extra_args=("-d",))
        r = ls_ok(m, 1)
        assert r[-1]["errno"] == 0 and "ctr" in r[-1]["out"], r
        assert ep.hits >= 1 and ep.bad_auth == 0, (ep.hits, ep.bad_auth)

        hits = ep.hits
        ep.serve(*b, expires_in=9 * 60)
        set_keys(s, b)  # the old session is now expired as far as the service knows
        r = ls_ok(m, 2)
        assert r[-1]["errno"] == 0, f"expiring session credentials did not rotate: {r}"
        assert all(x["errno"] in (0, errno.EACCES) for x in r), r
        assert ep.hits > hits, "the endpoint was not asked again"
        w = run_op(["write", "ctr/tags/session", ["b\n"]], timeout=T + 20, cwd=m.path)
        assert w["errno"] == 0, w
        files = read_all_files(m.path)
        blob = "\n".join(v.decode(errors="replace") for v in files.values() if isinstance(v, bytes))
        leaks = secrets_in(m.stderr() + blob, [a[1], a[2], b[1], b[2],
                                               "rel-container-auth-token"])
        assert not leaks, f"secret in the log or the tree: {leaks}"
    finally:
        ep.close()


def test_rejected_keys_give_eacces_and_clear_error(rig, tmp_path):
    s = rig.server()
    s.seed(datastores=[{"name": "deny", "status": "ACTIVE"}])
    k = make_keys("deny")
    set_keys(s, k)
    env = env_without_keys(s, AWS_ACCESS_KEY_ID=k[0], AWS_SECRET_ACCESS_KEY=k[1],
                           AWS_SESSION_TOKEN=k[2])
    m = rig.mount(s, OPTS, env=env, extra_args=("-d",))
    assert ls_ok(m, 1)[-1]["errno"] == 0
    set_keys(s, make_keys("other"))  # our keys are no longer accepted
    ops = [["listdir", "."], ["read", "deny/status"], ["write", "deny/tags/x", ["y\n"]],
           ["mkdir", "deny-new"]]
    for op in ops:
        r = run_op(op, timeout=T + 20, cwd=m.path)
        assert r["errno"] == errno.EACCES, f"{op}: expected EACCES, got {r['name'] or 'success'}"
    e = run_op(["read", ".error"], cwd=m.path)
    assert e["errno"] == 0 and e["out"].endswith("\n") and e["out"].count("\n") == 1, e
    assert any(w in e["out"].lower() for w in AUTH_WORDS), f"unclear .error: {e['out']!r}"
    files = read_all_files(m.path)
    blob = "\n".join(v.decode(errors="replace") for v in files.values() if isinstance(v, bytes))
    assert not secrets_in(m.stderr() + blob, [k[1], k[2]])
    assert m.proc.poll() is None


def test_mount_with_wrong_secret_fails_clearly(rig, tmp_path):
    s = rig.server()
    k = make_keys("good")
    set_keys(s, k)
    wrong = k[1][:-4] + "XXXX"
    env = env_without_keys(s, AWS_ACCESS_KEY_ID=k[0], AWS_SECRET_ACCESS_KEY=wrong)
    mounted, rc, err, m = try_mount(rig, f"endpoint={s.url},region={s.region},{OPTS}", env)
    assert not mounted and rc not in (None, 0), (mounted, rc, err)
    assert err.strip() and any(w in err.lower() for w in AUTH_WORDS), err
    assert not secrets_in(err, [wrong, k[1]]), err


def test_no_credentials_fails_clearly(rig, tmp_path):
    s = rig.server()
    env = env_without_keys(s)
    mounted, rc, err, m = try_mount(rig, f"endpoint={s.url},region={s.region},{OPTS}", env)
    assert not mounted and rc not in (None, 0), (mounted, rc, err)
    assert "credential" in err.lower(), err
