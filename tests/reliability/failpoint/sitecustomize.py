"""Test-only failpoint, loaded by every Python the interrupted run starts (PYTHONPATH) and inert unless M365_FAILPOINT is set.

M365_FAILPOINT=<url suffix>:<flag file>: after the first answer to a request whose URL ends with the suffix, touch the
flag file and hang, so the test kills the run exactly between "Graph did it" and "the module acted on the answer"
(the one moment a secret can exist on the app with its value nowhere).

M365_FAILPOINT=rename:<file name suffix>:<flag file>: before the first os.replace onto a file whose name ends with the
suffix, touch the flag file and hang: the run is killed with its temporary file written and not yet renamed.
"""

import os

FAILPOINT = os.environ.get('M365_FAILPOINT')

if FAILPOINT and FAILPOINT.startswith('rename:'):
    import time

    _RENAME_SUFFIX, _RENAME_FLAG = FAILPOINT[len('rename:'):].split(':', 1)
    _REPLACE = os.replace

    def replace(src, dst, *args, **kwargs):
        if str(dst).endswith(_RENAME_SUFFIX):
            with open(_RENAME_FLAG, 'w', encoding='utf-8'):
                pass
            time.sleep(600)
        return _REPLACE(src, dst, *args, **kwargs)

    os.replace = replace

elif FAILPOINT:
    import time

    import requests

    SUFFIX, FLAG = FAILPOINT.split(':', 1)
    ORIGINAL = requests.Session.request

    def request(self, method, url, *args, **kwargs):
        response = ORIGINAL(self, method, url, *args, **kwargs)
        if url.split('?', 1)[0].endswith(SUFFIX) and response.status_code < 300:
            with open(FLAG, 'w', encoding='utf-8'):
                pass
            time.sleep(600)
        return response

    requests.Session.request = request

# M365_BARRIER=<METHOD> <url regex>|<dir>|<parties>|<timeout s>: before the first request of this process that matches,
# say so (<dir>/arrived-<pid>) and wait until <parties> processes have arrived or the timeout passes. Two overlapping
# playbooks with the same barrier send that request together: a race forced every time, not hit by luck.
BARRIER = os.environ.get('M365_BARRIER')

if BARRIER:
    import re
    import time

    import requests

    _PATTERN, _DIR, _PARTIES, _TIMEOUT = BARRIER.split('|')
    _METHOD, _REGEX = _PATTERN.split(' ', 1)
    _PASSED = []
    _BEFORE_BARRIER = requests.Session.request

    def barrier_request(self, method, url, *args, **kwargs):
        if not _PASSED and method.upper() == _METHOD and re.search(_REGEX, url.split('?', 1)[0]):
            _PASSED.append(True)
            with open(os.path.join(_DIR, 'arrived-%d' % os.getpid()), 'w', encoding='utf-8'):
                pass
            deadline = time.monotonic() + float(_TIMEOUT)
            while time.monotonic() < deadline and len([n for n in os.listdir(_DIR) if n.startswith('arrived-')]) < int(_PARTIES):
                time.sleep(0.05)
        return _BEFORE_BARRIER(self, method, url, *args, **kwargs)

    requests.Session.request = barrier_request
