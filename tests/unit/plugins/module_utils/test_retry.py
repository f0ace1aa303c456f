from ansible_collections.m365.mail_oauth.plugins.module_utils.retry import Backoff, parse_retry_after


class FakeClock:
    def __init__(self):
        self.now = 0.0
        self.slept = []

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds


def test_retry_after_is_honoured_until_the_deadline():
    clock = FakeClock()
    backoff = Backoff(10, clock=clock.clock, sleep=clock.sleep)
    assert backoff.wait(4)
    assert backoff.wait(4)
    assert not backoff.wait(4)  # 12 s would pass the 10 s deadline
    assert clock.slept == [4, 4]


def test_jittered_backoff_grows_and_is_capped():
    clock = FakeClock()
    backoff = Backoff(1000, base=1, cap=8, clock=clock.clock, sleep=clock.sleep, rand=lambda: 1.0)
    for _attempt in range(6):
        assert backoff.wait()
    assert clock.slept == [1, 2, 4, 8, 8, 8]


def test_jitter_never_zero():
    clock = FakeClock()
    backoff = Backoff(100, base=2, clock=clock.clock, sleep=clock.sleep, rand=lambda: 0.0)
    backoff.wait()
    assert clock.slept == [0.5]


def test_parse_retry_after():
    assert parse_retry_after('3') == 3.0
    assert parse_retry_after('-1') == 0.0
    assert parse_retry_after(None) is None
    assert parse_retry_after('Wed, 21 Oct 2015 07:28:00 GMT') is None


def test_connect_backoff_gives_three_tries_within_seconds():
    from ansible_collections.m365.mail_oauth.plugins.module_utils.retry import CONNECT_SECONDS, connect_backoff
    clock = FakeClock()
    backoff = connect_backoff(clock=clock.clock, sleep=clock.sleep, rand=lambda: 1.0)
    assert backoff.wait() and backoff.wait()
    assert not backoff.wait()  # the third try was the last
    assert backoff.attempt == 3 and sum(clock.slept) <= CONNECT_SECONDS


def test_a_long_wait_says_what_it_waits_for():
    clock = FakeClock()
    told = []
    backoff = Backoff(300, clock=clock.clock, sleep=clock.sleep, announce=told.append)
    backoff.wait(1, reason='throttled')  # short: silent
    assert told == []
    backoff.wait(30, reason='Graph GET /applications: throttled by Microsoft Graph (429)')
    assert len(told) == 1 and 'waiting 30 s' in told[0] and 'throttled by Microsoft Graph (429)' in told[0]
    assert 'giving up after 300 s' in told[0]


def test_short_waits_adding_up_are_announced_once():
    clock = FakeClock()
    told = []
    backoff = Backoff(300, clock=clock.clock, sleep=clock.sleep, announce=told.append)
    for _attempt in range(6):
        backoff.wait(3, reason='replication')
    assert len(told) == 1 and 'replication' in told[0]
