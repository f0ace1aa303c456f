# -*- coding: utf-8 -*-
# Copyright: m365.mail_oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Display names as Entra ID shows them to admins: checked before the first write."""

import unicodedata

from ansible_collections.m365.mail_oauth.plugins.module_utils.errors import ConfigError

# Entra ID's limit for an application's displayName (Graph returns 400 above it).
MAX_DISPLAY_NAME = 256
# Bidirectional overrides, embeddings, isolates and marks: they make a name read differently from what it is
# (U+202E turns "gpj.exe" into "exe.jpg" on screen).
_BIDI = set(u'\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069')


def display_name_problem(value, limit=MAX_DISPLAY_NAME):
    """Why value cannot be a display name, or None."""
    if not isinstance(value, str) or not value.strip():
        return 'it is empty'
    if len(value) > limit:
        return 'it is %d characters long, more than the %d Entra ID allows' % (len(value), limit)
    for char in value:
        if char in _BIDI:
            return 'it contains the bidirectional control character U+%04X, which makes it read differently on screen' % ord(char)
        if unicodedata.category(char) in ('Cc', 'Cf', 'Zl', 'Zp'):
            return 'it contains the control or invisible character U+%04X' % ord(char)
    return None


def check_display_name(value, option, limit=MAX_DISPLAY_NAME):
    """Raise ConfigError naming option when value is not a usable display name (None passes: not given)."""
    if value is None:
        return
    problem = display_name_problem(value, limit)
    if problem:
        raise ConfigError('%s %r cannot be used: %s; use printable characters only' % (option, value, problem))
