"""The execution environment built and run as AWX runs it: podman, a debootstrap base, ansible-builder, ansible-runner.

Images are kept between runs on one machine, tagged with a hash of what goes into them, so a changed definition,
collection or base recipe builds a new one and an unchanged one is reused. podman runs with tests/ee/containers.conf
through CONTAINERS_CONF in these processes' environment only (nothing system-wide).
"""

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time

import pytest
import yaml

from playbook import BIN, REPO

from m365_sandbox.pwsh import SHARED_PWSH

sys.path.insert(0, os.path.join(REPO, 'tests', 'ee'))
import variant  # noqa: E402  pylint: disable=wrong-import-position

EE_DIR = os.path.join(REPO, 'tests', 'ee')
CONTAINERS_CONF = os.path.join(EE_DIR, 'containers.conf')
DEFINITION = os.path.join(REPO, 'execution-environment.yml')
WORK = os.path.join(REPO, '.build', 'ee')
LOG_DIR = os.path.join(REPO, 'tests', 'output', 'ee')
# The packed PowerShell beside the shared pwsh the other tests run (../shared/tools/powershell, see its README).
POWERSHELL_ARCHIVE = os.path.join(os.path.dirname(SHARED_PWSH), 'powershell-7.6.9-linux-x64.tar.xz')
INSTALL_HINT = ('the execution-environment tests need root and podman: run `make test` as root (it installs podman, runc, '
                'fuse-overlayfs, uidmap and debootstrap from Debian), or: sudo tests/ee/install.sh')
# The base: what docker.io/library/debian:bookworm is (debootstrap minbase), plus what the definition's prepend_base
# would install from the registry world (python3-pip, ca-certificates, curl) so the offline build needs no extra step.
SUITE = 'bookworm'
BASE_PACKAGES = 'python3,python3-pip,python3-venv,ca-certificates,curl'
BASE_REPO = 'localhost/m365-ee-base'
IMAGE_REPO = 'localhost/m365-mail-oauth-ee'
# Test images kept on a machine: each changed collection builds one, so older ones would pile up (about 300 MB each
# beyond the shared layers); the newest few stay, for other checkouts on the same machine.
KEEP_IMAGES = 3
BUILD_TIMEOUT = 1800


def need_podman():
    """podman and root, or a skip with the install hint (a failure under CI=true, where nothing may be skipped)."""
    if shutil.which('podman') and os.geteuid() == 0 and os.path.isfile(POWERSHELL_ARCHIVE):
        return
    reason = INSTALL_HINT if os.path.isfile(POWERSHELL_ARCHIVE) else 'no PowerShell archive at %s' % POWERSHELL_ARCHIVE
    if os.environ.get('CI') == 'true':
        pytest.fail(reason)
    pytest.skip(reason)


def podman_env(**extra):
    return dict(os.environ, CONTAINERS_CONF=CONTAINERS_CONF, **extra)


def podman(*args, timeout=300, check=True):
    proc = subprocess.run(['podman'] + list(args), capture_output=True, text=True, env=podman_env(), timeout=timeout, check=False)
    if check and proc.returncode != 0:
        raise BuildFailed('podman %s failed (rc %d):\n%s' % (' '.join(args), proc.returncode, proc.stderr[-3000:]))
    return proc


class BuildFailed(Exception):
    """A build step failed: the message carries the tool's own last lines and where the whole log is."""


def logged(cmd, log_path, timeout=BUILD_TIMEOUT, **kwargs):
    """Run cmd with its output appended to log_path; on failure raise with the log's tail (the tool's own message)."""
    os.makedirs(os.path.dirname(log_path), exist_ok=True)
    with open(log_path, 'a') as log:
        log.write('\n$ %s\n' % ' '.join(cmd))
        log.flush()
        try:
            proc = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, timeout=timeout, check=False, **kwargs)
            rc = proc.returncode
        except subprocess.TimeoutExpired:
            rc = 'timeout after %d s' % timeout
    if rc != 0:
        with open(log_path, errors='replace') as log:
            tail = log.read()[-4000:]
        raise BuildFailed('%s failed (%s); log %s ends:\n%s' % (os.path.basename(cmd[0]), rc, log_path, tail))


def _digest(*parts):
    sha = hashlib.sha256()
    for part in parts:
        sha.update(part if isinstance(part, bytes) else str(part).encode())
        sha.update(b'\0')
    return sha.hexdigest()[:12]


