#!/usr/bin/env bash
# Install the system libraries the till's window needs (`make run`): PySide6's xcb platform
# plugin loads these, and a fresh Debian image has none of them (the window fails to start).
# Does nothing when they are all there (no apt call). When some are missing it installs them
# with apt-get as root (or through sudo), or stops with one line naming the packages.
# Not Debian (no dpkg-query), or an offscreen Qt: nothing to check.
set -euo pipefail

desktop_packages=(
    libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0
    libxkbcommon-x11-0 libxcb-xinerama0 libxcb-randr0 libxcb-shape0 libxcb-xkb1
)

if [ "${QT_QPA_PLATFORM:-}" = "offscreen" ] || ! command -v dpkg-query >/dev/null 2>&1; then
    exit 0
fi

missing=()
for package in "${desktop_packages[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
    [ "$status" = "install ok installed" ] || missing+=("$package")
done
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

stop() {
    echo "make run: the till's window needs these packages; install them and run again:" \
        "apt-get install ${missing[*]} ($1)" >&2
    exit 1
}

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || stop "not root and no sudo"
    sudo_cmd=(sudo)
fi
command -v apt-get >/dev/null 2>&1 || stop "no apt-get"
echo "[ensure_desktop_deps] installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -q >&2 || stop "apt-get update failed"
"${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >&2 ||
    stop "apt-get install failed"
