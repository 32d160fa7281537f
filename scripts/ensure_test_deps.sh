#!/usr/bin/env bash
# Install what the test suite needs beyond the venv: headless Chromium and its driver for
# tests/server/test_pay_page_browser.py, nginx for tests/e2e/test_nginx.py, and a real X
# display for tests/ui/test_real_window.py (Xvfb, openbox, xdotool, xprop, ImageMagick's
# import, and the xcb libraries PySide6's xcb plugin loads). Idempotent:
# does nothing when all are there, and runs `apt-get update` only when something is missing. Needs root (or sudo) on Debian.
set -euo pipefail

packages=()
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || packages+=(chromium)
[ -x /usr/bin/chromedriver ] || packages+=(chromium-driver)
# nginx in front of gunicorn (tests/e2e/test_nginx.py runs deploy/nginx.conf); -light is ~1 MB
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || packages+=(nginx-light)
# poppler's pdftotext and pdftoppm read back the Z report's PDF (tests/ui/test_z_report_view.py)
command -v pdftoppm >/dev/null 2>&1 || packages+=(poppler-utils)

# The real-window test: without these it is skipped (naming what is missing), so a box
# where they cannot be installed still runs the rest of the suite.
x_packages=()
command -v Xvfb >/dev/null 2>&1 || x_packages+=(xvfb)
command -v openbox >/dev/null 2>&1 || x_packages+=(openbox)
command -v xdotool >/dev/null 2>&1 || x_packages+=(xdotool)
command -v xprop >/dev/null 2>&1 || x_packages+=(x11-utils)
command -v import >/dev/null 2>&1 || x_packages+=(imagemagick)
for lib in libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0 \
    libxkbcommon-x11-0 libxcb-xinerama0 libxcb-randr0 libxcb-shape0 libxcb-xkb1; do
    dpkg-query -W -f='${Status}' "$lib" 2>/dev/null | grep -q "ok installed" || x_packages+=("$lib")
done

if [ ${#packages[@]} -eq 0 ] && [ ${#x_packages[@]} -eq 0 ]; then
    exit 0
fi

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
    sudo_cmd=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -q
if [ ${#packages[@]} -gt 0 ]; then
    echo "[ensure_test_deps] installing ${packages[*]}" >&2
    "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${packages[@]}"
fi
if [ ${#x_packages[@]} -gt 0 ]; then
    echo "[ensure_test_deps] installing ${x_packages[*]}" >&2
    "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${x_packages[@]}" ||
        echo "[ensure_test_deps] could not install ${x_packages[*]}: the real-window test will be skipped" >&2
fi
