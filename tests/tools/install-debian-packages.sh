#!/usr/bin/env bash
# Installs the Debian packages given, only those missing; needs root only when one is missing.
#   tests/tools/install-debian-packages.sh "<what they are for>" PACKAGE...
# DEBCONF_SELECTIONS (optional): lines for debconf-set-selections, applied before the install.
set -euo pipefail

purpose=$1
shift
missing=()
for pkg in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$pkg")
    fi
done
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "$purpose missing (${missing[*]}): run as root or: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
if [ -n "${DEBCONF_SELECTIONS:-}" ]; then
    echo "$DEBCONF_SELECTIONS" | debconf-set-selections
fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
