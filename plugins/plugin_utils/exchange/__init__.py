# -*- coding: utf-8 -*-
# Copyright: m365.mail_oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Exchange Online side of the collection: what the Exchange action plugins share.

    action.py                  ExchangeAction, the base of every Exchange action: options, Graph checks, the session,
                               converge(plan), errors and secrets
    args.py                    the options every Exchange action takes (doc_fragments/exchange_connection.py)
    graph.py                   what the actions ask Microsoft Graph before Exchange is touched (ControllerGraph)
    payload.py                 what the runner is sent: connection, session limits, retry, module rule (decided here only)
    session.py                 ExchangeSession (one round trip per call) and ExchangeResult (the runner's answer)
    transport.py               running PowerShell on the task's host through its connection (stdin, errors, streaming)
    transport_policy.py        refusing a WinRM/PSRP connection that would send secrets in clear
    runner_protocol.py         the bootstrap on the command line and the runner, allow-list and payload on stdin
    runner.ps1                 the runner itself (PowerShell 5.1 and 7)
    operations.py              the allow-list of cmdlets and the checks of operations and their conditions
    progress.py                a long task's progress lines, read while the runner runs
    plan.py                    what the plans share: the Report, one wording for missing/failed/stopped, check_plan
    service_principal_plan.py  exchange_service_principal's plan, and Exchange's own record of a principal
    mailbox_permission_plan.py mailbox_permission's plan
    mailbox_protocols_plan.py  mailbox_protocols' plan

Nothing is imported here: operations.py must load without Ansible (the sandbox and the unit tests use it alone).
"""
