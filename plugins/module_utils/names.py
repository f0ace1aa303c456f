# -*- coding: utf-8 -*-
# Copyright: m365.mail_oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one rule for names: display names, mailbox identities, every string sent to Exchange Online.

text_problem is the rule the Exchange operation table applies to every identity and string parameter
(plugin_utils/exchange/operations.py); display names (Entra ID and Exchange) and mailbox identities
(plugin_utils/mailbox_identities.py) add their own limits on top of it, never relax it. The role (filter
display_name_problem, tasks/validate.yml) and the modules check with these functions before their first
write, so a name a later step would refuse is refused before anything exists.

Stdlib only: exchange/operations.py imports it and must load without Ansible.
"""

import re
import unicodedata

from ansible_collections.m365.mail_oauth.plugins.module_utils.errors import ConfigError

# Entra ID's limit for an application's displayName (Graph returns 400 above it), and the longest string the Exchange
# operation table sends.
MAX_NAME = 256
# Control characters never belong in a name or an Exchange identity; refusing them keeps log lines and error messages
# one line per value.
_CONTROL = re.compile(r'[\x00-\x1f\x7f]')
# Bidirectional overrides, embeddings, isolates and marks: they make a name read differently from what it is
# (U+202E turns "gpj.exe" into "exe.jpg" on screen).
_BIDI = set(u'\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069')
# What to do about any of the problems below, for the messages of the role and the modules.
NAME_FIX = 'use at most %d printable characters, without leading or trailing spaces' % MAX_NAME


def text_problem(value, limit=MAX_NAME):
    """Why value cannot be sent as a name or identity (Exchange refuses it), or None."""
    if not isinstance(value, str) or not value.strip():
        return 'it is empty'
    if value != value.strip():
        # Exchange refuses a padded DisplayName or Identity; str.strip() also counts no-break and other Unicode spaces.
        return 'it has leading or trailing spaces'
    if _CONTROL.search(value):
        return 'it contains control characters'
    if len(value) > limit:
        return 'it is %d characters long, longer than the %d allowed' % (len(value), limit)
    return None


def display_name_problem(value, limit=MAX_NAME):
    """Why value cannot be a display name (of the application, its secret, its Exchange service principal), or None."""
    problem = text_problem(value, limit)
    if problem:
        return problem
    for char in value:
        if char in _BIDI:
            return 'it contains the bidirectional control character U+%04X, which makes it read differently on screen' % ord(char)
        if unicodedata.category(char) in ('Cc', 'Cf', 'Zl', 'Zp'):
            return 'it contains the control or invisible character U+%04X' % ord(char)
    return None


def check_display_name(value, option, limit=MAX_NAME):
    """Raise ConfigError naming option when value is not a usable display name (None passes: not given)."""
    if value is None:
        return
    problem = display_name_problem(value, limit)
    if problem:
        raise ConfigError('%s %r cannot be used: %s; %s' % (option, value, problem, NAME_FIX))
