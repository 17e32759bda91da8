# The study beyond the paper: its own manifest (the paper's sets plus calibration photos, more baseline
# draws and the a/b axis sets), its training runs (rules/train.smk), and its page. `make book` shows the
# study when it has been trained (study=auto); `make beyond` (study=on) trains it in the same call.


rule beyond_prepare:
    """The study's manifest, drawn beside the paper's sets without touching them."""
    input: MANIFEST, plan.code("study_prepare")
    output: manifest=STUDY_DIR / "manifest.json", report=STUDY_DIR / "study-report.txt"
    params:
        split=plan.study_split, draws=" ".join(map(str, plan.study_seeds)), seed=plan.variant.seed,
        cache=plan.settings["cache"]
    shell:
        "colorlib study prepare {PHOTOS:q} --paper-manifest {MANIFEST} --out {output.manifest}"
        " --calibration {params.split[calibration]} --baseline {params.split[baseline]} --seeds {params.draws:q}"
        " --per-axis {params.split[per_axis]} --seed {params.seed} --cache {params.cache:q} > {output.report}"
        " && cat {output.report}"


rule beyond_done:
    """Every run of the study trained; records its size (it sticks) and points VARIANT_DIR/beyond at it.
    VARIANT_DIR/beyond-last.json and the link VARIANT_DIR/beyond are pointers to the study trained last, not its products, so
    they are not declared: studies of every size write them, and the next plan reads beyond-last.json to
    keep the size it names (the one place the graph follows an earlier run, so that `make book` after
    `make beyond BEYOND_IMAGE_SIZE=256` shows that study rather than training the 128 px one)."""
    input: plan.study_logs()
    output: STUDY_DIR / "study.done"
    params: size={k: plan.study[k] for k in ("image_size", "iterations")}
    run:
        from colorlib.files import atomic_write_text

        atomic_write_text(Path(output[0]), "".join(f"{r.name}\n" for r in plan.study_runs))
        atomic_write_text(VARIANT_DIR / "beyond-last.json", json.dumps(params.size) + "\n")
        link = VARIANT_DIR / "beyond"  # the study trained last here, for the notebooks' defaults
        link.unlink(missing_ok=True)
        link.symlink_to(STUDY_DIR.name)


rule beyond_page:
    """The beyond page. Once the study is trained, or is to be (study=on), notebooks/beyond.ipynb draws its
    tables and figures; before that, notebooks/beyond-not-built.ipynb writes the same page saying what is
    missing and the command that builds it (plan.beyond_template()). Why the graph looks at the disk here:
    with study=auto (make book) the page shows a study only where one was trained (STUDY_DIR/study.done), so that
    `make book` never starts the study's hours of training but shows it once `make beyond` has."""
    input:
        template=plan.beyond_template(), manifest=MANIFEST, code=plan.code("pages"),
        study=[str(plan.study_done)] if plan.beyond_page_needs_study() else []
    output: nb=PAGES / "beyond.ipynb", findings=PAGES / "findings-beyond.md"
    params: b=plan.study, profile="beyond" if plan.variant.profile == "paper" else "beyond-smoke",
        command=plan.make_command("beyond"),
        photos=f"-p data_dir {shlex.quote(PHOTOS)}" if plan.beyond_page_needs_study() else ""
    shell:
        "{PAPERMILL} {input.template} {output.nb} -p study_dir {STUDY_DIR} -p paper_manifest {MANIFEST}"
        " -p generated_dir {PAGES} -p image_size {params.b[image_size]} -p seeds {params.b[seeds]:q}"
        " -p axis_seeds {params.b[axis_seeds]:q} -p second_loss {params.b[loss2]:q}"
        " -p second_loss_seeds {params.b[loss2_seeds]:q} -p profile {params.profile}"
        " -p build_command {params.command:q} {params.photos}"
