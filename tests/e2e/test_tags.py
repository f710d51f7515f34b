"""tags/<key> files (DESIGN.md "Tree" and "Writes")."""
import errno
import os
import stat

from .hlutil import (assert_errno, assert_one_line, boto_tags, error_file, listing, read,
                     write_once)


def tag(server, store, key, value):
    server.boto3().tag_resource(ResourceARN=store["arn"], Tags=[{"Key": key, "Value": value}])


def tags_dir(m):
    return m.p("clinic-a", "tags")


def test_tags_listed(server, store, mount_factory):
    tag(server, store, "env", "prod")
    tag(server, store, "team", "blue")
    m = mount_factory(server)
    assert listing(tags_dir(m)) == ["env", "team"]


def test_tags_empty_without_tags(server, store, mount_factory):
    m = mount_factory(server)
    assert listing(tags_dir(m)) == []


def test_tag_file_content(server, store, mount_factory):
    tag(server, store, "env", "prod")
    m = mount_factory(server)
    assert read(os.path.join(tags_dir(m), "env")) == "prod\n"


def test_tag_file_size_exact(server, store, mount_factory):
    tag(server, store, "env", "production")
    m = mount_factory(server)
    assert os.stat(os.path.join(tags_dir(m), "env")).st_size == len("production\n")


def test_tag_file_mode_0600(server, store, mount_factory):
    tag(server, store, "env", "prod")
    m = mount_factory(server)
    assert stat.S_IMODE(os.stat(os.path.join(tags_dir(m), "env")).st_mode) == 0o600


def test_echo_sets_tag(server, store, mount_factory):
    m = mount_factory(server)
    r = m.sh("echo prod > clinic-a/tags/env")
    assert r.returncode == 0, r.stderr
    assert boto_tags(server, store["arn"]) == {"env": "prod"}


def test_echo_sets_tag_one_call(server, store, mount_factory):
    m = mount_factory(server)
    server.reset_counters()
    m.sh("echo prod > clinic-a/tags/env")
    assert server.calls("TagResource") == 1


def test_echo_overwrites_tag(server, store, mount_factory):
    tag(server, store, "env", "dev")
    m = mount_factory(server)
    m.sh("echo prod > clinic-a/tags/env")
    assert boto_tags(server, store["arn"]) == {"env": "prod"}


def test_written_tag_readable_at_once(server, store, mount_factory):
    m = mount_factory(server)
    m.sh("echo prod > clinic-a/tags/env")
    assert read(os.path.join(tags_dir(m), "env")) == "prod\n"
    assert "env" in listing(tags_dir(m))


def test_overwritten_tag_readable_at_once(server, store, mount_factory):
    tag(server, store, "env", "dev")
    m = mount_factory(server)
    assert read(os.path.join(tags_dir(m), "env")) == "dev\n"
    m.sh("echo prod > clinic-a/tags/env")
    assert read(os.path.join(tags_dir(m), "env")) == "prod\n"


def test_only_one_trailing_newline_stripped(server, store, mount_factory):
    m = mount_factory(server)
    assert write_once(os.path.join(tags_dir(m), "k"), "value\n", os.O_WRONLY | os.O_CREAT |
                      os.O_TRUNC) == (0, 0)
    assert boto_tags(server, store["arn"]) == {"k": "value"}


def test_value_without_newline(server, store, mount_factory):
    m = mount_factory(server)
    r = m.sh("printf %s blue > clinic-a/tags/team")
    assert r.returncode == 0, r.stderr
    assert boto_tags(server, store["arn"]) == {"team": "blue"}


def test_empty_write_sets_empty_value(server, store, mount_factory):
    m = mount_factory(server)
    r = m.sh("echo > clinic-a/tags/empty")
    assert r.returncode == 0, r.stderr
    assert boto_tags(server, store["arn"]) == {"empty": ""}


def test_empty_value_reads_as_newline(server, store, mount_factory):
    tag(server, store, "empty", "")
    m = mount_factory(server)
    assert read(os.path.join(tags_dir(m), "empty")) == "\n"


def test_value_with_spaces(server, store, mount_factory):
    m = mount_factory(server)
    m.sh("echo 'north wing' > clinic-a/tags/site")
    assert boto_tags(server, store["arn"]) == {"site": "north wing"}


def test_unlink_without_allow_delete_eperm(server, store, mount_factory):
    tag(server, store, "env", "prod")
    m = mount_factory(server)
    server.reset_counters()
    assert_errno(errno.EPERM, os.unlink, os.path.join(tags_dir(m), "env"))
    assert server.calls("UntagResource") == 0
    assert boto_tags(server, store["arn"]) == {"env": "prod"}


def test_unlink_eperm_sets_tags_error(server, store, mount_factory):
    tag(server, store, "env", "prod")
    m = mount_factory(server)
    assert_errno(errno.EPERM, os.unlink, os.path.join(tags_dir(m), "env"))
    assert_one_line(error_file(tags_dir(m)))


def test_rm_tag_bash_message(server, store, mount_factory):
    tag(server, store, "env", "prod")
    m = mount_factory(server)
    r = m.sh("rm clinic-a/tags/env")
    assert r.returncode == 1
    assert "Operation not permitted" in r.stderr


