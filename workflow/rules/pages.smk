# Pages: the notebooks executed by papermill on the variant's manifest and checkpoints. Each page
# depends on the whole package (any module may draw a figure), the data and training steps only on
# the code they run.

from colorlib.paper import GENERATED_FILES, RESULTS_FILE

WEB = plan.web


rule data_page:
    """The data page: the folder's report, duplicates, black-and-white photos, the sets (Figure 1)."""
    input: "notebooks/data.ipynb", MANIFEST, plan.code("pages")
    output: PAGES / "data.ipynb"
    shell: "{PAPERMILL} notebooks/data.ipynb {output} -p manifest {MANIFEST} -p data_dir {PHOTOS:q}"


rule train_page:
    """One training run's page: its loss curve, its photos and its predictions, read from its checkpoint
    (the page trains nothing: `train_if_missing False`)."""
    input: "notebooks/train.ipynb", VARIANT_DIR / "logs" / "{model}.txt", spec=VARIANT_DIR / "specs" / "{model}.json", code=plan.code("pages")
    output: PAGES / "train-{model}.ipynb"
    wildcard_constraints: model="|".join(TRAINED_MODELS)
    shell:
        "{PAPERMILL} notebooks/train.ipynb {output} -p spec {input.spec} -p manifest {MANIFEST}"
        " -p out_dir {VARIANT_DIR}/checkpoints -p data_dir {PHOTOS:q} -p train_if_missing False"


rule results_page:
    """Table I, the claims and Figures 1-9, from the six checkpoints; and the results as data (results.json,
    which the check, the explorer and the book's other pages read), the Markdown rendered from it and two
    pictures for the front page and the discussion (colorlib.paper.page.GENERATED_FILES)."""
    input: "notebooks/results.ipynb", plan.paper_logs(), plan.code("pages")
    output: nb=PAGES / "results.ipynb", generated=[PAGES / f for f in GENERATED_FILES]
    shell:
        "{PAPERMILL} notebooks/results.ipynb {output.nb} -p manifest {MANIFEST} -p checkpoints {VARIANT_DIR}/checkpoints"
        " -p generated_dir {PAGES} -p profile {plan.variant.profile} -p data_dir {PHOTOS:q}"


rule explorer_page:
    """The ensemble-weight explorer: the six models' predictions bundled for the page's sliders, and the
    models and runtime that colorize a reader's own photo in the page."""
    input:
        "notebooks/explorer.ipynb", plan.paper_logs(), plan.code("pages"), results=PAGES / RESULTS_FILE,
        models=WEB / "models" / "models.json", runtime=WEB / "runtime.json"
    output: nb=PAGES / "explorer.ipynb", bundle=PAGES / "explorer-data" / "explorer.json"
    shell:
        "{PAPERMILL} notebooks/explorer.ipynb {output.nb} -p manifest {MANIFEST} -p checkpoints {VARIANT_DIR}/checkpoints"
        " -p results {input.results} -p static_dir {PAGES}/explorer-data -p web_dir {WEB} -p show_widget False -p data_dir {PHOTOS:q}"


rule web_models:
    """The six trained models as ONNX files for the explorer's page (batch norm folded, weights stored as
    float16), each checked against PyTorch by onnxruntime; the book publishes the folder as colorize/."""
    input: plan.paper_logs(), plan.code("web")
    output: [WEB / "models" / f"{m}.onnx" for m in TRAINED_MODELS], index=WEB / "models" / "models.json"
    shell: "colorlib -q web models {VARIANT_DIR}/checkpoints {WEB}"


rule web_runtime:
    """onnxruntime-web's files the page loads, from node_modules (`npm ci`, which make runs where Node is
    installed); without them runtime.json says so, and so does the page. Runs again once they appear.
    Why the graph looks at the disk here: whether Node is installed is the machine's, not the build's, so
    plan.web_runtime_inputs() names node_modules' lock file only where npm left one. The copied files
    (ort/) are not declared: without npm there are none; runtime.json lists each with its sha256."""
    input: plan.code("web"), plan.web_runtime_inputs()
    output: WEB / "runtime.json"
    shell: "colorlib -q web runtime node_modules/onnxruntime-web {WEB}"


rule check_page:
    """Did it reproduce? Table I and the claims (results.json) against the reference results kept in the
    package (colorlib/paper/reference_results.toml); writes the front page's verdict too."""
    input: "notebooks/check.ipynb", PAGES / RESULTS_FILE, VARIANT_DIR / "variant.json", plan.code("pages"),
        "colorlib/paper/reference_results.toml"
    output: nb=PAGES / "check.ipynb", verdict=PAGES / "check-verdict.md"
    shell: "{PAPERMILL} notebooks/check.ipynb {output.nb} -p variant {VARIANT_DIR} -p generated_dir {PAGES}"
