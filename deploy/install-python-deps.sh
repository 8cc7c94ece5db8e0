#!/usr/bin/env bash
# Installs the Python packages the example emitters use into <repo>/.tools/python
# (pinned; `PYTHONPATH=.tools/python python3 examples/python/emit_nats.py`).
# Idempotent: nothing happens when the pinned versions are there.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
target="$repo_root/.tools/python"
packages=("nats-py==2.16.0" "msgpack==1.2.4" "requests==2.34.2")
stamp="$target/.installed"
wanted="${packages[*]}"

if [[ -f "$stamp" && "$(cat "$stamp")" == "$wanted" ]]; then
    echo "$target"
    exit 0
fi
rm -rf "$target"
mkdir -p "$target"
python3 -m pip install --quiet --disable-pip-version-check --no-warn-script-location \
    --target "$target" "${packages[@]}" 2>&1 | grep -v "as the 'root' user" >&2 || true
python3 -c "import sys; sys.path.insert(0, '$target'); import nats, msgpack, requests" \
    || { echo "install-python-deps: the packages did not install into $target" >&2; exit 1; }
echo "$wanted" >"$stamp"
echo "$target"
