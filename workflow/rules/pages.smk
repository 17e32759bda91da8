# Pages: the notebooks executed by papermill on the variant's manifest and checkpoints. Each page
# depends on the whole package (any module may draw a figure), the data and training steps only on
# the code they run.

TRAIN_JSON = json.dumps(plan.variant.train)


rule data_page:
    """The data page: the folder's report, duplicates, black-and-white photos, the sets (Figure 1)."""
    input: "notebooks/data.ipynb", MANIFEST, plan.code("pages")
    output: PAGES / "data.ipynb"
    shell: "{PAPERMILL} notebooks/data.ipynb {output} -p manifest {MANIFEST} -p data_dir {PHOTOS:q}"


rule train_page:
    """One training run's page: its loss curve, its photos and its predictions, read from its checkpoint
    (the page trains nothing: `train_if_missing False`)."""
    input: "notebooks/train.ipynb", V / "logs" / "{model}.txt", plan.code("pages")
    output: PAGES / "train-{model}.ipynb"
    wildcard_constraints: model="|".join(TRAINED_MODELS)
    shell:
        "{PAPERMILL} notebooks/train.ipynb {output} -p dataset {wildcards.model} -p manifest {MANIFEST}"
        " -p out_dir {V}/checkpoints -p data_dir {PHOTOS:q} -y {TRAIN_JSON:q} -p train_if_missing False"


rule results_page:
    """Table I, the claims and Figures 2-9, from the six checkpoints."""
    input: "notebooks/results.ipynb", plan.paper_logs(), plan.code("pages")
    output: PAGES / "results.ipynb"
    shell:
        "{PAPERMILL} notebooks/results.ipynb {output} -p manifest {MANIFEST} -p checkpoints {V}/checkpoints"
        " -p generated_dir {PAGES} -p profile {plan.variant.profile} -p data_dir {PHOTOS:q}"


rule explorer_page:
    """The ensemble-weight explorer: the six models' predictions bundled for the page's sliders."""
    input: "notebooks/explorer.ipynb", plan.paper_logs(), plan.code("pages")
    output: PAGES / "explorer.ipynb"
    shell:
        "{PAPERMILL} notebooks/explorer.ipynb {output} -p manifest {MANIFEST} -p checkpoints {V}/checkpoints"
        " -p static_dir {PAGES}/explorer-data -p show_widget False -p data_dir {PHOTOS:q}"


rule check_page:
    """Did it reproduce? Table I and the claims (from the results page) against the reference results
    kept in the package (colorlib/paper/reference_results.toml); writes the front page's verdict too."""
    input: "notebooks/check.ipynb", PAGES / "results.ipynb", V / "variant.json", plan.code("pages"),
        "colorlib/paper/reference_results.toml"
    output: nb=PAGES / "check.ipynb", verdict=PAGES / "check-verdict.md"
    shell: "{PAPERMILL} notebooks/check.ipynb {output.nb} -p variant {V} -p generated_dir {PAGES}"
