"""Re-running is the product: the workflow's variants, its identical numbers however it is scheduled,
its one-line errors, and the documented re-runs in sequence (README and book/rerun.md)."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from colorlib.errors import UserError
from colorlib.identity import Variant, folder_listing, photos_fingerprint
from colorlib.pages.provenance import variant_markdown
from colorlib.spec import TrainConfig, read_spec
from colorlib.workflow.plan import BEYOND_TEMPLATES, Plan, make_variant, parse_pm_args

from .conftest import REPO, SHARED_DATA, VENV, jobs_run, make

# --- variants -------------------------------------------------------------------------------------


def test_pm_args_parse_like_papermill():
    assert parse_pm_args("-p lr 0.0005 -p precision fp32") == {"lr": 0.0005, "precision": "fp32"}
    assert parse_pm_args("--parameters iterations 500") == {"iterations": 500}
    assert parse_pm_args("") == {}
    for bad in ("-p lr", "lr 0.1", "-x lr 0.1", "-p lr 0.1 -p"):
        with pytest.raises(UserError, match="pairs like"):
            parse_pm_args(bad)


def test_every_setting_that_changes_a_number_changes_the_variant(split_folder):
    base = make_variant("smoke", split_folder, 0, "", 1)
    assert base.name.startswith("smoke-s0-") and base == make_variant("smoke", split_folder, "0", "", "1")
    assert len(base.key) == 16 and base.split["seed"] == base.train["seed"] == 0
    others = [
        make_variant("paper", split_folder, 0, "", 1),
        make_variant("smoke", split_folder, 1, "", 1),
        make_variant("smoke", split_folder, 0, "-p lr 0.0005", 1),
        make_variant("smoke", split_folder, 0, "-p precision fp32", 1),
        make_variant("smoke", split_folder, 0, "", 2),
    ]
    assert len({v.name for v in [base, *others]}) == 6
    # naming a parameter at its default value is the same variant
    assert make_variant("smoke", split_folder, 0, "-p lr 0.001", 1).name == base.name
    assert base.train["threads"] == 1 and base.train["image_size"] == 64


def test_the_photos_enter_by_content_not_by_place(split_folder, tmp_path):
    copy = tmp_path / "elsewhere" / "photos"
    shutil.copytree(split_folder, copy)
    here = make_variant("smoke", split_folder, 0, "", 1)
    there = make_variant("smoke", copy, 0, "", 1)
    assert there.name == here.name and there.data != here.data
    assert photos_fingerprint(copy) == photos_fingerprint(split_folder)
    (copy / "new.jpg").write_bytes((copy / "blue0.jpg").read_bytes())
    assert make_variant("smoke", copy, 0, "", 1).name != here.name  # a photo added: a new variant
    (copy / "new.jpg").unlink()
    (copy / ".hidden").write_text("ignored")
    assert "new.jpg" not in folder_listing(copy) and ".hidden" not in folder_listing(copy)
    assert make_variant("smoke", copy, 0, "", 1).name == here.name


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("huge", "{data}", 0, ""), "unknown PROFILE 'huge'"),
        (("smoke", "{data}", "one", ""), "SEED must be a whole number"),
        (("smoke", "{data}", 0, "-p lx 3"), "PM_ARGS: 'lx' is unknown; colorlib train's settings: iterations,"),
        (("smoke", "{data}", 0, "-p dataset blue"), "PM_ARGS: 'dataset' cannot be set"),
        (("smoke", "{missing}", 0, ""), "not found: pass DATA="),
        (("smoke", "{empty}", 0, ""), "holds no files"),
    ],
)
def test_user_mistakes_are_one_line_errors(args, message, split_folder, tmp_path):
    (tmp_path / "empty").mkdir()
    paths = {"data": split_folder, "missing": tmp_path / "nowhere", "empty": tmp_path / "empty"}
    profile, data, seed, pm = args
    with pytest.raises(UserError, match=message):
        make_variant(profile, data.format(**paths), seed, pm, 1)


def test_the_study_reprepares_when_what_draws_its_sets_changes(split_folder):
    """The study's prepare step lists the study modules that draw its sets (those study/manifest.py
    imports, read from its syntax tree here) and its command line, so a change to them re-prepares it."""
    import ast

    plan = Plan.from_config({"profile": "smoke", "data": str(split_folder), "build": "unused"}, root=REPO)
    listed = plan.code("study_prepare")
    tree = ast.parse((REPO / "colorlib" / "study" / "manifest.py").read_text())
    relative = [n for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.level == 1]
    drawn_by = {f"colorlib/study/{n.module}.py" for n in relative}
    assert drawn_by and drawn_by | {"colorlib/study/manifest.py", "colorlib/build_commands.py"} <= set(listed)
    assert all((REPO / path).is_file() for path in listed)
    assert "colorlib/lab.py" in plan.code("data") and "colorlib/explorer/bundle.py" not in plan.code("data")
    with pytest.raises(ValueError, match="no step"):
        plan.code("train")  # training lists no code: its fingerprint is in the variant's key


def test_the_study_and_the_paper_train_with_one_command(split_folder):
    plan = Plan.from_config({"profile": "smoke", "data": str(split_folder), "build": "b", "threads": 2}, root=REPO)
    runs = plan.training_runs()
    assert set(plan.paper_logs()) | set(plan.study_logs()) == set(runs)
    shapes = {tuple(w for w in run.argv("photos") if w.startswith("-")) for run in runs.values()}
    assert shapes == {("-q", "--spec", "--manifest", "--data", "--out")}  # the settings are the spec file's
    records = plan.records()
    for run in runs.values():
        argv = run.argv("photos")
        assert argv[:3] == ["colorlib", "-q", "train"] and argv[argv.index("--out") + 1] == str(run.checkpoint)
        assert argv[argv.index("--spec") + 1] == str(run.spec) and json.loads(records[str(run.spec)])["threads"] == 2
        assert TrainConfig.from_dict(json.loads(records[str(run.spec)])) == run.config
        assert run.log.parent == run.spec.parent.parent / "logs" == run.checkpoint.parent.parent / "logs"


@pytest.mark.parametrize(
    ("pm_args", "message"),
    [
        ("-p lr 'x||touch {marker};'", "PM_ARGS: lr must be a finite number above 0, got 'x||touch "),
        ("-p lr x||touch${{IFS}}{marker};", "PM_ARGS: lr must be a finite number above 0, got 'x||touch"),
        ("-p precision 'fp32;touch {marker}'", "PM_ARGS: precision must be one of auto, bf16, fp32, got 'fp32;"),
        ("-p iterations '$(touch {marker})'", "PM_ARGS: iterations must be a whole number >= 1, got '$(touch"),
        ("-p lr -1", "PM_ARGS: lr must be a finite number above 0, got -1"),
        ("-p lr 1e999", "PM_ARGS: lr must be a finite number above 0, got inf"),
        ("-p image_size 60", "PM_ARGS: image_size must be a multiple of 8, got 60"),
        ("-p seed 1.5", "PM_ARGS: seed must be a whole number >= 0, got 1.5"),
    ],
)
def test_pm_args_are_checked_against_their_parameters_when_the_plan_is_made(pm_args, message, split_folder, tmp_path):
    marker = tmp_path / "MARKER"
    config = {"profile": "smoke", "data": str(split_folder), "build": str(tmp_path / "build")}
    with pytest.raises(UserError) as err:
        Plan.from_config(config | {"pm_args": pm_args.format(marker=marker)}, root=REPO)
    assert str(err.value).startswith(message) and "\n" not in str(err.value)
    assert not marker.exists() and not (tmp_path / "build").exists()


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"build": "b;touch MARKER"}, "BUILD must be a plain path"),
        ({"jb_flags": "-W 'x"}, "JB_FLAGS: No closing quotation"),
        ({"beyond_loss2": "l1;touch MARKER"}, "BEYOND_*: loss must be one of mse, l1, huber, got 'l1;touch MARKER'"),
        ({"beyond_image_size": "60"}, "BEYOND_*: image_size must be a multiple of 8, got 60"),
    ],
)
def test_settings_that_reach_a_shell_are_refused_unless_plain(setting, message, split_folder):
    with pytest.raises(UserError, match=re.escape(message)):
        Plan.from_config({"profile": "smoke", "data": str(split_folder)} | setting, root=REPO)


def test_training_runs_as_an_argument_list_and_the_recorded_command_round_trips(split_folder, tmp_path, monkeypatch):
    """A photo folder whose name is shell syntax reaches `colorlib train` as one argument, run without a
    shell; the `make` command recorded for readers (variant.json) splits back into exactly its settings."""
    photos = tmp_path / "it's $(touch MARKER); `id` here"
    shutil.copytree(split_folder, photos)
    config = {"profile": "smoke", "data": str(photos), "build": str(tmp_path / "b"), "pm_args": "-p lr 0.0005"}
    plan = Plan.from_config(config, root=REPO)
    words = ["make", "book", "PROFILE=smoke", f"DATA={photos}", "PM_ARGS=-p lr 0.0005"]
    assert shlex.split(plan.make_command("book")) == words
    assert json.loads(plan.records()[str(plan.folder / "variant.json")])["command"] == plan.make_command("book")
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda argv, **kw: calls.append((argv, kw)))
    run = next(iter(plan.training_runs().values()))
    run.log.parent.mkdir(parents=True)
    run.run(plan.variant.data)
    ((argv, kw),) = calls
    assert argv == run.argv(plan.variant.data) and argv[argv.index("--data") + 1] == str(photos)
    spec = tmp_path / "spec.json"
    spec.write_text(plan.records()[argv[argv.index("--spec") + 1]])
    assert read_spec(spec)["lr"] == 0.0005 and not kw.get("shell") and kw["env"]["OMP_NUM_THREADS"] == "1"
    assert run.log.is_file() and not (tmp_path / "MARKER").exists()


def test_the_workflow_knows_which_beyond_page_to_execute(split_folder, tmp_path):
    """The short page until the study is trained; the study's page once it is, or when make beyond trains it."""
    config = {"profile": "smoke", "data": str(split_folder), "build": str(tmp_path)}
    assert set(BEYOND_TEMPLATES.values()) == {"notebooks/beyond.ipynb", "notebooks/beyond-not-built.ipynb"}
    assert all((REPO / template).is_file() for template in BEYOND_TEMPLATES.values())
    before = Plan.from_config(config, root=REPO)
    assert before.beyond_template() == "notebooks/beyond-not-built.ipynb"
    assert Plan.from_config(config | {"study": "on"}, root=REPO).beyond_template() == "notebooks/beyond.ipynb"
    before.study_done.parent.mkdir(parents=True)
    before.study_done.write_text("")  # what rule beyond_done writes once every run is trained
    assert Plan.from_config(config, root=REPO).beyond_template() == "notebooks/beyond.ipynb"


