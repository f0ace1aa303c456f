"""Command line: `python -m m365_sandbox serve --state-dir DIR ...`."""

import argparse
import os
import signal
import sys
import threading

from .listeners import winrm_listener
from .server import Sandbox


def parse_latency(text):
    latency = {}
    for item in filter(None, (text or '').split(',')):
        name, _sep, value = item.partition('=')
        if name not in ('graph', 'token'):
            raise argparse.ArgumentTypeError('latency takes graph=SECONDS,token=SECONDS')
        latency[name] = float(value)
    return latency


def build_parser():
    parser = argparse.ArgumentParser(prog='m365_sandbox', description='Microsoft 365 stand-in for tests.')
    sub = parser.add_subparsers(dest='command', required=True)
    serve = sub.add_parser('serve', help='run the sandbox until SIGTERM/SIGINT')
    serve.add_argument('--state-dir', required=True)
    serve.add_argument('--host', default='localhost')
    serve.add_argument('--port', type=int, default=0)
    serve.add_argument('--winrm-port', type=int, default=None)
    serve.add_argument('--tenants', type=int, default=1)
    serve.add_argument('--mailboxes', type=int, default=5)
    serve.add_argument('--latency', type=parse_latency, default={})
    serve.add_argument('--page-size', type=int, default=100)
    serve.add_argument('--token-lifetime', type=int, default=3599)
    serve.add_argument('--parent-pid', type=int, default=None, help='exit when this process is gone')
    return parser


def _parent_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return os.getppid() == pid


def serve(args):
    sandbox = Sandbox(args.state_dir, host=args.host, port=args.port, winrm_port=args.winrm_port, tenants=args.tenants,
                      mailboxes=args.mailboxes, latency=args.latency, page_size=args.page_size, token_lifetime=args.token_lifetime)
    if args.winrm_port is not None:
        start = winrm_listener(args.winrm_port)
        if start is None:
            sys.stderr.write('m365_sandbox: --winrm-port given but no WinRM listener is available; serving HTTPS only\n')
        else:
            sandbox.listeners.append(start)
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    sandbox.start()
    try:
        while not stopping.wait(0.5):
            if args.parent_pid and not _parent_alive(args.parent_pid):
                break
    finally:
        sandbox.stop()
    return 0


def main(argv=None):
    args = build_parser().parse_args(argv)
    if args.command == 'serve':
        return serve(args)
    return 2


if __name__ == '__main__':
    sys.exit(main())
