"""Published models (colorlib.workflow.archive, `make archive`, `make book FROM=`): a variant packed with
a sha256 per file, restored only when every hash holds, never over other files, and a book rebuilt
from it without training. An archive is a stranger's: hand-made ones (absolute, `..`, links, devices...)
are refused in one line with nothing written outside build/<variant> and nothing changed inside it."""

from __future__ import annotations

import hashlib
import io
import json
import os
import stat
import subprocess
import sys
import tarfile
from functools import cache
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from colorlib.errors import UserError
from colorlib.identity import Variant
from colorlib.workflow import archive

from .conftest import copy_repo, jobs_run, make
from .helpers import REPO, VENV

VARIANT = Variant("smoke", "/p", "0123456789abcdef-24", {"seed": 0}, {"lr": 1e-3}, "c0de", "make book PROFILE=smoke")
NAME = VARIANT.name  # a variant name of the form the workflow makes


def fake_variant(folder: Path) -> Path:
    for name, data in {
        "variant.json": json.dumps(VARIANT.to_json()),
        "manifest.json": "{}",
        "checkpoints/blue.pt": bytes(range(256)) * 40,
        "logs/blue.txt": "trained\n",
        "pages/table1.csv": "model,mse\nblue,0.04\n",
    }.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data if isinstance(data, bytes) else data.encode())
    return folder


def files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def snapshot(root: Path) -> dict[str, tuple]:
    """Every path under `root` (links not followed): its type, and a file's bytes and mtime or a link's target.
    A folder's own time is left out: it moves when the temporary folder comes and goes; its entries are compared."""
    out = {}
    for folder, dirs, names in os.walk(root):
        for name in dirs + names:
            path = Path(folder) / name
            st_ = path.lstat()
            kind = stat.S_IFMT(st_.st_mode)
            data = path.read_bytes() if stat.S_ISREG(kind) else os.readlink(path) if stat.S_ISLNK(kind) else None
            out[path.relative_to(root).as_posix()] = (kind, data, None if stat.S_ISDIR(kind) else st_.st_mtime_ns)
    return out


@cache
def modules() -> dict:
    return archive.module_fingerprints()


def regular(name: str, data: bytes = b"x") -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


def special(name: str, kind: bytes, link: str = "") -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, link
    return info, b""


def listing(members) -> dict:
    return {i.name: {"size": len(d), "sha256": hashlib.sha256(d).hexdigest()} for i, d in members}


def hand_made(path: Path, variant: object = NAME, members=(), listed: dict | None = None, **more) -> Path:
    """A tar archive written by hand: an index naming `variant` and listing `listed` (by default each member
    with its size and sha256), then the `members` ((TarInfo, bytes) pairs); `more` goes into the index."""
    listed = listing(members) if listed is None else listed
    index = {"format": archive.ARCHIVE_FORMAT, "variant": variant, "modules": modules(), "files": listed, **more}
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        for info, data in [regular(archive.INDEX, json.dumps(index).encode()), *members]:
            tar.addfile(info, io.BytesIO(data) if info.isreg() else None)
    return path


@pytest.fixture
def packed(tmp_path) -> tuple[Path, Path]:
    variant = fake_variant(tmp_path / "built" / NAME)
    out = tmp_path / "smoke.tar"
    archive.pack(variant, out)
    return variant, out


def test_a_restored_variant_is_the_packed_one(packed, tmp_path):
    variant, out = packed
    target = archive.restore(out, tmp_path / "build", expected=NAME)
    packed = {name: data for name, data in files(variant).items() if name != "variant.json" and "pages/" not in name}
    assert target == tmp_path / "build" / NAME and files(target) == packed  # variant.json, pages: the workflow's
    assert archive.restore(out, tmp_path / "build") == target  # again: the same files, nothing to do
    (target / "variant.json").write_text("{}")  # as the workflow writes it from the reader's own settings
    assert archive.restore(out, tmp_path / "build") == target
    assert archive.read_index(out)["files"]["checkpoints/blue.pt"]["size"] == 10240
    assert [p.name for p in (tmp_path / "build").iterdir()] == [NAME]  # no temporary folder left


