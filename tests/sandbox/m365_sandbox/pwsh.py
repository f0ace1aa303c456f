"""Where the tests, the sandbox's emulated Windows host, the demo and the bench find PowerShell, and how `make test`
and `make demo` get it when there is none. The one place for that rule.

Order: PWSH if set; pwsh on PATH; the copy `make` unpacked under .build/ (BUILD_PWSH); the packed copy these
development machines share (../shared/tools/powershell/pwsh beside the repository); otherwise `make` downloads
Microsoft's release archive for Linux x64 (VERSION, SHA-256 pinned below) into .build/ where the network allows, and
stops with INSTALL_HINT where it does not. A copy found on the machine always wins over a download, so a machine
without the network (such as the shared development machines, which reach only PyPI, Debian and npm) never waits on
one. Tests that need pwsh and find none skip with the hint; under CI=true they fail instead (require_pwsh).

Run as a script (stdlib only, no package import): `python tests/sandbox/m365_sandbox/pwsh.py` prints the pwsh to use,
fetching it if needed, or exits 1 with the hint.
"""

import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.error
import urllib.request

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))
SHARED_PWSH = os.path.join(os.path.dirname(REPO_ROOT), 'shared', 'tools', 'powershell', 'pwsh')
# Microsoft's binary archive (Learn: "Alternate ways to install PowerShell on Linux", binary archives). 7.4 is the
# LTS line; the SHA-256 is the release's hashes.sha256 line for this file.
VERSION = '7.4.6'
ARCHIVE = 'powershell-%s-linux-x64.tar.gz' % VERSION
URL = 'https://github.com/PowerShell/PowerShell/releases/download/v%s/%s' % (VERSION, ARCHIVE)
SHA256 = '6f6015203c47806c5cc444c19d8ed019695e610fbd948154264bf9ca8e157561'
BUILD_DIR = os.path.join(REPO_ROOT, '.build', 'pwsh-%s' % VERSION)
BUILD_PWSH = os.path.join(BUILD_DIR, 'pwsh')
PESTER_VERSION = '5.7.1'  # the version ../shared's copy carries
INSTALL_HINT = ('PowerShell 7 (pwsh) was not found: install it (Microsoft\'s packages, or `dotnet tool install --global PowerShell`) '
                'and put it on PATH, or point PWSH at it')


class FetchError(Exception):
    """The archive could not be downloaded, or it is not the pinned one."""


def find_pwsh():
    """The pwsh executable to run, or None."""
    explicit = os.environ.get('PWSH')
    if explicit:
        return explicit if os.access(explicit, os.X_OK) else shutil.which(explicit)
    found = shutil.which('pwsh')
    if found:
        return found
    for candidate in (BUILD_PWSH, SHARED_PWSH):
        if os.access(candidate, os.X_OK):
            return candidate
    return None


def require_pwsh():
    """find_pwsh(), or raise with the install hint (tests turn that into a skip, or a failure under CI)."""
    found = find_pwsh()
    if not found:
        raise FileNotFoundError(INSTALL_HINT)
    return found


def fetch_pwsh(url=URL, sha256=SHA256, dest=BUILD_DIR, timeout=60):
    """Download the archive, check its SHA-256, unpack it into dest: the path of dest's pwsh.

    Nothing is unpacked unless the checksum matches; dest appears whole or not at all (unpacked beside it, then renamed).
    """
    parent = os.path.dirname(dest)
    os.makedirs(parent, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix='.pwsh-', dir=parent) as work:
        archive = os.path.join(work, 'archive.tar.gz')
        digest = hashlib.sha256()
        try:
            with urllib.request.urlopen(url, timeout=timeout) as answer, open(archive, 'wb') as out:  # nosec: https, pinned sum
                for chunk in iter(lambda: answer.read(1 << 20), b''):
                    digest.update(chunk)
                    out.write(chunk)
        except (urllib.error.URLError, OSError) as exc:
            raise FetchError('could not download %s: %s' % (url, getattr(exc, 'reason', exc))) from exc
        if digest.hexdigest() != sha256.lower():
            raise FetchError('%s has SHA-256 %s, not the pinned %s: refused, nothing unpacked' % (url, digest.hexdigest(), sha256))
        unpacked = os.path.join(work, 'unpacked')
        with tarfile.open(archive) as tar:
            tar.extractall(unpacked, filter='data')  # no absolute paths, links out of the tree or device files
        pwsh = os.path.join(unpacked, 'pwsh')
        if not os.path.isfile(pwsh):
            raise FetchError('%s holds no pwsh at its top' % url)
        os.chmod(pwsh, 0o755)  # the data filter drops modes it does not trust; the archive's pwsh may lack +x
        if os.path.isdir(dest):
            shutil.rmtree(dest)
        os.rename(unpacked, dest)
    return os.path.join(dest, 'pwsh')


def ensure_pwsh(url=URL, sha256=SHA256, dest=BUILD_DIR, timeout=60):
    """find_pwsh(), else fetch_pwsh(): the pwsh to use, or FileNotFoundError with the hint and why the download failed."""
    found = find_pwsh()
    if found:
        return found
    try:
        return fetch_pwsh(url, sha256, dest, timeout)
    except FetchError as exc:
        raise FileNotFoundError('%s (%s)' % (INSTALL_HINT, exc)) from exc


def save_pester(pwsh, version=PESTER_VERSION):
    """Microsoft's archive has no Pester: save it from the PowerShell Gallery into that copy's own module folder
    ($PSHOME/Modules, on its default PSModulePath), nothing in the user's profile. An error message, or None."""
    script = "Save-Module -Name Pester -RequiredVersion %s -Repository PSGallery -Path (Join-Path $PSHOME 'Modules') -ErrorAction Stop" % version
    proc = subprocess.run([pwsh, '-NoProfile', '-NonInteractive', '-Command', script], capture_output=True, text=True, timeout=600,
                          check=False)
    return None if proc.returncode == 0 else 'Pester %s was not saved (%s): the Pester suite needs it' % (version, proc.stderr.strip()[-300:])


def main():
    fetched = find_pwsh() is None
    try:
        pwsh = ensure_pwsh()
    except FileNotFoundError as exc:
        sys.stderr.write('%s\n' % exc)
        return 1
    problem = save_pester(pwsh) if fetched else None
    if problem:
        sys.stderr.write('%s\n' % problem)
    print(pwsh)
    return 0


if __name__ == '__main__':
    sys.exit(main())
