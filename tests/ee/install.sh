#!/usr/bin/env bash
# Installs podman and what the execution-environment tests need to build and run the image (Debian packages), only
# when missing: podman, runc (crun fails here on rlimits and hybrid cgroups, see tests/ee/containers.conf),
# fuse-overlayfs and uidmap for podman's storage and user namespaces, debootstrap for the offline base image.
# Nothing is configured system-wide: the tests point podman at tests/ee/containers.conf through CONTAINERS_CONF.
set -euo pipefail

packages=(podman runc fuse-overlayfs uidmap debootstrap xz-utils)
missing=()
for pkg in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$pkg")
    fi
done
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "execution environment tools missing (${missing[*]}): run as root or: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
