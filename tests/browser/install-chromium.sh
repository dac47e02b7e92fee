#!/usr/bin/env bash
# Debian's chromium for the browser tests (tests/browser: Playwright drives /usr/bin/chromium, it downloads none).
# `make test` runs this first. When chromium is missing and this user may install packages (root, or sudo that
# asks for no password) it runs `apt-get install chromium`; otherwise it says why and goes on, and the browser tests
# skip (or fail under CI=true). It never stops `make test`. EPOLICY_INSTALL_CHROMIUM=no leaves the system alone.
set -euo pipefail

say() { echo "install-chromium: $*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  else
    sudo -n "$@"
  fi
}

command -v chromium >/dev/null && exit 0

if [ "${EPOLICY_INSTALL_CHROMIUM:-yes}" = no ]; then
  say "chromium is missing and EPOLICY_INSTALL_CHROMIUM=no: not installing it; the browser tests will skip"
  exit 0
fi
if ! command -v apt-get >/dev/null; then
  say "chromium is missing and there is no apt-get to install Debian's: install chromium by hand"
  exit 0
fi
if [ "$(id -u)" -ne 0 ] && ! { command -v sudo >/dev/null && sudo -n true 2>/dev/null; }; then
  say "chromium is missing; installing it needs root or sudo without a password: run 'sudo apt-get install chromium'"
  exit 0
fi

say "chromium is missing: installing Debian's package (apt-get install chromium)"
# The package lists of a fresh machine (or a container image) are empty or stale: install alone would not find it.
if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q ||
  ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; then
  say "apt-get could not install chromium (see above); the browser tests will skip, or fail under CI=true"
  exit 0
fi
if ! command -v chromium >/dev/null; then
  say "apt-get installed chromium, but it is not on PATH; the browser tests look for /usr/bin/chromium"
fi
