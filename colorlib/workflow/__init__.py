"""The Python side of the Snakemake workflow: its plan (:mod:`.plan`), archives and verification."""
