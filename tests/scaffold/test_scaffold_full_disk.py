"""`igniter-nb new` on a full disk: nothing kept, exit code 2, and the one-line error names the file whose write
failed — it said only `[Errno 28] No space left on device`."""

from __future__ import annotations

from pathlib import Path

from tests.small_disk import FILL, needs_unshare, run_on_small_disk

_CHILD = FILL + r'''
os.truncate(filler, os.path.getsize(filler) - 6000)  # room for a file or two, not for all of them
out = []
for args in (["new", "contract", "Lead", "--inputs", "a", "--dir", mount], ["new", "project", "shop", "--dir", mount]):
    done = subprocess.run([sys.executable, "-m", "igniter_nb.cli", *args], capture_output=True, text=True, timeout=60)
    out.append({"code": done.returncode, "err": done.stderr, "left": sorted(os.listdir(mount))})
print(json.dumps(out))
'''


@needs_unshare
def test_a_full_disk_names_the_file_that_could_not_be_written(tmp_path: Path) -> None:
    for case in run_on_small_disk(_CHILD, tmp_path, size="1m"):
        assert case["code"] == 2 and case["left"] == ["filler"], case
        (line,) = case["err"].splitlines()
        assert line.startswith("igniter-nb new: error: writing failed and nothing was kept: "), line
        assert "No space left on device" in line and f"{tmp_path / 'small'}/" in line, line
