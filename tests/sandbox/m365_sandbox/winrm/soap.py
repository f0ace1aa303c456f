"""WS-Management SOAP: read the requests pywinrm sends, write the answers it parses."""

import base64
import uuid
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape

NS = {
    's': 'http://www.w3.org/2003/05/soap-envelope',
    'a': 'http://schemas.xmlsoap.org/ws/2004/08/addressing',
    'w': 'http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd',
    'rsp': 'http://schemas.microsoft.com/wbem/wsman/1/windows/shell',
    'x': 'http://schemas.xmlsoap.org/ws/2004/09/transfer',
    'f': 'http://schemas.microsoft.com/wbem/wsman/1/wsmanfault',
}
ACTION_CREATE = 'http://schemas.xmlsoap.org/ws/2004/09/transfer/Create'
ACTION_DELETE = 'http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete'
SHELL = 'http://schemas.microsoft.com/wbem/wsman/1/windows/shell/'
ACTION_COMMAND = SHELL + 'Command'
ACTION_SEND = SHELL + 'Send'
ACTION_RECEIVE = SHELL + 'Receive'
ACTION_SIGNAL = SHELL + 'Signal'
STATE_DONE = SHELL + 'CommandState/Done'
STATE_RUNNING = SHELL + 'CommandState/Running'
# WSMan fault codes pywinrm and Ansible act on.
FAULT_OPERATION_TIMEOUT = 2150858793
FAULT_SHELL_NOT_FOUND = 2150858843


def _q(prefix, name):
    return '{%s}%s' % (NS[prefix], name)


class Request:
    """The parts of a WS-Man request the emulator needs."""

    def __init__(self, data):
        self.root = ET.fromstring(data)
        header = self.root.find(_q('s', 'Header'))
        self.body = self.root.find(_q('s', 'Body'))
        self.action = (header.findtext(_q('a', 'Action')) or '').strip()
        self.message_id = (header.findtext(_q('a', 'MessageID')) or '').strip()
        self.shell_id = None
        for selector in header.iter(_q('w', 'Selector')):
            if selector.get('Name') == 'ShellId':
                self.shell_id = (selector.text or '').strip()
        timeout = (header.findtext(_q('w', 'OperationTimeout')) or '').strip()
        self.operation_timeout = _duration(timeout) if timeout else 20.0
        self.options = {}
        for option in header.iter(_q('w', 'Option')):
            self.options[option.get('Name')] = (option.text or '').strip()

    def find(self, path):
        return self.body.find(path, NS)


def _duration(text):
    """Seconds of an xs:duration like PT20.000S (the only form pywinrm sends)."""
    text = text.upper()
    if text.startswith('PT') and text.endswith('S'):
        try:
            return float(text[2:-1])
        except ValueError:
            pass
    return 20.0


def envelope(action, relates_to, body, shell_id=None):
    selector = ''
    if shell_id:
        selector = '<w:SelectorSet><w:Selector Name="ShellId">%s</w:Selector></w:SelectorSet>' % escape(shell_id)
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<s:Envelope xml:lang="en-US" xmlns:s="{s}" xmlns:a="{a}" xmlns:w="{w}" xmlns:rsp="{rsp}" xmlns:x="{x}">'
        '<s:Header><a:Action>{action}</a:Action><a:MessageID>uuid:{mid}</a:MessageID>'
        '<a:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:To>'
        '<a:RelatesTo>{rel}</a:RelatesTo>{selector}</s:Header><s:Body>{body}</s:Body></s:Envelope>'
    ).format(action=escape(action), mid=str(uuid.uuid4()).upper(), rel=escape(relates_to), selector=selector, body=body, **NS).encode('utf-8')


def create_response(relates_to, shell_id, endpoint):
    body = (
        '<x:ResourceCreated><a:Address>{ep}</a:Address><a:ReferenceParameters>'
        '<w:ResourceURI>http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd</w:ResourceURI>'
        '<w:SelectorSet><w:Selector Name="ShellId">{sid}</w:Selector></w:SelectorSet>'
        '</a:ReferenceParameters></x:ResourceCreated>'
        '<rsp:Shell><rsp:ShellId>{sid}</rsp:ShellId><rsp:ResourceUri>http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd</rsp:ResourceUri>'
        '<rsp:State>Connected</rsp:State><rsp:InputStreams>stdin</rsp:InputStreams><rsp:OutputStreams>stdout stderr</rsp:OutputStreams>'
        '</rsp:Shell>'
    ).format(ep=escape(endpoint), sid=escape(shell_id))
    return envelope(ACTION_CREATE + 'Response', relates_to, body)


def command_response(relates_to, command_id):
    body = '<rsp:CommandResponse><rsp:CommandId>%s</rsp:CommandId></rsp:CommandResponse>' % escape(command_id)
    return envelope(ACTION_COMMAND + 'Response', relates_to, body)


def receive_response(relates_to, command_id, stdout, stderr, exit_code, done=True):
    """Output of a command: what it wrote since the last Receive; while it runs (done=False) the state is Running and
    there is no exit code (MS-WSMV 2.2.4.27 ReceiveResponse, 2.2.4.9 CommandState; example 4.7.3 receives a running
    command's prompt)."""
    def stream(name, data, end=False):
        text = base64.b64encode(data).decode('ascii') if data else ''
        return '<rsp:Stream Name="%s" CommandId="%s"%s>%s</rsp:Stream>' % (name, escape(command_id), ' End="true"' if end else '', text)

    parts = []
    if stdout:
        parts.append(stream('stdout', stdout))
    if stderr:
        parts.append(stream('stderr', stderr))
    if not done:
        parts.append('<rsp:CommandState CommandId="%s" State="%s"/>' % (escape(command_id), STATE_RUNNING))
        return envelope(ACTION_RECEIVE + 'Response', relates_to, '<rsp:ReceiveResponse>%s</rsp:ReceiveResponse>' % ''.join(parts))
    parts.append(stream('stdout', b'', end=True))
    parts.append(stream('stderr', b'', end=True))
    parts.append('<rsp:CommandState CommandId="%s" State="%s"><rsp:ExitCode>%d</rsp:ExitCode></rsp:CommandState>'
                 % (escape(command_id), STATE_DONE, exit_code))
    return envelope(ACTION_RECEIVE + 'Response', relates_to, '<rsp:ReceiveResponse>%s</rsp:ReceiveResponse>' % ''.join(parts))


def empty_response(action, relates_to, element=None):
    return envelope(action + 'Response', relates_to, '<rsp:%s/>' % element if element else '')


def fault(relates_to, code, reason, subcode='w:InternalError'):
    body = (
        '<s:Fault><s:Code><s:Value>s:Receiver</s:Value><s:Subcode><s:Value>{sub}</s:Value></s:Subcode></s:Code>'
        '<s:Reason><s:Text xml:lang="en-US">{reason}</s:Text></s:Reason>'
        '<s:Detail><f:WSManFault xmlns:f="{f}" Code="{code}" Machine="emulated-host"><f:Message>{reason}</f:Message></f:WSManFault></s:Detail>'
        '</s:Fault>'
    ).format(sub=escape(subcode), reason=escape(reason), f=NS['f'], code=code)
    return envelope('http://schemas.dmtf.org/wbem/wsman/1/wsman/fault', relates_to or 'uuid:00000000-0000-0000-0000-000000000000', body)
