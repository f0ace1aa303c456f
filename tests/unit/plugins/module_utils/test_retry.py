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
