"""Test-only failpoint, loaded by every Python the interrupted run starts (PYTHONPATH) and inert unless M365_FAILPOINT is set.

M365_FAILPOINT=<url suffix>:<flag file>: after the first answer to a request whose URL ends with the suffix, touch the
flag file and hang, so the test kills the run exactly between "Graph did it" and "the module acted on the answer"
(the one moment a secret can exist on the app with its value nowhere).
"""

import os

FAILPOINT = os.environ.get('M365_FAILPOINT')

if FAILPOINT:
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
