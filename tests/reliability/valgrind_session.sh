#!/usr/bin/env bash
# One whole healthlakefs session under valgrind: mount (-f) against a fresh
# healthlake-local, walk and read the whole tree, mkdir, start import and
# export jobs, write/read/remove tags, refused inputs, throttled calls, the
# FHIR data plane (listing, reads, searches, streams, history, $everything,
# edit, copy, delete, refusals, conflict, faults), rmdir with allow_delete,
# unmount. Passes when valgrind reports 0 errors and 0
# bytes definitely, indirectly or possibly lost.
#   tests/reliability/valgrind_session.sh [BUILD_DIR]     (default $HLFS_BUILD_DIR or build)
# Needs a build without sanitizers (valgrind and ASan do not mix).
set -uo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-${HLFS_BUILD_DIR:-$repo/build}}" && pwd)
exe=$build/fs/healthlakefs
py=/usr/bin/python3

fail() { echo "valgrind_session: $*" >&2; exit 1; }
[ -x "$exe" ] || fail "no $exe (build first)"
command -v valgrind >/dev/null || fail "valgrind not installed"
if ldd "$exe" | grep -q libasan || grep -q -- '-fsanitize' "$build/build.ninja" 2>/dev/null; then
	fail "$build is a sanitizer build; valgrind needs a plain one"
fi

tmp=$(mktemp -d /tmp/hlfs-vg.XXXXXX)
mnt=$tmp/mnt
mkdir -p "$mnt" "$tmp/state"
srv_pid=
vg_pid=
cleanup() {
	fusermount3 -u -z "$mnt" 2>/dev/null
	[ -n "$vg_pid" ] && kill "$vg_pid" 2>/dev/null
	[ -n "$srv_pid" ] && kill "$srv_pid" 2>/dev/null
	wait 2>/dev/null
	[ "${KEEP:-0}" = 1 ] || rm -rf "$tmp"
}
trap cleanup EXIT

ak=AKIDVALGRINDTEST01
sk=valgrind-session-secret/0123456789
"$py" "$repo/scripts/healthlake-local" --state "$tmp/state" --host 127.0.0.1 --port 0 \
	--access-key "$ak" --secret-key "$sk" --region us-east-1 \
	--create-delay 0 --delete-delay 0 --job-delay 0 >"$tmp/server.out" 2>"$tmp/server.log" &
srv_pid=$!
for _ in $(seq 200); do
	grep -q 'listening on' "$tmp/server.out" 2>/dev/null && break
	sleep 0.05
done
url=$(sed -n 's/.*listening on \([^ ]*\).*/\1/p' "$tmp/server.out" | head -1)
[ -n "$url" ] || fail "server did not start: $(cat "$tmp/server.log")"
admin() { curl -sf -X POST -H 'Content-Type: application/json' -d "$2" "$url/__admin/$1" >/dev/null; }
admin seed '{"count": 2, "name_prefix": "vg", "import_jobs": 2, "export_jobs": 1}' ||
	fail "seed failed"

export AWS_ACCESS_KEY_ID=$ak AWS_SECRET_ACCESS_KEY=$sk AWS_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/nonexistent AWS_SHARED_CREDENTIALS_FILE=/nonexistent
unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL AWS_CA_BUNDLE
opts="endpoint=$url,region=us-east-1,allow_delete,attr_ttl=0.5,list_ttl=1,timeout=20"
opts+=",role_arn=arn:aws:iam::123456789012:role/VgImport,import_output=s3://vg-bucket/out/"
opts+=",kms_key=arn:aws:kms:us-east-1:123456789012:key/vg-key"

valgrind --leak-check=full --show-leak-kinds=definite,indirect,possible \
	--errors-for-leak-kinds=definite,indirect,possible --error-exitcode=99 \
	--num-callers=30 --log-file="$tmp/valgrind.log" \
	"$exe" -f -o "$opts" "$mnt" 2>"$tmp/daemon.log" &
vg_pid=$!
for _ in $(seq 1200); do
	mountpoint -q "$mnt" && break
	kill -0 "$vg_pid" 2>/dev/null || break
	sleep 0.05
done
mountpoint -q "$mnt" || fail "not mounted: $(tail -20 "$tmp/daemon.log")"

steps=0
bad=0
step() { # step EXPECT(ok|fail) COMMAND...
	local want=$1
	shift
	steps=$((steps + 1))
	if "$@" >/dev/null 2>>"$tmp/steps.err"; then
		[ "$want" = ok ] || { echo "unexpected success: $*" >&2; bad=$((bad + 1)); }
	else
		[ "$want" = fail ] || { echo "unexpected failure: $* ($(tail -1 "$tmp/steps.err"))" >&2; bad=$((bad + 1)); }
	fi
}
w() { printf '%s\n' "$2" >"$1"; }
readall() { find "$mnt" \( -type f -o -type l \) ! -name new -print0 | xargs -0 cat; }