def _apt_sources():
    """The machine's apt sources (and its apt settings), copied into the base so apt-get inside reaches the same mirror."""
    files = {}
    for folder in ('/etc/apt/sources.list.d', '/etc/apt/apt.conf.d'):
        for name in sorted(os.listdir(folder)) if os.path.isdir(folder) else []:
            path = os.path.join(folder, name)
            if os.path.isfile(path) and (name.endswith(('.list', '.sources')) or folder.endswith('conf.d')):
                with open(path, 'rb') as handle:
                    files[path] = handle.read()
    if os.path.isfile('/etc/apt/sources.list'):
        with open('/etc/apt/sources.list', 'rb') as handle:
            files['/etc/apt/sources.list'] = handle.read()
    return files


def _mirror(sources):
    for body in sources.values():
        for line in body.decode(errors='replace').splitlines():
            words = line.split()
            if words[:1] == ['URIs:'] and 'security' not in words[1]:
                return words[1]
            if words[:1] == ['deb'] and 'security' not in line:
                return next(w for w in words[1:] if w.startswith('http'))
    return 'http://deb.debian.org/debian'


@contextlib.contextmanager
def _lock(name):
    """One build of a thing at a time on this machine (parallel pytest processes wait, then find it built)."""
    os.makedirs(WORK, exist_ok=True)
    with open(os.path.join(WORK, name + '.lock'), 'w') as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def image_exists(tag):
    return podman('image', 'exists', tag, check=False).returncode == 0


def base_image(timings=None):
    """localhost/m365-ee-base:bookworm-<hash>: debootstrap minbase imported into podman, built when missing."""
    sources = _apt_sources()
    mirror = _mirror(sources)
    key = _digest(SUITE, BASE_PACKAGES, mirror, *[p + repr(b) for p, b in sorted(sources.items())])
    tag = '%s:%s-%s' % (BASE_REPO, SUITE, key)
    with _lock('base'):
        if image_exists(tag):
            return tag
        started = time.monotonic()
        log = os.path.join(LOG_DIR, 'base-%s.log' % key)
        root = os.path.join(WORK, 'rootfs-' + key)
        shutil.rmtree(root, ignore_errors=True)
        try:
            logged(['debootstrap', '--variant=minbase', '--include=' + BASE_PACKAGES, SUITE, root, mirror], log)
            for path, body in sources.items():
                target = root + path
                os.makedirs(os.path.dirname(target), exist_ok=True)
                with open(target, 'wb') as handle:
                    handle.write(body)
            with open(log, 'a') as out:
                tar = subprocess.Popen(['tar', '-C', root, '-c', '.'], stdout=subprocess.PIPE, stderr=out)
                imported = subprocess.run(['podman', 'import', '-', tag], stdin=tar.stdout, stdout=out, stderr=subprocess.STDOUT,
                                          env=podman_env(), timeout=600, check=False)
                tar.stdout.close()
                tar.wait()
            if imported.returncode != 0 or tar.returncode != 0:
                logged(['false'], log)  # raises with the log's tail: tar's or podman's own message
        finally:
            shutil.rmtree(root, ignore_errors=True)
        if timings is not None:
            timings['base_build_s'] = round(time.monotonic() - started, 1)
        return tag


def collection_tarball():
    """The collection as ansible-galaxy builds it, and a hash of its files' contents (FILES.json holds each checksum)."""
    dist = os.path.join(WORK, 'dist')
    logged([os.path.join(BIN, 'ansible-galaxy'), 'collection', 'build', '--force', '--output-path', dist], os.path.join(LOG_DIR, 'collection.log'),
           cwd=REPO, timeout=300)
    with open(os.path.join(REPO, 'galaxy.yml')) as handle:
        galaxy = yaml.safe_load(handle)
    path = os.path.join(dist, '%s-%s-%s.tar.gz' % (galaxy['namespace'], galaxy['name'], galaxy['version']))
    with tarfile.open(path) as archive:
        files = archive.extractfile('FILES.json').read()
    return path, _digest(files)


def _tree_digest(folder):
    parts = []
    for root, _dirs, files in sorted(os.walk(folder)):
        for name in sorted(files):
            with open(os.path.join(root, name), 'rb') as handle:
                parts.append(os.path.relpath(os.path.join(root, name), folder).encode() + b'\0' + handle.read())
    return _digest(*parts)


def load_definition():
    with open(DEFINITION) as handle:
        return yaml.safe_load(handle)


def offline_definition(base):
    return variant.offline(load_definition(), base, os.path.realpath(POWERSHELL_ARCHIVE))


def _pip_trust():
    """A pip.conf with the machine's CA bundle, mounted at /etc/xdg/pip during the build (pip in the build must trust
    what the machine's pip trusts, e.g. a TLS-inspecting proxy's CA)."""
    bundle = os.environ.get('PIP_CERT') or '/etc/ssl/certs/ca-certificates.crt'
    folder = os.path.join(WORK, 'pip')
    os.makedirs(folder, exist_ok=True)
    shutil.copyfile(bundle, os.path.join(folder, 'ca-bundle.crt'))
    with open(os.path.join(folder, 'pip.conf'), 'w') as handle:
        handle.write('[global]\ncert = /etc/xdg/pip/ca-bundle.crt\n')
    return folder


