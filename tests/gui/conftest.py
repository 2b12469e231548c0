"""GUI tests: their own preset folder, and an X display for the window tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import time

import pytest

from gui.display import display_available


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch):
    """Point MUSICMILL_DATA_DIR at a fresh folder, so no test touches the real user data."""
    path = tmp_path / "data"
    monkeypatch.setenv("MUSICMILL_DATA_DIR", str(path))
    return path


@pytest.fixture(scope="session")
def x_display():
    """An X display for DearPyGui: the one in $DISPLAY if it answers, else Xvfb on a free
    number (FACTS: DearPyGui renders under Xvfb through Mesa; it has no headless mode)."""
    if display_available():
        yield os.environ["DISPLAY"]
        return
    if shutil.which("Xvfb") is None:
        pytest.fail("GUI tests need Xvfb (apt-get install xvfb; `make test` installs it)")
    before = os.environ.get("DISPLAY")
    for number in range(91, 100):
        if os.path.exists(f"/tmp/.X11-unix/X{number}") or os.path.exists(f"/tmp/.X{number}-lock"):
            continue
        proc = subprocess.Popen(["Xvfb", f":{number}", "-screen", "0", "1280x800x24"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.environ["DISPLAY"] = f":{number}"
        deadline = time.monotonic() + 10.0
        while time.monotonic() < deadline and proc.poll() is None and not display_available():
            time.sleep(0.1)
        if display_available():
            break
        proc.kill()
    else:
        pytest.fail("could not start Xvfb on displays :91-:99")
    yield os.environ["DISPLAY"]
    proc.terminate()
    proc.wait(timeout=10)
    if before is None:
        os.environ.pop("DISPLAY", None)
    else:
        os.environ["DISPLAY"] = before
