"""Where pwsh is found, and the download `make test`/`make demo` fall back on (m365_sandbox/pwsh.py), against a local
HTTP server serving a small archive: no network. The right checksum unpacks, a wrong one is refused with nothing
unpacked, an unreachable server gives the install hint."""

import functools
import hashlib
import http.server
import io
import os
import socket
import tarfile
import threading

import pytest

from m365_sandbox import pwsh as pwsh_mod

FAKE_PWSH = b'#!/bin/sh\necho "PowerShell 7.4.6"\n'


def _archive():
    """A tar.gz laid out as Microsoft's (pwsh at the top, beside its libraries); pwsh without the executable bit."""
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode='w:gz') as tar:
        for name, body, mode in (('pwsh', FAKE_PWSH, 0o644), ('Modules/README', b'modules\n', 0o644)):
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(body), mode
            tar.addfile(info, io.BytesIO(body))
    return data.getvalue()


@pytest.fixture
def archive_server(tmp_path):
    """An HTTP server on loopback serving the archive as /powershell.tar.gz: (url, sha256)."""
    served = tmp_path / 'served'
    served.mkdir()
    body = _archive()
    (served / 'powershell.tar.gz').write_bytes(body)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield 'http://127.0.0.1:%d/powershell.tar.gz' % server.server_address[1], hashlib.sha256(body).hexdigest()
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


@pytest.fixture
def nothing_installed(monkeypatch, tmp_path):
    """No PWSH, no pwsh on PATH, no .build copy, no ../shared copy."""
    monkeypatch.delenv('PWSH', raising=False)
    monkeypatch.setenv('PATH', str(tmp_path / 'empty-path'))
    monkeypatch.setattr(pwsh_mod, 'BUILD_PWSH', str(tmp_path / 'no-build' / 'pwsh'))
    monkeypatch.setattr(pwsh_mod, 'SHARED_PWSH', str(tmp_path / 'no-shared' / 'pwsh'))


def test_right_checksum_unpacks_an_executable_pwsh(archive_server, nothing_installed, tmp_path):
    url, digest = archive_server
    dest = tmp_path / '.build' / 'pwsh-7.4.6'
    found = pwsh_mod.ensure_pwsh(url=url, sha256=digest, dest=str(dest), timeout=10)
    assert found == str(dest / 'pwsh')
    assert os.access(found, os.X_OK) and (dest / 'pwsh').read_bytes() == FAKE_PWSH and (dest / 'Modules' / 'README').is_file()
    assert sorted(p.name for p in dest.parent.iterdir()) == ['pwsh-7.4.6']  # no download or half-unpacked tree left beside it


def test_wrong_checksum_is_refused_and_nothing_unpacked(archive_server, nothing_installed, tmp_path):
    url, digest = archive_server
    dest = tmp_path / '.build' / 'pwsh-7.4.6'
    with pytest.raises(FileNotFoundError) as err:
        pwsh_mod.ensure_pwsh(url=url, sha256='0' * 64, dest=str(dest), timeout=10)
    message = str(err.value)
    assert pwsh_mod.INSTALL_HINT in message and digest in message and 'refused, nothing unpacked' in message
    assert not dest.exists() and list(dest.parent.iterdir()) == []


def test_unreachable_server_gives_the_install_hint(nothing_installed, tmp_path):
    sock = socket.socket()
    sock.bind(('127.0.0.1', 0))
    port = sock.getsockname()[1]
    sock.close()  # nobody listens there: connection refused
    with pytest.raises(FileNotFoundError) as err:
        pwsh_mod.ensure_pwsh(url='http://127.0.0.1:%d/powershell.tar.gz' % port, sha256='0' * 64, dest=str(tmp_path / 'pwsh'), timeout=10)
    assert str(err.value).startswith(pwsh_mod.INSTALL_HINT) and 'could not download' in str(err.value)
    assert not (tmp_path / 'pwsh').exists()


def test_a_copy_on_the_machine_wins_over_a_download(nothing_installed, monkeypatch, tmp_path):
    def executable(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(FAKE_PWSH)
        path.chmod(0o755)
        return str(path)

    shared = executable(tmp_path / 'shared' / 'pwsh')
    monkeypatch.setattr(pwsh_mod, 'SHARED_PWSH', shared)
    assert pwsh_mod.ensure_pwsh(url='http://127.0.0.1:9/never', dest=str(tmp_path / 'never')) == shared
    build = executable(tmp_path / 'build' / 'pwsh')
    monkeypatch.setattr(pwsh_mod, 'BUILD_PWSH', build)
    assert pwsh_mod.find_pwsh() == build  # the .build copy before ../shared
    on_path = executable(tmp_path / 'bin' / 'pwsh')
    monkeypatch.setenv('PATH', str(tmp_path / 'bin'))
    assert pwsh_mod.find_pwsh() == on_path
    monkeypatch.setenv('PWSH', shared)
    assert pwsh_mod.find_pwsh() == shared  # PWSH first of all