def test_threads_are_part_of_a_runs_identity():
    one, two = TrainConfig("blue"), TrainConfig("blue", threads=2)
    assert one.identity() != two.identity()
    assert one.same_run({k: v for k, v in one.identity().items() if k != "threads"})  # older checkpoints: 1 thread
    with pytest.raises(UserError, match="threads"):
        TrainConfig("blue", threads=0)


def test_variant_page_says_where_the_numbers_were_made():
    split = {"per_colour": 24, "baseline": 864, "validation": 32, "seed": 0}
    train = {"image_size": 256, "iterations": 2000, "batch_size": 4, "threads": 1, "lr": 0.001}
    variant = Variant("paper", "/x/landscapes", "abc-3", split, train, "c0de", "make book")
    state = {"device": "cpu", "precision": "bf16", "torch_version": "2.x", "train_config": {"threads": 1}}
    text = variant_markdown(variant, [state] * 6)
    assert f"`{variant.name}`" in text and "make book" in text and "cpu (bf16, 1 thread(s) per run" in text
    assert text.startswith("| parameter | value |") and "| lr | `0.001` |" in text and "`c0de`" in text


# --- the workflow's own checks, before anything runs ------------------------------------------------


def snakemake(*config: str, target: str = "book") -> subprocess.CompletedProcess:
    cmd = [str(VENV / "bin" / "snakemake"), "-s", str(REPO / "workflow" / "Snakefile"), "-d", str(REPO), "-n",
           "--nolock", "--cores", "1", target, "--config", *config]  # fmt: skip
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=REPO)


