#!/usr/bin/env bash
# Installs the real mail servers the XOAUTH2 tests log in to (Debian packages), only when they are missing.
# The packages' own services are never started: tests/mailservers/mailserver_harness.py runs private instances.
set -euo pipefail

packages=(dovecot-imapd dovecot-pop3d dovecot-auth-lua postfix)
missing=()
for pkg in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$pkg")
    fi
done
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "mail servers missing (${missing[*]}): run as root or: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# The postfix package asks how to configure the host's own mail system; the tests never use that instance.
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
