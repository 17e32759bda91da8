# Training: one rule and one command (`colorlib train`) for every run, the paper's six and the study's.
# A run's output is its log; its checkpoint is written beside it as training goes, so an interrupted
# run resumes where it stopped (Snakemake would delete an output it considers incomplete).

TRAINING = plan.training_runs()
RESOURCES = plan.run_resources()


rule train:
    """One training run: a set of a manifest, a seed, a loss and the variant's recipe (colorlib.train)."""
    input: lambda w: TRAINING[w.log].manifest, plan.code("train")
    output: "{log}"
    wildcard_constraints: log="|".join(map(re.escape, TRAINING))
    threads: THREADS
    resources: gpu=RESOURCES["gpu"], mem_mb=RESOURCES["mem_mb"], runtime=RESOURCES["runtime"]
    params: command=lambda w: TRAINING[w.log].command(PHOTOS)
    shell: "{params.command} > {output}.tmp && mv {output}.tmp {output}"
