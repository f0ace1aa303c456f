# -*- coding: utf-8 -*-
# Copyright: m365.mail_oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The mailbox list of a task: from the option or from a file on the controller, checked and de-duplicated."""

import json
import re

from ansible.module_utils.common.text.converters import to_text

from ansible_collections.m365.mail_oauth.plugins.module_utils.errors import ConfigError
from ansible_collections.m365.mail_oauth.plugins.module_utils.names import text_problem
from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange.operations import MAX_BULK

try:
    import yaml
except ImportError:  # pragma: no cover - ansible-core requires PyYAML
    yaml = None

# Wildcards widen a lookup to many mailboxes; Exchange identities never need them.
_FORBIDDEN = ('*', '?')
_ADDRESS = re.compile(r'^[^@\s]+@[^@\s.][^@\s]*\.[^@\s.]+$')


def identity_problem(value):
    """Why value is not a usable mailbox identity, or None: the rule for names (what Exchange refuses), then what
    only mailbox identities need."""
    problem = text_problem(value)
    if problem:
        return problem
    if any(c in value for c in _FORBIDDEN):
        return 'it contains a wildcard (* or ?)'
    if '@' in value and not _ADDRESS.match(value):
        return 'it is not a valid e-mail address or UPN'
    return None


def parse_mailbox_file(path, text):
    """One identity per line (# comments), or a YAML/JSON list."""
    stripped = text.lstrip()
    if stripped.startswith('[') or stripped.startswith('- ') or stripped.startswith('---'):
        try:
            values = json.loads(text) if stripped.startswith('[') else yaml.safe_load(text)
        except ValueError as exc:
            raise ConfigError('mailboxes_file %s is not a valid JSON/YAML list: %s' % (path, exc))
        if not isinstance(values, list):
            raise ConfigError('mailboxes_file %s must hold a list of mailbox identities' % path)
        return [to_text(v) if v is not None else '' for v in values]
    return [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith('#')]


def check_mailboxes(mailboxes, source='mailboxes'):
    """(identities in order, problems) under the one rule the role and the actions share.

    Every identity must pass identity_problem; the same identity twice (Exchange compares them
    case-insensitively) is a problem too, since it usually means a list merged by mistake.
    """
    problems, unique, seen = [], [], {}
    for index, value in enumerate(mailboxes or []):
        problem = identity_problem(value)
        if problem:
            problems.append("%s[%d] %r: %s" % (source, index, value, problem))
            continue
        key = value.lower()
        if key in seen:
            problems.append("%s[%d] %r: listed more than once (as %r at [%d])" % (source, index, value, mailboxes[seen[key]], seen[key]))
            continue
        seen[key] = index
        unique.append(value)
    return unique, problems


def describe_problems(problems):
    more = ' (and %d more)' % (len(problems) - 10) if len(problems) > 10 else ''
    return 'malformed mailbox identity: %s%s' % ('; '.join(problems[:10]), more)


def resolve_mailboxes(mailboxes, mailboxes_file=None, read_file=None):
    """The checked list of identities (no duplicates allowed, order kept)."""
    source = 'mailboxes'
    if mailboxes_file:
        source = 'mailboxes_file %s' % mailboxes_file
        try:
            text = read_file(mailboxes_file)
        except (IOError, OSError) as exc:
            raise ConfigError('mailboxes_file %s cannot be read: %s' % (mailboxes_file, getattr(exc, 'strerror', None) or exc))
        mailboxes = parse_mailbox_file(mailboxes_file, text)
    unique, problems = check_mailboxes(mailboxes, source)
    if problems:
        raise ConfigError(describe_problems(problems))
    if len(unique) > MAX_BULK:
        raise ConfigError('%d mailboxes is more than one task handles (%d); split the list' % (len(unique), MAX_BULK))
    return unique
