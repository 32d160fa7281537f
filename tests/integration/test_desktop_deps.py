"""`make run`'s desktop check (scripts/ensure_desktop_deps.sh) with stand-ins for dpkg-query,
apt-get, id and sudo on PATH: nothing happens when every package is installed; missing ones are
installed as root or through sudo; without a way to install, one line names the packages."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "ensure_desktop_deps.sh"
BASH = "/bin/bash"
PACKAGES = [
    "libxcb-cursor0",
    "libxcb-icccm4",
    "libxcb-keysyms1",
    "libxcb-image0",
    "libxcb-render-util0",
    "libxkbcommon-x11-0",
    "libxcb-xinerama0",
    "libxcb-randr0",
    "libxcb-shape0",
    "libxcb-xkb1",
]


def shim(directory: Path, name: str, body: str) -> None:
    path = directory / name
    path.write_text(f"#!{BASH}\n{body}\n")
    path.chmod(0o755)


def run_check(
    tmp_path: Path, missing: list[str], uid: int = 0, sudo: bool = False, apt_fails: bool = False
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """The script with PATH holding only the stand-ins; returns its result and the apt calls
    (one line per call, sudo-prefixed when it went through sudo)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "calls"
    missing_words = " ".join(missing)
    shim(
        bin_dir,
        "dpkg-query",
        # dpkg-query -W -f=... PACKAGE: an installed package's status, else an error
        f'for m in {missing_words}; do [ "${{@: -1}}" = "$m" ] && exit 1; done\n'
        "printf 'install ok installed'",
    )
    shim(bin_dir, "id", f"echo {uid}")
    shim(bin_dir, "apt-get", f'echo "apt-get $*" >> {calls}\nexit {1 if apt_fails else 0}')
    if sudo:
        shim(bin_dir, "sudo", f'echo -n "sudo " >> {calls}\n"$@"')
    result = subprocess.run(
        [BASH, str(SCRIPT)],
        env={"PATH": str(bin_dir)},
        capture_output=True,
        text=True,
        timeout=30,
    )
    return result, calls.read_text().splitlines() if calls.exists() else []


def test_everything_installed_runs_no_apt_and_says_nothing(tmp_path: Path) -> None:
    result, calls = run_check(tmp_path, missing=[])
    assert (result.returncode, result.stdout, result.stderr, calls) == (0, "", "", [])


def test_missing_packages_are_installed_as_root(tmp_path: Path) -> None:
    result, calls = run_check(tmp_path, missing=["libxcb-cursor0", "libxcb-xkb1"])
    assert result.returncode == 0, result.stderr
    assert calls == [
        "apt-get update -q",
        "apt-get install -y -q --no-install-recommends libxcb-cursor0 libxcb-xkb1",
    ]


def test_not_root_installs_through_sudo(tmp_path: Path) -> None:
    result, calls = run_check(tmp_path, missing=["libxcb-icccm4"], uid=1000, sudo=True)
    assert result.returncode == 0, result.stderr
    assert calls == [
        "sudo apt-get update -q",
        "sudo apt-get install -y -q --no-install-recommends libxcb-icccm4",
    ]


@pytest.mark.parametrize(
    ("uid", "apt_fails", "why"),
    [(1000, False, "not root and no sudo"), (0, True, "apt-get update failed")],
)
def test_cannot_install_stops_with_one_line_naming_the_packages(
    tmp_path: Path, uid: int, apt_fails: bool, why: str
) -> None:
    result, _calls = run_check(
        tmp_path, missing=["libxcb-cursor0", "libxkbcommon-x11-0"], uid=uid, apt_fails=apt_fails
    )
    assert result.returncode == 1
    # the last line says it all (apt's own output, if it ran, comes before it)
    assert result.stderr.splitlines()[-1] == (
        "make run: the till's window needs these packages; install them and run again: "
        f"apt-get install libxcb-cursor0 libxkbcommon-x11-0 ({why})"
    )
    if uid:
        assert len(result.stderr.splitlines()) == 1


def test_the_script_checks_the_packages_qt_needs(tmp_path: Path) -> None:
    """Every package of the list is asked about (all missing: all are installed)."""
    result, calls = run_check(tmp_path, missing=PACKAGES)
    assert result.returncode == 0, result.stderr
    assert calls[-1] == "apt-get install -y -q --no-install-recommends " + " ".join(PACKAGES)
