#!/usr/bin/env sh
# The browser tests drive Debian's chromium through Playwright; no test tool downloads a browser.
# Installs the `chromium` package when it is missing. If it cannot (no apt-get, no network), it
# says so and `make test` goes on: the browser tests are then skipped, naming the reason.
command -v chromium >/dev/null 2>&1 && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
  echo "chromium is not installed and there is no apt-get here: the browser tests will be skipped" >&2
  exit 0
fi
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "Installing Debian's chromium for the browser tests ..." >&2
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null 2>&1 \
  || { $SUDO apt-get update -q >/dev/null 2>&1 && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null 2>&1; } \
  || echo "could not install chromium: the browser tests will be skipped" >&2
exit 0
