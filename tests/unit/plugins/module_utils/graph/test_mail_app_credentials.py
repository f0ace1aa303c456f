import datetime

import pytest

from ansible_collections.m365.mail_oauth.plugins.module_utils.errors import ConfigError
from ansible_collections.m365.mail_oauth.plugins.module_utils.graph import mail_app_credentials as creds

NOW = datetime.datetime(2026, 11, 25, 12, 0, tzinfo=datetime.timezone.utc)


def test_parse_graph_time_with_seven_fraction_digits():
    assert creds.parse_graph_time('2027-01-02T03:04:05.1234567Z') == datetime.datetime(
        2027, 1, 2, 3, 4, 5, 123456, tzinfo=datetime.timezone.utc)
    assert creds.parse_graph_time('2027-01-02T03:04:05Z').tzinfo is not None


def test_requested_end_defaults_and_validation():
    base = dict(end_date_time=None, expires_in_days=None, rotate_before_days=30)
    assert creds.requested_end(base, NOW) == NOW + datetime.timedelta(days=180)
    with pytest.raises(ConfigError) as err:
        creds.requested_end(dict(base, expires_in_days=-5), NOW)
    assert 'expires_in_days' in err.value.msg
    with pytest.raises(ConfigError) as err:
        creds.requested_end(dict(base, end_date_time='2020-01-01T00:00:00Z'), NOW)
    assert 'past' in err.value.msg
    with pytest.raises(ConfigError) as err:
        creds.requested_end(dict(base, end_date_time='next tuesday'), NOW)
    assert 'ISO 8601' in err.value.msg


def test_rotation_window_must_be_shorter_than_lifetime():
    with pytest.raises(ConfigError) as err:
        creds.check_rotation_window({'rotate_before_days': 30}, NOW + datetime.timedelta(days=20), NOW)
    assert 'rotate_before_days' in err.value.msg


def test_still_valid():
    soon = {'endDateTime': '2026-12-01T00:00:00Z'}
    later = {'endDateTime': '2027-06-01T00:00:00Z'}
    assert not creds.still_valid(soon, NOW, 30)
    assert creds.still_valid(later, NOW, 30)
    assert creds.newest([soon, later]) is later
