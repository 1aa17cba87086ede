#!/usr/bin/env bash
# Installs the real peers the tests talk to when the machine lacks them (Debian packages).
# Idempotent; does nothing when everything is present.
set -euo pipefail
# The PostgreSQL contract tests need the server on 127.0.0.1:5432; start the
# machine's cluster when it is installed but down.
if command -v pg_ctlcluster >/dev/null 2>&1 && ! pg_isready -h 127.0.0.1 -q 2>/dev/null; then
  version=$(ls /etc/postgresql 2>/dev/null | head -n1)
  if [ -n "$version" ]; then
    pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  fi
fi

need=()
command -v newsboat >/dev/null 2>&1 || need+=(newsboat)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v wrk >/dev/null 2>&1 || need+=(wrk)
command -v faketime >/dev/null 2>&1 || need+=(faketime)  # make test's run 30 days ahead
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null 2>&1; then
  echo "tests/peers/install.sh: missing ${need[*]}; install them (apt-get install ${need[*]})" >&2
  exit 1
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "installing test peers: ${need[*]}" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
