#!/bin/sh
# Installs wrk (Debian's HTTP load generator), which the serve benchmark drives:
#   bench/loadtest/install.sh
#   dotnet run -c Release --project bench/Vivace.Bench -- serve [--quick] [--out FILE.md]
# Idempotent: does nothing when wrk is already on PATH. Uses sudo only when not root.
set -eu

if command -v wrk >/dev/null 2>&1; then
    echo "wrk already installed: $(command -v wrk)"
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
else
    echo "install.sh: not root and no sudo; install wrk as root: apt-get install -y wrk" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y wrk
echo "wrk installed: $(command -v wrk)"
