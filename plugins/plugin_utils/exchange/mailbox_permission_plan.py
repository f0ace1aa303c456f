# -*- coding: utf-8 -*-
# Copyright: m365.mail_oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""mailbox_permission's operations, and its own reading of the before-state.

operations() builds reads and conditional writes for one round trip;
outcome() decides from the rows read what has to change, independently of the
runner's condition evaluation, so check_plan can compare the two.

A principal created in this same run (new_principal) cannot hold a permission
yet: then the mailboxes are not read first, the adds go straight out, and
outcome() reads each mailbox's answer from its add instead (success: added,
unless Exchange warned that the entry was there; not found: missing). This
halves the Exchange calls of a first provision. Check mode, exclusive and
state=absent always read.
"""

from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange.operations import is_not_found

FULL_ACCESS_MATCH = {'AccessRights': 'FullAccess', 'IsInherited': False, 'Deny': False}
SEND_AS_MATCH = {'AccessRights': 'SendAs'}
R_PRINCIPAL, R_FULL, R_SEND_AS = 0, 1, 2
# The write that adds or removes each right, one mailbox at a time.
ADD_OP = {'FullAccess': 'add_mailbox_permission', 'SendAs': 'add_recipient_permission'}
REMOVE_OP = {'FullAccess': 'remove_mailbox_permission', 'SendAs': 'remove_recipient_permission'}


def _rights(row):
    value = row.get('AccessRights')
    if isinstance(value, str):
        value = value.split(',')
    return set(v.strip().lower() for v in value or [])


def holds_full_access(row):
    return 'fullaccess' in _rights(row) and not row.get('IsInherited') and not row.get('Deny')


def holds_send_as(row):
    return 'sendas' in _rights(row)


# What an add says when the entry was there already. Weak: no Microsoft source shows either text for Exchange
# Online's Add-MailboxPermission or Add-RecipientPermission (the first is documented for Add-MailboxFolderPermission;
# tests/sandbox/README.md). Used only to report less change; without it an add that found its entry counts as added.
ALREADY_THERE = ('an existing permission entry was found', 'access control entry is already present')


def _already_there(answer):
    return any(text in (w or '').lower() for w in answer.get('warnings') or [] for text in ALREADY_THERE)


def is_principal_unknown(error):
    """Whether Exchange could not resolve the -User/-Trustee (the runner decides it from the object its text names)."""
    return bool((error or {}).get('principal_not_found'))


def principal_unknown_message(principal, error):
    return ('Exchange Online does not know the service principal %s as a -User yet: %s. A service principal created moments ago '
            'takes a while to reach Exchange\'s directory; rerun in a few minutes (no mailbox is missing)'
            % (principal, (error or {}).get('message')))


class PermissionPlan(object):
    def __init__(self, principal_id, mailboxes, rights, state='present', exclusive=False, automapping=False, new_principal=False):
        self.principal = principal_id
        self.mailboxes = mailboxes
        self.full = 'FullAccess' in rights
        self.send_as = 'SendAs' in rights
        self.state = state
        self.exclusive = exclusive
        self.automapping = automapping
        self.write_only = bool(new_principal) and state == 'present' and not exclusive
        self.reads, self.writes = [], []
        self.index = {}
        self._build()

    def _read(self, name, operation):
        self.index[name] = len(self.reads)
        self.reads.append(operation)

    def _build(self):
        p = self.principal
        self._read('principal', {'op': 'get_service_principal', 'params': {'Identity': p}})
        exists = {'read': self.index['principal'], 'key': None, 'rows': 'some', 'match': {}}
        if not self.write_only:
            # Read even when only SendAs is managed: it is also how a missing mailbox shows.
            self._read('full', {'op': 'get_mailbox_permission', 'for_each': self.mailboxes, 'params': {'User': p}})
            if self.send_as:
                self._read('send_as', {'op': 'get_recipient_permission', 'for_each': self.mailboxes,
                                       'params': {'Trustee': p, 'AccessRights': ['SendAs']}})
        if self.exclusive:
            if self.full:
                self._read('find_full', {'op': 'find_mailbox_permission', 'params': {'User': p}})
            if self.send_as:
                self._read('find_send_as', {'op': 'find_recipient_permission', 'params': {'Trustee': p}})
            self._read('canonical', {'op': 'get_mailbox', 'for_each': self.mailboxes})
        present = self.state == 'present'
        want = 'none' if present else 'some'
        op = ADD_OP if present else REMOVE_OP

        def when(read, match):
            # Without reads (write_only) a write waits only for the principal; otherwise for what its read found too.
            return [exists] if self.write_only else [exists, {'read': self.index[read], 'rows': want, 'match': match}]
        if self.full:
            params = {'User': p, 'AccessRights': ['FullAccess'], 'InheritanceType': 'All'}
            if present:
                params['AutoMapping'] = self.automapping
            self.writes.append({'op': op['FullAccess'], 'for_each': self.mailboxes, 'params': params, 'when': when('full', FULL_ACCESS_MATCH)})
        if self.send_as:
            self.writes.append({'op': op['SendAs'], 'for_each': self.mailboxes, 'params': {'Trustee': p, 'AccessRights': ['SendAs']},
                                'when': when('send_as', SEND_AS_MATCH)})
        if self.exclusive:
            except_listed = {'read': self.index['canonical'], 'field': 'UserPrincipalName'}
            if self.full:
                self.writes.append({'op': 'remove_mailbox_permission', 'params': {'User': p, 'AccessRights': ['FullAccess'], 'InheritanceType': 'All'},
                                    'for_each_from': {'read': self.index['find_full'], 'match': FULL_ACCESS_MATCH, 'except': except_listed},
                                    'when': [exists]})
            if self.send_as:
                self.writes.append({'op': 'remove_recipient_permission', 'params': {'Trustee': p, 'AccessRights': ['SendAs']},
                                    'for_each_from': {'read': self.index['find_send_as'], 'match': SEND_AS_MATCH, 'except': except_listed},
                                    'when': [exists]})

    # -- after the round trip ----------------------------------------------------

    def outcome(self, result):
        """What the before-state means: per mailbox rights before/after, the writes due, missing and failed mailboxes."""
        by_key = dict(((r['op_index'], (r.get('key') or '').lower()), r) for r in result.results)
        principal = by_key.get((self.index['principal'], ''))
        out = {'principal_in_exchange': bool(principal and principal.get('ok')), 'before': {}, 'after': {}, 'expected': [],
               'missing': [], 'errors': [], 'added': {}, 'removed': {}, 'principal_unknown': None}
        if principal is not None and not principal.get('ok') and not is_not_found(principal.get('error')):
            out['errors'].append('Get-ServicePrincipal %s: %s' % (self.principal, (principal.get('error') or {}).get('message')))
        if not out['principal_in_exchange']:
            return out
        if self.write_only:
            self._outcome_of_writes(result, out)
            return out
        present = self.state == 'present'
        for mailbox in self.mailboxes:
            full = by_key.get((self.index['full'], mailbox.lower()))
            if full is None or not full.get('ok'):
                self._failed(out, mailbox, (full or {}).get('error') or {})
                continue
            before = set()
            if any(holds_full_access(row) for row in full.get('output') or []):
                before.add('FullAccess')
            if self.send_as:
                send_as = by_key.get((self.index['send_as'], mailbox.lower())) or {}
                if any(holds_send_as(row) for row in send_as.get('output') or []):
                    before.add('SendAs')
            managed = set(r for r, on in (('FullAccess', self.full), ('SendAs', self.send_as)) if on)
            after = (before | managed) if present else (before - managed)
            self._record(out, mailbox, before, after)
        if self.exclusive:
            listed, unread = set(), []
            for r in result.results:
                if r['op_index'] != self.index['canonical']:
                    continue
                if r.get('ok'):
                    listed.update((row.get('UserPrincipalName') or '').lower() for row in r.get('output') or [])
                elif not is_not_found(r.get('error')):
                    unread.append('%s: %s' % (r.get('key'), (r.get('error') or {}).get('message') or 'no answer'))
            if unread:
                # The runner takes no removal key then (Get-RunnerKeysFrom): any mailbox found may be the unread one.
                out['errors'].append('exclusive removed nothing, since these listed mailboxes could not be read and must not lose access: '
                                     '%s; rerun to remove what the unlisted mailboxes hold' % '; '.join(unread))
                return out
            unlisted = {}
            for right, name, test in (('FullAccess', 'find_full', holds_full_access), ('SendAs', 'find_send_as', holds_send_as)):
                if name not in self.index:
                    continue
                for r in result.results:
                    if r['op_index'] == self.index[name] and not r.get('key') and not r.get('ok'):
                        # The mailbox list itself failed: nothing found is not "nothing to remove".
                        out['errors'].append('exclusive could not list the mailboxes holding %s (nothing removed): %s'
                                             % (right, (r.get('error') or {}).get('message') or 'no answer'))
                for r in result.results:
                    key = r.get('key')
                    if r['op_index'] != self.index[name] or not r.get('ok') or not key or key.lower() in listed:
                        continue
                    if any(test(row) for row in r.get('output') or []):
                        unlisted.setdefault(key, set()).add(right)
            for mailbox, rights in unlisted.items():
                self._record(out, mailbox, rights, set())
        return out

    def _outcome_of_writes(self, result, out):
        """Each mailbox's answer from its adds (write_only): a successful add made the entry, unless Exchange warned
        that it had it already (another run got there first); not found: missing; any other error: errors."""
        first = len(self.reads)
        by_key = dict(((r['op'], (r.get('key') or '').lower()), r) for r in result.results if r['op_index'] >= first)
        adds = [(right, ADD_OP[right]) for right, on in (('FullAccess', self.full), ('SendAs', self.send_as)) if on]
        for mailbox in self.mailboxes:
            out['expected'].extend((op, mailbox) for _right, op in adds)
            before, after = set(), set()
            for right, op in adds:
                answer = by_key.get((op, mailbox.lower()))
                if answer is None:
                    continue  # not attempted: the run stopped at another mailbox's failed write
                error = answer.get('error') or {}
                if answer.get('ok') and _already_there(answer):
                    before.add(right)
                    after.add(right)
                elif answer.get('ok'):
                    after.add(right)
                elif not (is_not_found(error) and mailbox in out['missing']):
                    self._failed(out, mailbox, error)
            if mailbox not in out['missing']:
                self._record(out, mailbox, before, after, expect=False)

    def _failed(self, out, mailbox, error):
        """A mailbox's failed call: missing (not found), the principal unknown to Exchange (said once), or an error."""
        if is_not_found(error):
            out['missing'].append(mailbox)
        elif is_principal_unknown(error):
            out['principal_unknown'] = out['principal_unknown'] or principal_unknown_message(self.principal, error)
        else:
            out['errors'].append('%s: %s' % (mailbox, error.get('message') or 'no answer'))

    def _record(self, out, mailbox, before, after, expect=True):
        if before == after:
            return
        out['before'][mailbox] = sorted(before)
        out['after'][mailbox] = sorted(after)
        for right in sorted(after - before):
            out['added'].setdefault(right, []).append(mailbox)
            if expect:
                out['expected'].append((ADD_OP[right], mailbox))
        for right in sorted(before - after):
            out['removed'].setdefault(right, []).append(mailbox)
            if expect:
                out['expected'].append((REMOVE_OP[right], mailbox))