def test_unlink_with_allow_delete_untags(server, store, mount_factory):
    tag(server, store, "env", "prod")
    tag(server, store, "team", "blue")
    m = mount_factory(server, "allow_delete")
    os.unlink(os.path.join(tags_dir(m), "env"))
    assert boto_tags(server, store["arn"]) == {"team": "blue"}


def test_unlinked_tag_gone_from_listing(server, store, mount_factory):
    tag(server, store, "env", "prod")
    m = mount_factory(server, "allow_delete")
    os.unlink(os.path.join(tags_dir(m), "env"))
    assert listing(tags_dir(m)) == []
    assert_errno(errno.ENOENT, os.stat, os.path.join(tags_dir(m), "env"))


def test_unlink_unknown_tag_enoent(server, store, mount_factory):
    m = mount_factory(server, "allow_delete")
    assert_errno(errno.ENOENT, os.unlink, os.path.join(tags_dir(m), "nope"))


def test_slash_in_key_shown_as_2f(server, store, mount_factory):
    tag(server, store, "team/owner", "ana")
    m = mount_factory(server)
    assert listing(tags_dir(m)) == ["team%2Fowner"]
    assert read(os.path.join(tags_dir(m), "team%2Fowner")) == "ana\n"


def test_write_2f_sets_slash_key(server, store, mount_factory):
    m = mount_factory(server)
    r = m.sh("echo ana > clinic-a/tags/team%2Fowner")
    assert r.returncode == 0, r.stderr
    assert boto_tags(server, store["arn"]) == {"team/owner": "ana"}


def test_write_25_never_stores_raw_escape(server, store, mount_factory):
    # TagKey's pattern has no '%': the service refuses "a%b" (EINVAL); what must
    # never happen is the escaped form reaching the service as the key.
    m = mount_factory(server)
    werr, cerr = write_once(os.path.join(tags_dir(m), "a%25b"), "v\n",
                            os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    tags = boto_tags(server, store["arn"])
    assert "a%25b" not in tags
    if (werr or cerr) == 0:
        assert tags == {"a%b": "v"}
    else:
        assert (werr or cerr) == errno.EINVAL


def test_tag_on_unknown_store_enoent(server, store, mount_factory):
    m = mount_factory(server)
    assert_errno(errno.ENOENT, os.open, m.p("nope", "tags", "k"), os.O_WRONLY | os.O_CREAT)


def test_invalid_value_einval_in_tags_error(server, store, mount_factory):
    m = mount_factory(server)
    r = m.sh("printf 'a\\tb\\n' > clinic-a/tags/k")
    assert r.returncode == 1
    assert "Invalid argument" in r.stderr
    assert_one_line(error_file(tags_dir(m)))
    assert boto_tags(server, store["arn"]) == {}


def test_value_longer_than_256_einval(server, store, mount_factory):
    m = mount_factory(server)
    werr, cerr = write_once(os.path.join(tags_dir(m), "k"), "v" * 257 + "\n",
                            os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    assert (werr or cerr) == errno.EINVAL
    assert boto_tags(server, store["arn"]) == {}


def test_key_longer_than_128_einval(server, store, mount_factory):
    m = mount_factory(server)
    werr, cerr = write_once(os.path.join(tags_dir(m), "k" * 129), "v\n",
                            os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    assert (werr or cerr) == errno.EINVAL
    assert boto_tags(server, store["arn"]) == {}


def test_tag_value_of_256_accepted(server, store, mount_factory):
    m = mount_factory(server)
    assert write_once(os.path.join(tags_dir(m), "k"), "v" * 256 + "\n",
                      os.O_WRONLY | os.O_CREAT | os.O_TRUNC) == (0, 0)
    assert boto_tags(server, store["arn"]) == {"k": "v" * 256}


# A new tag is set when its file is released, which the kernel does just after the last close
# returned: a read or stat right after the shell command must already see the value.

def test_truncate_then_read_sees_the_empty_value(server, store, mount_factory):
    m = mount_factory(server)
    script = "for i in $(seq 10); do : > clinic-a/tags/k$i && od -An -c clinic-a/tags/k$i; done"
    r = m.sh(script)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["\\n"] * 10
    assert boto_tags(server, store["arn"]) == {f"k{i}": "" for i in range(1, 11)}


def test_write_then_stat_gives_the_value_size(server, store, mount_factory):
    m = mount_factory(server)
    r = m.sh("for i in $(seq 10); do echo v$i > clinic-a/tags/k$i && "
             "stat -c %s clinic-a/tags/k$i; done")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == [str(len(f"v{i}\n")) for i in range(1, 11)]


def test_new_tag_still_open_for_writing_reads_empty(server, store, mount_factory):
    m = mount_factory(server)
    r = m.sh("exec 3> clinic-a/tags/k; wc -c < clinic-a/tags/k; exec 3>&-; "
             "od -An -c clinic-a/tags/k")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["0", "\\n"]
    assert boto_tags(server, store["arn"]) == {"k": ""}
