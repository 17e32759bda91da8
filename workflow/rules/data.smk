# Data: the variant's record, then the photo manifest (the data report, the splits and their hashes).


rule variant_record:
    """variant.json: the variant's settings and the `make` command that rebuilds it."""
    output: V / "variant.json"
    params: text=plan.variant_json()
    run:
        from colorlib.files import atomic_write_text

        atomic_write_text(Path(output[0]), params.text)


rule prepare:
    """Scan the photo folder (cached by content), report on it and draw the variant's sets."""
    input: plan.code("data")
    output: manifest=MANIFEST, report=V / "data-report.txt"
    params: split=plan.variant.split, seed=plan.variant.seed, cache=plan.settings["cache"]
    shell:
        "colorlib prepare {PHOTOS:q} --out {output.manifest} --per-colour {params.split[per_colour]}"
        " --baseline {params.split[baseline]} --validation {params.split[validation]} --test {params.split[test]}"
        " --calibration {params.split[calibration]}"
        " --seed {params.seed} --cache {params.cache:q} > {output.report} && cat {output.report}"
