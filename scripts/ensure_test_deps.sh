#!/usr/bin/env bash
# Install what the test suite needs beyond the venv: headless Chromium and its driver for
# tests/server/test_pay_page_browser.py, and nginx for tests/e2e/test_nginx.py. Idempotent:
# does nothing when all are there, and runs `apt-get update` only when something is missing. Needs root (or sudo) on Debian.
set -euo pipefail

packages=()
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || packages+=(chromium)
[ -x /usr/bin/chromedriver ] || packages+=(chromium-driver)
# nginx in front of gunicorn (tests/e2e/test_nginx.py runs deploy/nginx.conf); -light is ~1 MB
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || packages+=(nginx-light)

if [ ${#packages[@]} -eq 0 ]; then
    exit 0
fi

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
    sudo_cmd=(sudo)
fi
echo "[ensure_test_deps] installing ${packages[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -q
"${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${packages[@]}"
