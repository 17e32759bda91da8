# Training: one rule and one command (`colorlib train`) for every run, the paper's six and the study's.
# A run's output is its log; its checkpoint is written beside it as training goes, so an interrupted
# run resumes where it stopped (Snakemake would delete an output it considers incomplete). The rule
# lists no code: the fingerprint of the code training runs (colorlib.fingerprint) is part of the
# variant's key, so code that can move a number trains in a new variant folder beside the old one,
# going back to the old code finds the old runs, and a comment or docstring edit retrains nothing.

TRAINING = plan.training_runs()


rule train:
    """One training run: its spec (a set of a manifest, a seed, a loss and the variant's recipe, colorlib.spec)
    read by `colorlib train --spec`, run as an argument list (no shell), in the SLURM job where the cluster
    profile sends it."""
    input: manifest=lambda w: TRAINING[w.log].manifest, spec=lambda w: TRAINING[w.log].spec
    output: "{log}"
    wildcard_constraints: log="|".join(map(re.escape, TRAINING))
    threads: int(plan.variant.train["threads"])
    resources: **plan.run_resources()
    params: shown=lambda w: TRAINING[w.log].shown(PHOTOS)
    message: "train: {params.shown}"
    run:
        TRAINING[wildcards.log].run(PHOTOS)
