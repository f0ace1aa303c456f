# -*- coding: utf-8 -*-
# Copyright: m365.mail_oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action for m365.mail_oauth.directory_role_assignment: the module's secret options go to it in a private file, not in its arguments
(plugin_utils/credential_action.py); the documentation is in plugins/modules/directory_role_assignment.py."""

from ansible_collections.m365.mail_oauth.plugins.plugin_utils.credential_action import CredentialHandoffAction


class ActionModule(CredentialHandoffAction):
    pass