cd "$mnt" || fail "cd"
step ok ls -lR "$mnt"
step ok readall
step ok cat vg0000/status vg0000/datastore.json .stats .error
step ok readlink vg0000/imports/latest
step ok mkdir vg-new
step ok w vg0000/imports/new s3://vg-bucket/in/a/
step ok w vg0000/exports/new s3://vg-bucket/exp/a/
step ok w vg0001/imports/new '{"InputDataConfig": {"S3Uri": "s3://vg-bucket/in/b/"}, "JobName": "vg"}'
step ok w vg0000/tags/team valgrind
step ok cat vg0000/tags/team
step ok rm vg0000/tags/team
step fail mkdir 'bad!name'
step fail w vg0000/imports/new 'http://not-s3/'
step fail w vg0000/imports/new '{"Bogus": 1}'
step fail cat vg0000/nonexistent
step fail cat vg0000/imports/ffffffffffffffffffffffffffffffff
step fail mv vg0000/status vg0000/x
admin faults '{"throttle": 1.0, "first_n": 2}'
step ok cat vg0001/datastore.json vg0001/status
admin faults '{"error5xx": 1.0, "first_n": 2}'
step ok ls -l vg0001/imports
admin faults '{}'
# The FHIR data plane: a type listing of two pages, reads, a search and its
# all.ndjson (whole and cut short), history, $everything, an edit (sed -i), a
# copy, a delete, refused writes and names, a conflict, throttled and failing
# calls.
sid=$(cat vg0000/id)
for i in $(seq 150); do
	printf '{"resourceType":"Patient","id":"vp%d","gender":"%s","name":[{"family":"Family%d"}]}\n' \
		"$i" "$([ $((i % 2)) = 0 ] && echo female || echo male)" "$i"
done >"$tmp/load.ndjson"
curl -sf -X POST --data-binary @"$tmp/load.ndjson" "$url/__admin/fhir/load?store=$sid" >/dev/null ||
	fail "fhir load failed"
f=vg0000/fhir
# A PUT's outcome arrives at close(2), which bash does not check for a
# redirection: FHIR writes go through cp, which does.
fw() { printf '%s\n' "$2" >"$tmp/body" && cp "$tmp/body" "$1"; }
step ok ls -l $f/Patient
step ok cat $f/metadata.json $f/Patient/vp1.json
step ok ls "$f/Patient?gender=female"
step ok cat "$f/Patient?gender=female/all.ndjson"
step ok head -1 "$f/Patient?gender=male/all.ndjson"
step ok cat $f/Patient/vp1.everything.ndjson
step ok sed -i 's/"Family1"/"Edited1"/' $f/Patient/vp1.json
step ok cat $f/Patient/vp1.history/1.json $f/Patient/vp1.history/2.json
step ok fw $f/Patient/vnew.json '{"resourceType": "Patient", "name": [{"family": "New"}]}'
step ok rm $f/Patient/vp2.json
step fail fw $f/Patient/vp3.json '[1]'
step fail fw $f/Patient/vp3.json '{"resourceType": "Patient", "id": "vp3", "meta": {"versionId": "0"}}'
step fail ls "$f/Patient?_count=1"
step fail cat $f/Patient/nothere.json
admin faults '{"throttle": 1.0, "first_n": 2, "operations": ["fhir.*"]}'
step ok cat $f/Patient/vp4.json
admin faults '{"error5xx": 1.0, "operations": ["fhir.*"]}'
step fail cat $f/Patient/vp5.json
admin faults '{}'
step ok ls -lR "$mnt"
step ok readall
step ok rmdir vg-new
step ok ls -la "$mnt"
# Last, a file: the kernel sends a close's RELEASE (RELEASEDIR for a directory)
# in the background, and the unmount below aborts one still queued. Our file
# handles are freed at unmount anyway; libfuse's directory handles are not, so
# the listing's RELEASEDIR must reach the daemon first -- it is queued ahead
# of this read's requests.
step ok cat "$mnt/.stats"
cd / || true

fusermount3 -u "$mnt" || fail "fusermount3 -u failed"
wait "$vg_pid"
rc=$?
vg_pid=
log=$tmp/valgrind.log
errors=$(sed -n 's/.*ERROR SUMMARY: \([0-9,]*\) errors.*/\1/p' "$log" | tail -1 | tr -d ,)
lost() { sed -n "s/.*$1 lost: \([0-9,]*\) bytes.*/\1/p" "$log" | tail -1 | tr -d ,; }
def=$(lost definitely)
ind=$(lost indirectly)
pos=$(lost possibly)
echo "valgrind_session: steps=$steps unexpected=$bad exit=$rc errors=${errors:-?} definitely_lost=${def:-0} indirectly_lost=${ind:-0} possibly_lost=${pos:-0}"
grep -E 'in use at exit|total heap usage' "$log" | sed 's/^==[0-9]*== */  /'
if [ "$rc" -ne 0 ] || [ "${errors:-1}" != 0 ] || [ "${def:-0}" != 0 ] || [ "${ind:-0}" != 0 ] ||
	[ "${pos:-0}" != 0 ] || [ $bad -ne 0 ]; then
	echo "---- valgrind log (first 200 lines) ----"
	head -200 "$log"
	exit 1
fi
exit 0
