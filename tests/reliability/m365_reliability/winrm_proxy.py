"""A TCP proxy in front of the emulated Windows host's WinRM listener, to cut a connection while a response is being read.

The sandbox can drop a connection in the middle of an Exchange write (drop_after_writes); what it cannot do is lose
an answer on the way back after the host did the work. This proxy forwards bytes both ways and, once armed, sends
only the first half of the first large HTTP response (the runner's output comes back in the largest one) and then
closes both sides: the client is left reading a response that never ends, as when a network path dies mid-read.
"""

import re
import socket
import threading

CONTENT_LENGTH = re.compile(rb'\r\ncontent-length:\s*(\d+)', re.I)


class WinrmProxy:
    def __init__(self, target_host, target_port, drop_responses_over=None):
        self.target = (target_host, target_port)
        self.drop_over = drop_responses_over
        self.dropped = 0
        self.responses = []
        self.lock = threading.Lock()
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(('127.0.0.1', 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.closed = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True, name='winrm-proxy')

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.closed.set()
        self.listener.close()

    def _accept(self):
        while not self.closed.is_set():
            try:
                client, _address = self.listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=30)
            except OSError:
                client.close()
                continue
            threading.Thread(target=self._pump, args=(client, upstream, False), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, True), daemon=True).start()

    def _should_drop(self, length):
        with self.lock:
            self.responses.append(length)
            if self.drop_over is not None and length > self.drop_over and not self.dropped:
                self.dropped += 1
                return True
        return False

    def _pump(self, source, sink, responses):
        buffered = b''
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                if responses:
                    buffered += data
                    end = buffered.find(b'\r\n\r\n')
                    match = CONTENT_LENGTH.search(buffered[:end + 2]) if end >= 0 else None
                    if match and self._should_drop(int(match.group(1))):
                        sink.sendall(buffered[:end + 4 + int(match.group(1)) // 2])
                        break
                    if end >= 0:
                        buffered = b''
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()


def closed_port():
    """A local port nothing listens on: connecting to it is refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]