@pytest.mark.slow
@pytest.mark.skipif(not (VENV / "bin" / "snakemake").exists(), reason="snakemake is not installed here")
@pytest.mark.parametrize(
    ("config", "message"),
    [
        (["colour=blue"], "error: unknown parameter 'colour'; known:"),
        (["profile=huge"], "error: unknown PROFILE 'huge': use paper or smoke"),
        (["pm_args=-p lx 3"], "error: PM_ARGS: 'lx' is unknown"),
        (["pm_args=-p lr -1"], "error: PM_ARGS: lr must be a finite number above 0, got -1"),
        (["data=/no/such/folder"], "error: photo folder /no/such/folder not found"),
    ],
)
def test_workflow_refuses_bad_settings_in_one_line(config, message, tmp_path):
    build, photos = tmp_path / "build", tmp_path / "photos"
    build.mkdir()
    photos.mkdir()  # every setting is checked before a photo is read: an empty folder does (a later data= wins)
    proc = snakemake(f"build={build}", f"data={photos}", *config)
    assert proc.returncode == 2
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert lines == [lines[0]] and lines[0].startswith(message), proc.stderr
    assert not any(build.iterdir()) and not any(photos.iterdir())  # nothing was made


@pytest.mark.slow
@pytest.mark.skipif(not (VENV / "bin" / "snakemake").exists(), reason="snakemake is not installed here")
@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="the shared landscape photos are not here")
def test_a_dry_run_in_a_clean_clone_writes_nothing(tmp_path):
    """Reading the workflow computes every folder and key without writing: `snakemake -n` leaves the
    clone as it was, with no build/ folder (a rule writes variant.json when the book is built)."""
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True, timeout=120)
    cmd = [str(VENV / "bin" / "snakemake"), "-s", "workflow/Snakefile", "-n", "--cores", "1", "book",
           "--config", f"data={SHARED_DATA.resolve()}", "profile=smoke", "study=on"]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=clone)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "rule record:" in proc.stdout and "beyond_page" in proc.stdout  # the study is planned in the one call
    status = subprocess.run(["git", "status", "--porcelain", "--ignored"], capture_output=True, text=True, cwd=clone)
    # only Snakemake's own bookkeeping (.snakemake/, ignored) may appear: nothing of ours, no build/
    assert [line for line in status.stdout.splitlines() if line != "!! .snakemake/"] == [], status.stdout
    assert not (clone / "build").exists()