def ee_image(timings=None, base=None):
    """The offline test image of the EE: base, then ansible-builder over the generated variant; built when missing.
    base: a base image to build on instead of the debootstrap one (tests of a failing build)."""
    base = base or base_image(timings)
    tarball, collection_key = collection_tarball()
    definition = offline_definition(base)
    # The variant names the tarball where the definition expects it (.build/dist), so put the fresh one there.
    expected = os.path.join(REPO, load_definition()['additional_build_files'][0]['src'])
    os.makedirs(os.path.dirname(expected), exist_ok=True)
    shutil.copyfile(tarball, expected)
    text = yaml.safe_dump(definition, sort_keys=False)
    with open(variant.PWSH_WRAPPER, 'rb') as handle:
        wrapper = handle.read()
    key = _digest(text, collection_key, _tree_digest(variant.FAKE_MODULE), wrapper, os.path.getsize(POWERSHELL_ARCHIVE))
    tag = '%s:test-%s' % (IMAGE_REPO, key)
    with _lock('image'):
        if image_exists(tag):
            return tag
        started = time.monotonic()
        path = os.path.join(WORK, 'execution-environment-offline.yml')
        with open(path, 'w') as handle:
            handle.write('# Generated by tests/e2e/ee.py from execution-environment.yml (tests/ee/variant.py): do not edit.\n')
            handle.write(text)
        context = os.path.join(WORK, 'context')
        shutil.rmtree(context, ignore_errors=True)
        log = os.path.join(LOG_DIR, 'image-%s.log' % key)
        logged([os.path.join(BIN, 'ansible-builder'), 'build', '-f', path, '-c', context, '-t', tag, '--container-runtime', 'podman',
                '-v', '2', '--extra-build-cli-args=-v %s:/etc/xdg/pip:ro' % _pip_trust()], log, env=podman_env(), cwd=WORK)
        # ansible-builder leaves its intermediate stages as <none> images.
        podman('image', 'prune', '-f', check=False)
        _remove_older_images(tag)
        if timings is not None:
            timings['image_build_s'] = round(time.monotonic() - started, 1)
        return tag


def _remove_older_images(keep):
    listed = podman('images', '--format', 'json', '--filter', 'reference=%s' % IMAGE_REPO, check=False)
    images = sorted(json.loads(listed.stdout or '[]'), key=lambda image: image.get('Created', 0), reverse=True)
    for image in images[KEEP_IMAGES:]:
        for name in image.get('Names') or []:
            if name != keep:
                podman('rmi', name, check=False)  # one a running job still uses stays


def image_size_mb(tag):
    return round(json.loads(podman('image', 'inspect', tag).stdout)[0]['Size'] / 1e6)


# The job, as AWX lays it out for ansible-runner: the private data dir is /runner in the container.
CONTAINER_DIR = '/runner'


def container_path(path, private_data_dir):
    """Where a file of the private data dir is inside the job's container (AWX's to_container_path)."""
    rel = os.path.relpath(str(path), str(private_data_dir))
    return path if rel.startswith('..') else os.path.join(CONTAINER_DIR, rel)


class Job:
    """What one ansible-runner job left: rc, stdout, its artifacts and job events, how long it took."""

    def __init__(self, private_data_dir, ident, proc, seconds, injected):
        self.private_data_dir = str(private_data_dir)
        self.artifacts = os.path.join(self.private_data_dir, 'artifacts', ident)
        self.runner_output = proc.stdout + proc.stderr
        self.seconds = seconds
        self.injected = injected
        self.rc = int(self._read('rc') or -1)
        self.status = self._read('status')
        self.stdout = self._read('stdout')

    def _read(self, name):
        path = os.path.join(self.artifacts, name)
        if not os.path.exists(path):
            return ''
        with open(path, errors='replace') as handle:
            return handle.read().strip() if name in ('rc', 'status') else handle.read()

    def events(self):
        folder = os.path.join(self.artifacts, 'job_events')
        out = []
        for name in os.listdir(folder) if os.path.isdir(folder) else []:
            with open(os.path.join(folder, name)) as handle:
                out.append(json.load(handle))
        return sorted(out, key=lambda event: event.get('counter', 0))

    @property
    def stats(self):
        """The recap as the playbook_on_stats event has it: {'changed': {host: n}, 'failures': ..., 'ok': ...}."""
        found = [e['event_data'] for e in self.events() if e.get('event') == 'playbook_on_stats']
        return found[-1] if found else {}

    def outputs(self):
        """(texts, paths) of everything the job printed or left: the runner's output, and every file in the private
        data dir except env/, the job's input as AWX writes it (the credential's values are there by design; AWX
        deletes the directory after the job, the artifacts and job events are what it keeps)."""
        inputs = os.path.join(self.private_data_dir, 'env')
        paths = [os.path.join(root, name) for root, _dirs, files in os.walk(self.private_data_dir)
                 for name in files if not root.startswith(inputs)]
        return [('<ansible-runner output>', self.runner_output)], paths

    def __repr__(self):
        return '<Job %s rc=%s status=%s>\n%s\n%s' % (self.artifacts, self.rc, self.status, self.stdout[-6000:], self.runner_output[-2000:])


