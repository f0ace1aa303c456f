"""Shared by every test: the collection importable as ansible_collections.m365.mail_oauth, and the sandbox package."""

import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTIONS = os.path.join(REPO, '.build', 'collections')
LINK = os.path.join(COLLECTIONS, 'ansible_collections', 'm365', 'mail_oauth')


def _ensure_collection_link():
    if not os.path.islink(LINK):
        os.makedirs(os.path.dirname(LINK), exist_ok=True)
        os.symlink(REPO, LINK)


_ensure_collection_link()
for path in (COLLECTIONS, os.path.join(REPO, 'tests', 'sandbox')):
    if path not in sys.path:
        sys.path.insert(0, path)
os.environ['ANSIBLE_COLLECTIONS_PATH'] = COLLECTIONS