# --- the documented re-runs, in sequence, on the smoke book --------------------------------------------


def checkpoints(variant: Path) -> dict[str, tuple[int, int]]:
    return {p.name: (p.stat().st_mtime_ns, p.stat().st_size) for p in sorted((variant / "checkpoints").glob("*.pt"))}


def table(root: Path) -> str:
    return (root / "build" / "latest" / "pages" / "table1.md").read_text()


@pytest.fixture(scope="module")
def small_folder(tmp_path_factory) -> Path:
    """Another photo folder: 400 of the shared photos (links), as a user's own folder would be."""
    folder = tmp_path_factory.mktemp("user") / "my-photos"
    folder.mkdir()
    for photo in sorted(SHARED_DATA.resolve().iterdir())[:400]:
        (folder / photo.name).symlink_to(photo)
    return folder


def test_documented_reruns_work_in_sequence(smoke_copy, small_folder):
    """make book; SEED=1; PM_ARGS=...; back to the default (nothing retrained); DATA=another folder."""
    smoke_book = smoke_copy  # its own copy: it builds other variants and books
    build = smoke_book / "build"
    default = (build / "latest").resolve()
    before = checkpoints(default)
    assert len(before) == 6

    steps = [("SEED=1", None), ("PM_ARGS=-p lr 0.0005", None), (None, None), (None, small_folder)]
    seen = {default.name}
    for setting, data in steps:
        proc = make(smoke_book, "book", *filter(None, [setting]), data=data)
        step = setting or data
        variant = (build / "latest").resolve()
        info = json.loads((variant / "variant.json").read_text())
        if step:
            assert variant.name not in seen, step  # a variant of its own
            assert jobs_run(proc)["train"] == 6 and len(checkpoints(variant)) == 6
            seen.add(variant.name)
        else:
            assert variant == default and jobs_run(proc) == {"book": 1}  # re-used: only the book is rebuilt
        assert checkpoints(default) == before  # the first variant is never touched
        assert variant.name in (smoke_book / "_build/html/book/index.html").read_text()
        assert info["profile"] == "smoke"
    assert json.loads((variant / "variant.json").read_text())["data"] == str(small_folder.resolve())
    assert len([p for p in build.iterdir() if p.name.startswith("smoke-")]) == 4


