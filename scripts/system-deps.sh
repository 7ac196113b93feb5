#!/usr/bin/env bash
# Installs the system packages igniter_nb's tests, demo and benchmarks use:
# Graphviz (`dot`), Redis, PostgreSQL, Chromium and wrk (bench/server.py's load generator).
# Only what is missing is installed,
# and `apt-get update` runs only when something must be installed.
#
# Services are deliberately NOT started here: tests and benchmarks start their own
# redis-server / postgres instances on temporary ports and data directories.
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive

if [ "$(id -u)" -eq 0 ]; then
    SUDO=()
elif command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo -n)
else
    echo "system-deps: not root and sudo is not available; cannot install system packages" >&2
    exit 1
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "system-deps: apt-get not found; install graphviz, redis-server, postgresql, chromium, wrk by hand" >&2
    exit 1
fi

is_installed() {
    # dpkg -s succeeds for removed-but-configured packages too; check the status line.
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

missing=()
need() {
    # need PACKAGE [COMMAND]: PACKAGE is wanted unless it is installed (or COMMAND is on PATH).
    local pkg="$1" cmd="${2:-}"
    if is_installed "$pkg"; then
        return
    fi
    if [ -n "$cmd" ] && command -v "$cmd" >/dev/null 2>&1; then
        return
    fi
    missing+=("$pkg")
}

need graphviz dot
need redis-server redis-server
need postgresql
need postgresql-contrib
need chromium chromium
need wrk wrk

if [ "${#missing[@]}" -eq 0 ]; then
    echo "system-deps: all present (graphviz, redis-server, postgresql, chromium, wrk)"
    exit 0
fi

echo "system-deps: installing ${missing[*]}"

# Debian's maintainer scripts start redis/postgresql on install through invoke-rc.d.
# A temporary policy-rc.d (exit 101 = "action forbidden") keeps them stopped; an
# existing policy file is left untouched.
policy=/usr/sbin/policy-rc.d
added_policy=0
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee "$policy" >/dev/null
    "${SUDO[@]}" chmod 755 "$policy"
    added_policy=1
fi
cleanup() {
    if [ "$added_policy" -eq 1 ]; then
        "${SUDO[@]}" rm -f "$policy"
    fi
}
trap cleanup EXIT

"${SUDO[@]}" apt-get update -q
"${SUDO[@]}" apt-get install -y -q "${missing[@]}" </dev/null

echo "system-deps: done"
