#!/usr/bin/env bash
# Installs the Debian packages Spate builds against, if they are missing.
# Sourced by setup.sh and test.sh; needs root (or sudo) only when something is missing.
set -euo pipefail

spate_missing_packages() {
    local missing=()
    for pkg in libzstd-dev libnuma-dev pkg-config; do
        dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
    done
    echo "${missing[@]:-}"
}

spate_install_deps() {
    local missing
    missing=$(spate_missing_packages)
    [ -z "$missing" ] && return 0
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
            echo "error: missing packages ($missing) and not root; run: apt-get install -y $missing" >&2
            return 1
        fi
    fi
    echo "==> installing $missing" >&2
    $sudo apt-get update -qq
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $missing >/dev/null
}