def test_same_table_one_job_at_a_time_or_two(smoke_book):
    """The smoke book's Table I is byte-identical built with CORES=1 and with every core (the fixture)."""
    two = table(smoke_book)
    proc = make(smoke_book, "pipeline", "CORES=1", "BUILD=build-one-job")
    assert jobs_run(proc)["train"] == 6
    one = (smoke_book / "build-one-job" / (smoke_book / "build/latest").resolve().name / "pages/table1.md").read_text()
    assert one == two


# --- the same workflow on a real SLURM cluster -------------------------------------------------------------


@pytest.mark.skipif(sys.platform != "linux", reason="the test cluster runs on Linux")
def test_training_runs_as_slurm_jobs_give_the_local_numbers(smoke_book):
    from .slurm_cluster import slurm_cluster

    local = table(smoke_book)
    variant = (smoke_book / "build/latest").resolve().name
    with slurm_cluster() as cluster:
        env = {**os.environ, **cluster.env}
        cmd = ["make", "-C", str(smoke_book), "-o", f"{VENV}/.installed", "pipeline", "CLUSTER=slurm",
               "BUILD=build-slurm", "PROFILE=smoke", f"VENV={VENV}", f"DATA={SHARED_DATA.resolve()}",
               f"CACHE={REPO / '.colorlib-cache'}"]  # fmt: skip
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1800, env=env)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        ids = cluster.job_ids_from(proc.stdout + proc.stderr)
    assert len(ids) >= 6, proc.stdout[-3000:]  # one SLURM job per training run
    assert (smoke_book / "build-slurm" / variant / "pages/table1.md").read_text() == local


def test_make_passes_values_on_as_text_and_never_expands_them(tmp_path):
    """A `$(shell ...)` in a value (say in a command copied from a stranger's archive) runs nothing: make hands
    the text to the workflow as it is, quoted, where the plan refuses it in one line."""
    marker = tmp_path / "marker"
    payload = f"-p lr $(shell touch {marker})0.001"
    cmd = ["make", "-n", "-C", str(REPO), "-o", f"{VENV}/.installed", "book", f"PM_ARGS={payload}", "Seed'x=1"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert not marker.exists()
    assert f"'pm_args={payload}'" in proc.stdout and "'seed'\"'\"'x=1'" in proc.stdout  # a name is quoted too
    for target, name in (("book", "FROM"), ("archive", "OUT"), ("verify", "MODEL")):
        cmd = ["make", "-n", "-C", str(REPO), "-o", f"{VENV}/.installed", target, f"{name}=$(shell touch {marker})x"]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        assert not marker.exists() and f"'$(shell touch {marker})x'" in proc.stdout, (name, proc.stdout[-800:])


def test_typed_values_run_nothing_when_recipes_run(tmp_path):
    """Not only in a dry run: make exports every command-line variable to each recipe's environment, which
    expanded a `$(shell ...)` typed in any of them before it was made plain text; and every recipe quotes
    make's own settings too (a `;` or `$(...)` in CORES, PORT or BUILD is an argument, not a command)."""
    marker = tmp_path / "marker"
    typed = [f"{name}=$(shell touch {marker}-{name})x" for name in ("PM_ARGS", "DATA", "CORES", "BUILD", "FROM")]
    proc = subprocess.run(["make", "-C", str(REPO), "help", *typed], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    check = ["make", "-C", str(REPO), "-o", f"{VENV}/.installed", "check", f"VARIANT=$$(touch {marker}-V)", *typed]
    proc = subprocess.run(check, capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0 and "is not a folder" in proc.stderr, proc.stderr[-800:]
    assert not list(tmp_path.iterdir())
    shell = [f"CORES=1; touch {marker}-C", f"BUILD=b; touch {marker}-B", f"SNAKE_ARGS=-n ; touch {marker}-S"]
    dry = ["make", "-n", "-C", str(REPO), "-o", f"{VENV}/.installed", "book", "clean-all", *shell]
    proc = subprocess.run(dry, capture_output=True, text=True, timeout=60)
    assert f"--cores '1; touch {marker}-C'" in proc.stdout and f"'b; touch {marker}-B'" in proc.stdout
    assert f"'-n' ';' 'touch' '{marker}-S'" in proc.stdout, proc.stdout[-800:]
    assert not list(tmp_path.iterdir())
