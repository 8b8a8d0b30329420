#!/usr/bin/env bash
# podman (daemonless, runc) and the offline test image localhost/stepline-py:bookworm.
#
#   tools/podman.sh start   # idempotent; prints CONTAINERS_CONF=... and STEPLINE_TEST_IMAGE=...
#   tools/podman.sh stop    # nothing runs between tests (podman has no daemon): a no-op
#
# The image is built once (~3-4 min) and cached: skipped when `podman image exists`.
# It is a Debian bookworm minbase (debootstrap) with python3 and the shared libraries the
# workspace's interpreter needs. Stepline is "installed" as /usr/local/bin/stepline, a launcher
# into the workspace virtualenv; containers.conf bind-mounts the repository and the interpreter
# (/root/.pyenv) read-only at the same paths, so the container runs exactly the checked-out code
# without network access to a package index.
#
# Settings from the environment: STATE (default .ci-state under the repo), STEPLINE_TEST_IMAGE.
# Notes (see SERVICES.md): runc, not crun (crun refuses this VM's cgroup mode); lowered ulimits.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE="${STATE:-$ROOT/.ci-state}"
IMAGE="${STEPLINE_TEST_IMAGE:-localhost/stepline-py:bookworm}"
CONF="$STATE/containers.conf"
VENV="$ROOT/.venv"
PYHOME="$(dirname "$(dirname "$(readlink -f "$VENV/bin/python")")")"   # e.g. /root/.pyenv/versions/3.11.7
PYROOT="$(readlink -f "$PYHOME/../../")"                                 # e.g. /root/.pyenv
case "$PYHOME" in "$PYROOT"/*) ;; *) PYROOT="$PYHOME" ;; esac

start() {
  mkdir -p "$STATE"
  if ! command -v podman >/dev/null || ! command -v runc >/dev/null || ! command -v debootstrap >/dev/null; then
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q podman runc debootstrap >&2
  fi
  # The launcher is this checkout's, mounted over the image's: a cached image built from another
  # clone (another path) still runs the Stepline of the checkout under test.
  printf '#!/bin/sh\nexec "%s/bin/stepline" "$@"\n' "$VENV" >"$STATE/stepline-launcher"
  chmod 755 "$STATE/stepline-launcher"
  cat >"$CONF.tmp" <<CONFEOF
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
volumes = ["$ROOT:$ROOT:ro", "$PYROOT:$PYROOT:ro", "$STATE/stepline-launcher:/usr/local/bin/stepline:ro"]
[engine]
runtime = "runc"
CONFEOF
  mv "$CONF.tmp" "$CONF"
  export CONTAINERS_CONF="$CONF"
  exec 9>"$STATE/podman-build.lock"
  flock -w 900 9
  if ! podman image exists "$IMAGE"; then
    ROOTFS="$STATE/rootfs"; rm -rf "$ROOTFS"
    # the Debian mirror apt uses here (deb822 "URIs:" or one-line "deb URL" form)
    MIRROR="${DEBIAN_MIRROR:-$(grep -rhoE 'https?://[^ ]+/debian/?$|https?://[^ ]+/debian[ /]' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null | grep -v snapshot | head -1 | tr -d ' ' || true)}"
    timeout 900 debootstrap --variant=minbase \
        --include=python3-minimal,python3-venv,libffi8,libsqlite3-0,libssl3,libbz2-1.0,liblzma5,zlib1g,libuuid1,libreadline8 \
        bookworm "$ROOTFS" ${MIRROR:+"$MIRROR"} >"$STATE/debootstrap.log" 2>&1 \
      || { tail -20 "$STATE/debootstrap.log" >&2; exit 1; }
    cat >"$ROOTFS/usr/local/bin/stepline" <<LAUNCH
#!/bin/sh
exec "$VENV/bin/stepline" "\$@"
LAUNCH
    chmod 755 "$ROOTFS/usr/local/bin/stepline"
    tar -C "$ROOTFS" -c . | podman import -q -c 'CMD ["/bin/sh"]' - "$IMAGE" >/dev/null
    rm -rf "$ROOTFS"
  fi
  podman run --rm --network=none "$IMAGE" stepline --help >/dev/null \
    || { echo "the image $IMAGE cannot run stepline" >&2; exit 1; }
  echo "CONTAINERS_CONF=$CONF"
  echo "STEPLINE_TEST_IMAGE=$IMAGE"
}

case "${1:-}" in
  start) start ;;
  stop) : ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
