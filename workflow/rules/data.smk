# Data: the variant's records, then the photo manifest (the data report, the splits and their hashes).

RECORDS = plan.records()


rule record:
    """variant.json (the variant's settings and the `make` command that rebuilds it) and each training run's
    spec (the settings `colorlib train --spec` reads), written as the plan computed them."""
    output: "{record}"
    wildcard_constraints: record="|".join(map(re.escape, RECORDS))
    params: text=lambda w: RECORDS[w.record]
    run:
        from colorlib.files import atomic_write_text

        atomic_write_text(Path(output[0]), params.text)


rule prepare:
    """Scan the photo folder (cached by content), report on it and draw the variant's sets."""
    input: plan.code("data")
    output: manifest=MANIFEST, report=VARIANT_DIR / "data-report.txt"
    params: split=plan.prepare_options(), cache=plan.settings["cache"]
    shell:
        "colorlib prepare {PHOTOS:q} --out {output.manifest} {params.split} --cache {params.cache:q}"
        " > {output.report} && cat {output.report}"
