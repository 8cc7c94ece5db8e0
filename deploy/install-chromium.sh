#!/usr/bin/env bash
# Installs the browser the dashboard's end-to-end test drives: Debian's `chromium` and
# `chromium-driver` packages (/usr/bin/chromium, /usr/bin/chromedriver).
#
# Usage: deploy/install-chromium.sh
#
# Why Debian's packages: they are signed, updated with the distribution's security
# releases, and the driver always matches the browser's version (both come from one
# source package). The tests never download a browser.
#
# Idempotent and quiet: when both binaries are present and their major versions agree,
# nothing is printed and nothing is installed. Otherwise the packages are installed with
# apt-get (as root, or through sudo when it is available without a password). The last
# line printed on an install is the chromedriver path.
set -euo pipefail

chromium=/usr/bin/chromium
chromedriver=/usr/bin/chromedriver

# "Chromium 148.0.7778.167 built on Debian ..." and "ChromeDriver 148.0.7778.167 (...)"
# both carry the version as their second word; the major version is what must agree.
major_version() {
    "$1" --version 2>/dev/null | awk '{ split($2, v, "."); print v[1] }'
}

installed() {
    [[ -x "$chromium" && -x "$chromedriver" ]] || return 1
    local browser driver
    browser="$(major_version "$chromium")"
    driver="$(major_version "$chromedriver")"
    [[ -n "$browser" && "$browser" == "$driver" ]]
}

if installed; then
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    cat >&2 <<MSG
install-chromium: apt-get was not found; this script installs Debian's packages.
Install Chromium and a matching ChromeDriver yourself, so that $chromium and
$chromedriver exist and report the same major version, then run this script again.
MSG
    exit 1
fi

if [[ "$(id -u)" == 0 ]]; then
    as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    as_root=(sudo -n)
else
    cat >&2 <<MSG
install-chromium: installing Debian's chromium and chromium-driver needs root.
Run: sudo apt-get install chromium chromium-driver
(or run this script as root), then run the tests again.
MSG
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
echo "install-chromium: installing Debian's chromium and chromium-driver" >&2
# The package lists may be missing (a fresh container) or stale (a security update
# replaced the version they name): update them once, then install.
"${as_root[@]}" apt-get update -qq >&2
"${as_root[@]}" apt-get install -y -qq --no-install-recommends chromium chromium-driver >&2

if ! installed; then
    echo "install-chromium: after the install, $chromium and $chromedriver are missing or their versions differ:" >&2
    "$chromium" --version >&2 || true
    "$chromedriver" --version >&2 || true
    exit 1
fi
echo "install-chromium: $("$chromium" --version)" >&2
echo "$chromedriver"