def run_job(private_data_dir, image, playbook, inventory, credential, survey=None, envvars=None, job_type='run', diff_mode=False,
            ident='job', verbosity=0, timeout=900, exposed=(), volumes=()):
    """One AWX job in the EE: ansible-runner with podman process isolation over a private data dir laid out as AWX's.

    project/ is the project checkout (the repository's playbooks), inventory/hosts.json the inventory, env/extravars the
    survey's answers (AWX tags them !unsafe: never templated), env/envvars the credential's env injectors plus the job's
    environment, env/cmdline the credential's extra vars as `-e @file` with check and diff from the job template, and the
    credential's file injectors as 0600 files under env/, named by their path inside the container. exposed: host
    folders mounted at the same path, as AWX's "Paths to expose to isolated jobs" are (where a handover outlives the job).
    """
    import awx  # pylint: disable=import-outside-toplevel
    pdd = str(private_data_dir)
    for sub in ('project', 'inventory', 'env'):
        os.makedirs(os.path.join(pdd, sub), exist_ok=True)
    shutil.copytree(os.path.join(REPO, 'playbooks'), os.path.join(pdd, 'project', 'playbooks'), dirs_exist_ok=True)
    with open(os.path.join(pdd, 'inventory', 'hosts.json'), 'w') as handle:
        json.dump(inventory, handle, indent=2)
    injected = awx.render_injectors(awx.load_definition('credential_type.yml'), credential, pdd)
    env = dict((name, container_path(value, pdd) if value.startswith(pdd + os.sep) else value) for name, value in injected.env.items())
    env.update({'ANSIBLE_NOCOLOR': '1', 'ANSIBLE_DEPRECATION_WARNINGS': 'False', 'ANSIBLE_FORCE_COLOR': 'False'})
    env.update(envvars or {})
    cmdline = []
    if injected.extra_vars_file:
        cmdline += ['-e', '@' + container_path(injected.extra_vars_file, pdd)]
    if job_type == 'check':
        cmdline.append('--check')
    if diff_mode:
        cmdline.append('--diff')
    if verbosity:
        cmdline.append('-' + 'v' * verbosity)
    with open(os.path.join(pdd, 'env', 'envvars'), 'w') as handle:
        yaml.safe_dump(env, handle)
    with open(os.path.join(pdd, 'env', 'extravars'), 'w') as handle:
        handle.write(awx.unsafe_yaml(survey or {}))
    with open(os.path.join(pdd, 'env', 'cmdline'), 'w') as handle:
        handle.write(' '.join(cmdline))
    # The container shares the host's network, so it reaches the sandbox on the host's loopback as the tests do. It runs
    # as root in the container: ansible-runner creates artifacts/<ident> (0700) on the host before it starts the
    # container, which the image's own user (uid 1000) could not write to under rootful podman. On an AWX execution
    # node podman is rootless, so root in the container is the node's unprivileged awx user.
    cmd = [os.path.join(BIN, 'ansible-runner'), 'run', pdd, '-p', playbook, '--ident', ident, '--process-isolation',
           '--process-isolation-executable', 'podman', '--container-image', image, '--container-option=--network=host',
           '--container-option=--user=root']
    for folder in exposed:
        cmd += ['--container-volume-mount', '%s:%s:Z' % (folder, folder)]
    for host, inside in volumes:  # e.g. an empty folder over one the image has
        cmd += ['--container-volume-mount', '%s:%s:ro' % (host, inside)]
    started = time.monotonic()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=podman_env(), timeout=timeout, check=False)
    finally:
        # ansible-runner starts the container with --rm; one it could not stop (a timeout) is removed here.
        podman('rm', '--force', '--ignore', 'ansible_runner_' + ident, check=False)
    job = Job(pdd, ident, proc, round(time.monotonic() - started, 1), injected)
    os.makedirs(LOG_DIR, exist_ok=True)
    with open(os.path.join(LOG_DIR, '%s-%d.job.log' % (ident, int(time.time() * 1000))), 'w') as log:
        log.write('$ %s\n%s\n--- artifacts stdout ---\n%s' % (' '.join(cmd), job.runner_output, job.stdout))
    return job
