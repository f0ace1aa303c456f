"""TLS through the role: the sandbox's certificate is verified by default, a wrong CA fails naming ca_path, validate_certs=false warns.

tests/e2e/test_entra_auth.py covers a single module; these run provision.yml, Graph and the Exchange token included.
"""

import os

import pytest

from m365_reliability.harness import Case


def _auth(sandbox, **changes):
    auth = {'client_id': sandbox.tenant(0)['admin']['client_id'], 'client_secret': sandbox.tenant(0)['admin']['client_secret'],
            'authority_url': sandbox.authority_url, 'graph_url': sandbox.graph_url}
    auth.update(changes)
    return dict((k, v) for k, v in auth.items() if v is not None)


# Without these the system CA bundle is used, as on a controller with no ca_path set.
NO_CA_ENV = {'REQUESTS_CA_BUNDLE': '', 'SSL_CERT_FILE': '', 'CURL_CA_BUNDLE': ''}


@pytest.mark.parametrize('label,changes', [('default', {}), ('wrong CA', {'ca_path': '/etc/ssl/certs/ca-certificates.crt'})])
def test_certificate_is_verified(rel, tmp_path, label, changes):
    case = Case(rel, tmp_path, 'tls ' + label)
    if not os.path.exists('/etc/ssl/certs/ca-certificates.crt'):
        changes = dict(changes, ca_path=str(tmp_path / 'other-ca.pem'))
    rel.sandbox.reset_stats()
    run = case.run('run', inventory=case.write_inventory(label, mailbox_access_graph_auth=_auth(rel.sandbox, **changes)), env=NO_CA_ENV)
    assert run.rc != 0, run
    assert 'TLS verification' in run.output and 'ca_path' in run.output, run
    # Nothing got through: no token was issued and no Graph request was served.
    assert rel.sandbox.stats()['token_total'] == 0 and rel.sandbox.stats()['graph_total'] == 0
    assert case.check()['apps'] == 0


@pytest.mark.soak
def test_validate_certs_false_warns(rel, tmp_path):
    case = Case(rel, tmp_path, 'tls insecure')
    run = case.run('run', inventory=case.write_inventory('insecure', mailbox_access_graph_auth=_auth(rel.sandbox, validate_certs=False)),
                   env=NO_CA_ENV)
    assert run.rc == 0, run
    assert 'validate_certs is false' in run.output
    assert case.check()['converged'], case.check()
