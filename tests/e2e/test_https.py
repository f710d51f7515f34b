"""HTTPS endpoints: ca_file=, AWS_CA_BUNDLE and refusal of untrusted certificates."""
import os

from .hlutil import launch, listing, read, seed_store


def run_launch(launches, tmp_path, opts, env):
    ln = launch(str(tmp_path / f"tls{len(launches)}"), opts, env)
    launches.append(ln)
    return ln


def env_without_ca(server):
    env = server.env()
    env.pop("AWS_CA_BUNDLE", None)
    return env


def test_https_with_ca_file(https_server, certs, tmp_path, launches):
    seed_store(https_server, "secure")
    ln = run_launch(launches, tmp_path,
                    f"endpoint={https_server.url},region=us-east-1,ca_file={certs['ca']}",
                    env_without_ca(https_server))
    assert ln.mounted(), ln.stderr()
    assert listing(ln.path) == ["secure"]
    assert read(os.path.join(ln.path, "secure", "status")) == "ACTIVE\n"


def test_https_with_aws_ca_bundle(https_server, certs, tmp_path, launches):
    seed_store(https_server, "secure")
    env = env_without_ca(https_server)
    env["AWS_CA_BUNDLE"] = certs["ca"]
    ln = run_launch(launches, tmp_path, f"endpoint={https_server.url},region=us-east-1", env)
    assert ln.mounted(), ln.stderr()
    assert listing(ln.path) == ["secure"]


def test_https_ca_bundle_from_config(https_server, certs, tmp_path, launches):
    seed_store(https_server, "secure")
    cfg = tmp_path / "config"
    cfg.write_text(f"[default]\nca_bundle = {certs['ca']}\n")
    env = env_without_ca(https_server)
    env["AWS_CONFIG_FILE"] = str(cfg)
    ln = run_launch(launches, tmp_path, f"endpoint={https_server.url},region=us-east-1", env)
    assert ln.mounted(), ln.stderr()
    assert listing(ln.path) == ["secure"]


def test_https_untrusted_certificate_refused_at_mount(https_server, tmp_path, launches):
    ln = run_launch(launches, tmp_path, f"endpoint={https_server.url},region=us-east-1",
                    env_without_ca(https_server))
    assert ln.proc.returncode not in (None, 0)
    assert not ln.mounted()
    err = ln.stderr().lower()
    assert any(w in err for w in ("certificate", "tls", "ssl")), err


def test_https_wrong_ca_refused_at_mount(https_server, certs, tmp_path, launches):
    ln = run_launch(launches, tmp_path,
                    f"endpoint={https_server.url},region=us-east-1,ca_file={certs['other_ca']}",
                    env_without_ca(https_server))
    assert ln.proc.returncode not in (None, 0)
    assert not ln.mounted()


def test_https_missing_ca_file_refused(https_server, tmp_path, launches):
    ln = run_launch(launches, tmp_path,
                    f"endpoint={https_server.url},region=us-east-1,ca_file=/nonexistent/ca.pem",
                    env_without_ca(https_server))
    assert ln.proc.returncode not in (None, 0)
    assert not ln.mounted()
    assert ln.stderr().strip()


def test_https_hostname_mismatch_refused(server_factory, certs, tmp_path, launches):
    # A certificate from the trusted CA, but for another host name.
    srv = server_factory("--tls-cert", certs["wrong_cert"], "--tls-key", certs["wrong_key"])
    ln = run_launch(launches, tmp_path, f"endpoint={srv.url},region=us-east-1,ca_file={certs['ca']}",
                    env_without_ca(srv))
    assert ln.proc.returncode not in (None, 0)
    assert not ln.mounted()


def test_https_mkdir_and_import(https_server, certs, tmp_path, launches):
    from .hlutil import JOB_OPTS, boto_jobs, live_stores
    ln = run_launch(launches, tmp_path,
                    f"endpoint={https_server.url},region=us-east-1,ca_file={certs['ca']},{JOB_OPTS}",
                    env_without_ca(https_server))
    assert ln.mounted(), ln.stderr()
    os.mkdir(os.path.join(ln.path, "tls-store"))
    with open(os.path.join(ln.path, "tls-store", "imports", "new"), "w") as f:
        f.write("s3://hl-input/in/\n")
    sid = live_stores(https_server)[0]["DatastoreId"]
    assert len(boto_jobs(https_server, sid)) == 1
