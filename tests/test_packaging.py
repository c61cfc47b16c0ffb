"""The wheel, built from this checkout, holds every file the packages need (issue 12).

An editable install reads the data files (replay sample, brands, the Slack manifest, Alembic's
template) from the checkout, so a file missing from `[tool.setuptools.package-data]` goes
unnoticed until someone installs the wheel: `echtzeit demo` then fails with FileNotFoundError.
This test builds the wheel offline (the build backend comes with the dev extra) from a copy of
the checkout, so that it neither writes into the working tree nor sees a stale `build/`.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from email.parser import HeaderParser
from importlib import metadata
from pathlib import Path

import pytest
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "commands", "integrations", "echtzeit")
MIN_SETUPTOOLS = Version("77.0.3")  # PEP 639: license = "MIT" -> License-Expression


def git_files(*args: str) -> list[str]:
    out = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z", *args], check=True,
                         capture_output=True, timeout=30).stdout
    return [name for name in out.decode("utf-8").split("\0") if name]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs git and a git checkout")
    have = Version(metadata.version("setuptools"))
    assert have >= MIN_SETUPTOOLS, (
        f"setuptools {have} in this environment cannot build the wheel offline; "
        f"run pip install -e '.[dev]' (it brings setuptools>={MIN_SETUPTOOLS})")
    # What `pip wheel .` would see: tracked files and new ones that are not ignored.
    src = tmp_path_factory.mktemp("src")
    for name in git_files("--cached", "--others", "--exclude-standard"):
        path = ROOT / name
        if path.is_file():  # a tracked file deleted in the working tree is not there
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, src / name)
    out = tmp_path_factory.mktemp("wheel")
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
         "--disable-pip-version-check", "-q", "-w", str(out), str(src)],
        capture_output=True, text=True, timeout=180)
    assert build.returncode == 0, build.stdout + build.stderr
    wheels = list(out.glob("echtzeit-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def test_every_tracked_package_file_is_in_the_wheel(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        inside = set(zf.namelist())
    tracked = [name for name in git_files("--", *PACKAGES)
               if "__pycache__" not in name and (ROOT / name).is_file()]
    data = [name for name in tracked if not name.endswith(".py")]
    assert "integrations/networks/replay_data/brands.json" in data  # the test sees data files
    missing = sorted(name for name in data if name not in inside)
    assert not missing, (f"data files missing from the wheel (add their kind to "
                         f"[tool.setuptools.package-data]): {missing}")
    missing_code = sorted(name for name in tracked if name.endswith(".py")
                          and name not in inside)
    assert not missing_code, (f"modules missing from the wheel (is the package in "
                              f"[tool.setuptools.packages.find]?): {missing_code}")


def test_wheel_metadata(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        info = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        meta = HeaderParser().parsestr(zf.read(info).decode("utf-8"))
        entry_points = zf.read(info.replace("METADATA", "entry_points.txt")).decode("utf-8")
    assert meta["License-Expression"] == "MIT", (
        f"License-Expression {meta['License-Expression']!r}, License {meta['License']!r}")
    requires_python = meta["Requires-Python"] or ""
    assert requires_python.startswith(">=3.11"), requires_python
    assert "<" not in requires_python, f"an upper Python cap: {requires_python}"
    assert "[console_scripts]" in entry_points
    assert any(line.replace(" ", "").startswith("echtzeit=")
               for line in entry_points.splitlines()), entry_points
