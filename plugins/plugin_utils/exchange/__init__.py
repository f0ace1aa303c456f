# -*- coding: utf-8 -*-
# Copyright: m365.mail_oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Exchange Online side of the collection: what the Exchange action plugins share.

Nothing is imported here: operations.py must load without Ansible (the sandbox and the unit tests use it alone).
"""
