"""The Python side of the Snakemake workflow: the settings, the variants they define and the folders
they name (:mod:`.variant`).
"""
