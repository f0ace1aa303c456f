# -*- coding: utf-8 -*-
# Copyright: m365.mail_oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)


class ModuleDocFragment:
    """How a module names the application it works on; mirrors argspec.py APPLICATION_SELECTOR_SPEC."""

    DOCUMENTATION = r'''
options:
  unique_name:
    description:
      - The application's key (see M(m365.mail_oauth.azure_app_registration)).
      - One of O(unique_name), O(app_id) and O(object_id) is required.
    type: str
  app_id:
    description: Application (client) ID of the application.
    type: str
  object_id:
    description: Object ID of the application registration.
    type: str
'''