def test_restore_dates_outputs_after_their_inputs(packed, tmp_path):
    target = archive.restore(packed[1], tmp_path / "build")
    t = {name: (target / name).stat().st_mtime for name in ("manifest.json", "checkpoints/blue.pt", "logs/blue.txt")}
    assert t["manifest.json"] < t["checkpoints/blue.pt"] < t["logs/blue.txt"]


def test_a_truncated_archive_is_one_line_and_writes_nothing(packed, tmp_path):
    _, out = packed
    cut = tmp_path / "cut.tar"
    cut.write_bytes(out.read_bytes()[: out.stat().st_size // 2])
    with pytest.raises(UserError, match="cut short|truncated") as info:
        archive.restore(cut, tmp_path / "build")
    assert "\n" not in str(info.value)
    assert not (tmp_path / "build").exists() or not any((tmp_path / "build").iterdir())


def altered(out: Path) -> Path:
    data = bytearray(out.read_bytes())
    data[data.find(bytes(range(256))) + 7] ^= 0xFF  # inside checkpoints/blue.pt
    path = out.with_name("altered.tar")
    path.write_bytes(bytes(data))
    return path


def test_an_altered_archive_is_refused(packed, tmp_path):
    with pytest.raises(UserError, match=r"checkpoints/blue.pt does not match its sha256: the archive was altered"):
        archive.restore(altered(packed[1]), tmp_path / "build")
    assert not (tmp_path / "build" / NAME).exists()


@pytest.mark.parametrize("damage", ["truncated", "altered"])
def test_an_existing_folder_does_not_pass_a_damaged_archive_as_checked(packed, tmp_path, damage):
    """Restoring over the same variant still reads the whole archive: a damaged one is refused."""
    _, out = packed
    archive.restore(out, tmp_path / "build")
    bad = altered(out) if damage == "altered" else tmp_path / "cut.tar"
    if damage == "truncated":
        data = out.read_bytes()
        bad.write_bytes(data[: data.find(b"trained\n") + 3])  # inside the last member
    before = snapshot(tmp_path)
    with pytest.raises(UserError, match="truncated or damaged|altered") as info:
        archive.restore(bad, tmp_path / "build")
    assert "\n" not in str(info.value) and snapshot(tmp_path) == before


def test_an_archive_of_other_training_code_names_what_differs(packed, tmp_path, monkeypatch):
    variant, _ = packed
    theirs = archive.module_fingerprints()
    theirs["colorlib.train"] = "0" * 16
    monkeypatch.setattr(archive, "module_fingerprints", lambda root=None: theirs)
    out = tmp_path / "other.tar"
    archive.pack(variant, out)
    monkeypatch.undo()
    with pytest.raises(UserError, match=r"was trained by other code .*: colorlib.train differ"):
        archive.restore(out, tmp_path / "build")


def test_restore_never_overwrites_another_build(packed, tmp_path):
    _, out = packed
    other = fake_variant(tmp_path / "build" / NAME)
    (other / "logs" / "blue.txt").write_text("another run\n")
    before = snapshot(tmp_path)
    with pytest.raises(UserError, match="already holds a build that differs"):
        archive.restore(out, tmp_path / "build")
    assert snapshot(tmp_path) == before


def test_an_old_archive_or_variant_folder_says_what_to_do_in_one_line(packed, tmp_path):
    """Archives and variant folders of the previous form (variant format 1, ten-digit keys) are met with one line."""
    variant, out = packed
    index = json.loads(tarfile.open(out).extractfile(archive.INDEX).read())
    old = hand_made(tmp_path / "old.tar", members=GOOD)
    with tarfile.open(old, "w") as tar:
        data = json.dumps(index | {"format": "colorlib-archive/1", "commit": "abc123"}).encode()
        tar.addfile(regular(archive.INDEX, data)[0], io.BytesIO(data))
    with pytest.raises(UserError, match=r"colorlib-archive/1 archive, of an older colorlib: .* commit \(abc123\)"):
        archive.restore(old, tmp_path / "build")
    info = json.loads((variant / "variant.json").read_text()) | {"format": "colorlib-variant/1"}
    (variant / "variant.json").write_text(json.dumps(info))
    with pytest.raises(UserError) as err:
        archive.pack(variant, tmp_path / "again.tar")
    assert str(err.value) == (
        f"{variant} was built by an older colorlib (colorlib-variant/1): build it anew with "
        "`make book PROFILE=smoke` (a new folder), or check out the commit that built it"
    )
    assert not (tmp_path / "build").exists() and not (tmp_path / "again.tar").exists()


def test_a_file_that_is_no_archive_is_one_line(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    for path, said in ((tmp_path / "notes.txt", "not a readable colorlib archive"), (tmp_path / "no.tar", "not found")):
        proc = subprocess.run([sys.executable, "-m", "colorlib", "archive", "restore", str(path), str(tmp_path)],
                              capture_output=True, text=True)  # fmt: skip
        assert proc.returncode == 2 and said in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


# --- hand-made archives: a stranger's input --------------------------------------------------------------

GOOD = [regular("variant.json", b"{}"), regular("logs/blue.txt", b"trained\n")]
REFUSED = {
    "absolute variant": dict(variant="/tmp/colorlib-evil", members=GOOD),
    "'..' variant": dict(variant=f"../{NAME}", members=GOOD),
    "'..' alone": dict(variant="..", members=GOOD),
    "empty variant": dict(variant="", members=GOOD),
    "'.' variant": dict(variant=".", members=GOOD),
    "variant of two components": dict(variant=f"{NAME}/pages", members=GOOD),
    "variant not a string": dict(variant=["x"], members=GOOD),
    "'../x' member": dict(members=[*GOOD, regular("../x")]),
    "'logs/../../x' member": dict(members=[*GOOD, regular("logs/../../x")]),
    "absolute member": dict(members=[*GOOD, regular("/tmp/colorlib-evil.py")]),
    "unlisted '../x' member": dict(members=[*GOOD, regular("../x")], listed=listing(GOOD)),
    "unlisted absolute member": dict(members=[*GOOD, regular("/tmp/colorlib-evil.py")], listed=listing(GOOD)),
    "symlink member": dict(members=[*GOOD, special("logs/link", tarfile.SYMTYPE, "/etc")]),
    "hard-link member": dict(members=[*GOOD, special("logs/hard", tarfile.LNKTYPE, "variant.json")]),
    "device member": dict(members=[*GOOD, special("logs/dev", tarfile.CHRTYPE)]),
    "fifo member": dict(members=[*GOOD, special("logs/fifo", tarfile.FIFOTYPE)]),
    "folder member": dict(members=[*GOOD, special("logs/sub", tarfile.DIRTYPE)]),
    "duplicate member": dict(members=[*GOOD, regular("logs/blue.txt", b"trained\n")]),
    "member not in the index": dict(members=GOOD, listed={"variant.json": {"size": 2, "sha256": "0" * 64}}),
    "member larger than its index entry": dict(
        members=[*GOOD, regular("logs/green.txt", b"0123456789")],
        listed={
            "variant.json": {"size": 2, "sha256": "0"},
            "logs/blue.txt": {"size": 8, "sha256": "0"},
            "logs/green.txt": {"size": 4, "sha256": "0"},
        },  # fmt: skip
    ),
    "index listing a file outside the layout": dict(
        members=GOOD, listed={"variant.json": {"size": 2, "sha256": "0"}, "../../evil.py": {"size": 1, "sha256": "0"}}
    ),
    "index listing a top-level file of no layout": dict(
        members=[*GOOD, regular("run.py")],
    ),
    "index listing a folder's name as a file": dict(members=[*GOOD, regular("logs")]),
    "member path with a backslash": dict(members=[*GOOD, regular("logs/..\\..\\x")]),
    "an executed page (HTML a book would show)": dict(members=[*GOOD, regular("pages/results.ipynb", b"<script>")]),
    "a manifest naming a photo outside the folder": dict(
        members=[*GOOD, regular("manifest.json", json.dumps({"photos": {"../../home/x/private.jpg": {}}}).encode())]
    ),
    "a manifest naming an absolute photo": dict(
        members=[*GOOD, regular("manifest.json", json.dumps({"photos": {"/etc/private.jpg": {}}}).encode())]
    ),
    "a manifest that is no manifest": dict(members=[*GOOD, regular("manifest.json", b"[1, 2]")]),
    "index whose size is no number": dict(members=GOOD, listed={"variant.json": {"size": "2", "sha256": "0"}}),
    "another variant's archive": dict(variant=f"smoke-s1-{'0' * 16}", members=GOOD),
    "a name of the older, shorter key": dict(variant="smoke-s0-0123abcdef", members=GOOD),
}


@pytest.mark.parametrize("case", REFUSED)
def test_a_hand_made_archive_is_refused_and_changes_nothing(case, tmp_path):
    out = hand_made(tmp_path / "evil.tar", **REFUSED[case])
    (tmp_path / "build").mkdir()
    before = snapshot(tmp_path)
    with pytest.raises(UserError) as info:
        archive.restore(out, tmp_path / "build", expected=NAME)
    assert "\n" not in str(info.value)
    assert snapshot(tmp_path) == before
    assert not Path("/tmp/colorlib-evil").exists() and not Path("/tmp/colorlib-evil.py").exists()


def test_an_oversized_index_is_refused_before_it_is_read(tmp_path, monkeypatch):
    out = hand_made(tmp_path / "big.tar", members=GOOD)
    monkeypatch.setattr(archive, "INDEX_LIMIT", 64)
    with pytest.raises(UserError, match=r"has an index of \d+ bytes, more than any variant's"):
        archive.restore(out, tmp_path / "build")


def test_the_good_hand_made_archive_restores(tmp_path):
    """The control of the cases above: the same members, well formed, are restored."""
    target = archive.restore(hand_made(tmp_path / "good.tar", members=GOOD), tmp_path / "build", expected=NAME)
    assert files(target) == {"logs/blue.txt": b"trained\n"}  # variant.json checked, never placed


def test_show_escapes_a_strangers_text(tmp_path, capsys):
    """`colorlib archive show` prints the maker's command as data: a terminal escape sequence in it is escaped."""
    from colorlib.cli import main

    index = {"command": "make book \x1b]0;owned\x07\x1b[2J", "commit": "c\x1b[31m", "code_fingerprint": "f"}
    assert main(["archive", "show", str(hand_made(tmp_path / "a.tar", members=GOOD, **index))]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\\x1b]0;owned\\x07" in out and "its maker says" in out


def test_a_dangling_symlink_at_the_variant_folder_is_refused_before_any_work(packed, tmp_path):
    (tmp_path / "build").mkdir()
    (tmp_path / "build" / NAME).symlink_to(tmp_path / "nowhere")
    before = snapshot(tmp_path)
    with pytest.raises(UserError, match="exists and is not a folder"):
        archive.restore(packed[1], tmp_path / "build")
    assert snapshot(tmp_path) == before


def test_an_interrupted_restore_leaves_no_temporary_folder(packed, tmp_path, monkeypatch):
    monkeypatch.setattr(archive, "_copy", mock.Mock(side_effect=KeyboardInterrupt))
    (tmp_path / "build").mkdir()
    with pytest.raises(KeyboardInterrupt):
        archive.restore(packed[1], tmp_path / "build")
    assert list((tmp_path / "build").iterdir()) == []


component = st.one_of(
    st.sampled_from(["..", ".", "", "pages", "logs", "checkpoints", "variant.json", "/", "/tmp", "a\\b", "é"]),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=6),
)
path_text = st.lists(component, min_size=1, max_size=4).map("/".join)
variant_name = st.one_of(st.just(NAME), path_text, st.builds(lambda p: f"{NAME}/{p}", path_text))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(variant=variant_name, names=st.lists(path_text, min_size=1, max_size=4))
def test_no_archive_writes_outside_its_variant_folder(tmp_path_factory, variant, names):
    """Whatever the names, restore either puts every file under build/<a valid variant> or refuses with a
    UserError, and nothing else in the tree changes."""
    root = tmp_path_factory.mktemp("any")
    (root / "build").mkdir()
    try:
        out = hand_made(root / "any.tar", variant, [regular(n, n.encode("utf-8", "replace")) for n in names])
    except (ValueError, UnicodeError):  # a name tarfile cannot write
        return
    before = snapshot(root)
    with mock.patch.object(archive, "code_differences", lambda index: []):
        try:
            target = archive.restore(out, root / "build")
        except UserError:
            assert snapshot(root) == before
            return
    assert target.parent == root / "build" and archive.VARIANT_NAME.fullmatch(target.name)
    changed = {k for k in snapshot(root).keys() | before.keys() if snapshot(root).get(k) != before.get(k)}
    assert all(k.startswith(f"build/{target.name}") for k in changed) and f"build/{target.name}" in changed


def test_the_command_refuses_another_variant_before_writing(tmp_path):
    """`restore --config` (what `make book FROM=` runs) computes the variant the settings make first."""
    photos = tmp_path / "photos"
    photos.mkdir()
    (photos / "a.jpg").write_bytes(b"x")
    out = hand_made(tmp_path / "other.tar", members=GOOD)
    before = snapshot(tmp_path)
    cmd = [sys.executable, "-m", "colorlib", "archive", "restore", str(out), str(tmp_path / "build"),
           "--config", "profile=smoke", f"data={photos}"]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 2 and proc.stdout == "" and len(proc.stderr.strip().splitlines()) == 1
    assert f"the archive holds variant {NAME}, but these settings make smoke-s0-" in proc.stderr
    assert snapshot(tmp_path) == before


def test_make_archive_keeps_an_existing_file_unless_forced(packed, tmp_path):
    variant, _ = packed
    out = tmp_path / "mine.txt"
    out.write_text("keep me")
    cmd = ["make", "-s", "-C", str(REPO), "-o", f"{VENV}/.installed", "archive", f"VENV={VENV}", f"VARIANT={variant}"]
    proc = subprocess.run([*cmd, f"OUT={out}"], capture_output=True, text=True)
    assert proc.returncode == 2 and f"colorlib: error: {out} exists: name another OUT" in proc.stderr
    assert out.read_text() == "keep me"
    subprocess.run([*cmd, f"OUT={out}", "FORCE=1"], check=True, capture_output=True)
    assert archive.read_index(out)["variant"] == NAME


def test_the_book_rebuilds_from_an_archive_without_training(smoke_book, tmp_path):
    """`make archive` in the smoke book, then `make book FROM=` in a fresh copy: nothing is trained, the pages
    are executed anew from the restored models (none a stranger executed is shown), with the same numbers."""
    out = tmp_path / "smoke.tar"
    make(smoke_book, "archive", f"OUT={out}")
    fresh = copy_repo(tmp_path / "fresh")
    proc = make(fresh, "book", f"FROM={out}")
    ran = jobs_run(proc)
    assert "train" not in ran and "prepare" not in ran and ran.get("results_page") == 1, ran
    assert ran.get("book") == 1, proc.stdout[-2000:]
    table = "build/latest/pages/table1.md"
    assert (fresh / table).read_text() == (smoke_book / table).read_text()
    assert (fresh / "_build" / "html" / "book" / "generated" / "results.html").is_file()
    # the settings must name the archive's variant
    wrong = make(fresh, "book", f"FROM={out}", "SEED=5", check=False)
    assert wrong.returncode != 0 and "the archive holds variant" in wrong.stderr + wrong.stdout
    with tarfile.open(out) as tar:
        assert tar.getnames()[0] == "colorlib-archive.json"
    assert VENV.exists()


# --- make verify ---------------------------------------------------------------------------------------


def test_verify_retrains_a_model_bit_identically(smoke_book):
    proc = make(smoke_book, "verify", "MODEL=green")
    assert "green: bit-identical to the published model (every weight equal, 30 batches retrained)" in proc.stdout


def test_verify_reports_how_far_a_different_model_lies(smoke_book, tmp_path):
    """A published checkpoint whose weights were nudged is not what its settings train: verify says so."""
    import shutil

    import torch

    variant = tmp_path / "variant"
    shutil.copytree((smoke_book / "build" / "latest").resolve(), variant)
    path = variant / "checkpoints" / "green.pt"
    state = torch.load(path, weights_only=False)
    key = next(k for k, v in state["model"].items() if v.is_floating_point())
    state["model"][key] = state["model"][key] * 1.5
    torch.save(state, path)
    proc = subprocess.run([sys.executable, "-m", "colorlib", "verify", str(variant), "green"],
                          capture_output=True, text=True, cwd=smoke_book)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "green: not bit-identical; validation MSE published 0." in proc.stdout
    assert "no measured band at these settings" in proc.stdout  # the smoke profile has none


def test_verify_names_a_model_that_is_not_there(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "colorlib", "verify", str(tmp_path), "purple"],
                          capture_output=True, text=True)  # fmt: skip
    assert proc.returncode == 2 and "MODEL must be one of blue" in proc.stderr
