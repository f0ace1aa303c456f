"""One rule for names (module_utils/names.py): every name the Exchange operation table refuses is refused by the checks the
role and the modules run before their first write - display names (filter display_name_problem, check_display_name) and
mailbox identities (filter mailbox_list) - with the field and the fix."""

import pytest

from ansible_collections.m365.mail_oauth.plugins.filter.display_name_problem import display_name_problem as name_filter
from ansible_collections.m365.mail_oauth.plugins.filter.mailbox_list import mailbox_list
from ansible_collections.m365.mail_oauth.plugins.module_utils.errors import ConfigError
from ansible_collections.m365.mail_oauth.plugins.module_utils.names import check_display_name, display_name_problem, text_problem
from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange.operations import InvalidOperation, validate_operation
from ansible_collections.m365.mail_oauth.plugins.plugin_utils.mailbox_identities import identity_problem

GUID = '66666666-7777-4888-8999-000000000000'
# Names a person or a merged list could produce: padding of every kind of space, control characters, the limits.
CANDIDATES = ['Mail reader', 'Mail reader ', ' Mail reader', 'Mail reader\t', 'Mail\treader', 'Mail reader\u00a0', '\u3000Mail',
              'Mail\nreader', 'Mail\x7f', 'Mail\x00', '', ' ', '\t', 'x' * 256, 'x' * 257, 'user1@contoso.com', ' user1@contoso.com',
              'user1@contoso.com ', 'o\'brien@contoso.com', 'Mail \u202eexe.gpj', 'Zoë Müller']


def exchange_refuses(param, value):
    operation = {'op': 'new_service_principal', 'params': {'AppId': GUID, 'ObjectId': GUID, 'DisplayName': value}} \
        if param == 'DisplayName' else {'op': 'get_mailbox', 'params': {'Identity': value}}
    try:
        validate_operation(operation)
    except InvalidOperation as exc:
        return str(exc)
    return None


@pytest.mark.parametrize('value', CANDIDATES, ids=[repr(c)[:30] for c in CANDIDATES])
def test_a_display_name_exchange_refuses_is_refused_before_the_first_write(value):
    refused = exchange_refuses('DisplayName', value)
    if refused:
        assert display_name_problem(value) and name_filter(value), refused
        with pytest.raises(ConfigError) as err:
            check_display_name(value, 'display_name')
        assert 'display_name' in err.value.msg and 'without leading or trailing spaces' in err.value.msg
    # The rule is one: what the table says about the name is what the role says.
    assert (refused is None) == (text_problem(value) is None)


@pytest.mark.parametrize('value', CANDIDATES, ids=[repr(c)[:30] for c in CANDIDATES])
def test_a_mailbox_identity_exchange_refuses_is_refused_by_the_role(value):
    refused = exchange_refuses('Identity', value)
    if refused:
        assert identity_problem(value), refused
        checked = mailbox_list(['user2@contoso.com', value])
        assert checked['mailboxes'] == ['user2@contoso.com']
        assert checked['problems'][0].startswith('mailbox_access_mailboxes[1]')


@pytest.mark.parametrize('value,reason', [
    ('Mail reader ', 'leading or trailing spaces'), ('\u00a0Mail', 'leading or trailing spaces'), ('', 'empty'),
    ('Mail\x01', 'control characters'), ('x' * 300, '256'), ('Mail \u202eexe', 'U+202E'), ('Mail\u200b', 'U+200B')])
def test_display_name_problems_say_why(value, reason):
    assert reason in display_name_problem(value)


def test_good_names_pass():
    for value in ('Mail reader', 'Zoë Müller', 'x' * 256, 'Helpdesk (IMAP) - prod'):
        assert display_name_problem(value) is None and name_filter(value) == ''
    check_display_name(None, 'display_name')
