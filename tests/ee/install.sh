#!/usr/bin/env bash
# Installs podman and what the execution-environment tests need to build and run the image (Debian packages), only
# when missing: podman, runc (crun fails here on rlimits and hybrid cgroups, see tests/ee/containers.conf),
# fuse-overlayfs and uidmap for podman's storage and user namespaces, debootstrap for the offline base image.
# Nothing is configured system-wide: the tests point podman at tests/ee/containers.conf through CONTAINERS_CONF.
set -euo pipefail
exec "$(dirname "$0")/../tools/install-debian-packages.sh" "execution environment tools" \
    podman runc fuse-overlayfs uidmap debootstrap xz-utils
