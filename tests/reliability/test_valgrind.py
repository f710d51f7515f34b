"""Runs valgrind_session.sh (a whole mount session under valgrind: 0 errors,
0 leaks). It takes a minute or more, so it runs when HLFS_VALGRIND=1 (the
integrator's `scripts/test --valgrind`), on a build without sanitizers."""
import os
import subprocess

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))


def test_valgrind_session():
    if os.environ.get("HLFS_VALGRIND") != "1":
        pytest.skip("valgrind session is slow: runs with HLFS_VALGRIND=1 (scripts/test --valgrind)")
    import conftest
    ninja = os.path.join(conftest.BUILD, "build.ninja")
    if os.path.exists(ninja) and "-fsanitize" in open(ninja).read():
        pytest.skip(f"{conftest.BUILD} is a sanitizer build; valgrind needs a plain build")
    r = subprocess.run([os.path.join(HERE, "valgrind_session.sh"), conftest.BUILD],
                       capture_output=True, text=True, timeout=900)
    print(r.stdout[-3000:])
    assert r.returncode == 0, r.stdout[-6000:] + r.stderr[-3000:]
    assert "errors=0 definitely_lost=0 indirectly_lost=0 possibly_lost=0" in r.stdout
