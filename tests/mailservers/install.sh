#!/usr/bin/env bash
# Installs the real mail servers the XOAUTH2 tests log in to (Debian packages), only when they are missing.
# The packages' own services are never started: tests/mailservers/mailserver_harness.py runs private instances.
set -euo pipefail
# The postfix package asks how to configure the host's own mail system; the tests never use that instance.
export DEBCONF_SELECTIONS="postfix postfix/main_mailer_type select No configuration"
exec "$(dirname "$0")/../tools/install-debian-packages.sh" "mail servers" dovecot-imapd dovecot-pop3d dovecot-auth-lua postfix
