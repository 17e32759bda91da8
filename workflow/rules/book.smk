# The book: the executed pages copied into book/generated (which _toc.yml points at) with fresh times,
# and the book built afresh, so a switch between variants can never leave a page of the other one
# behind. And the speed benchmarks, on the variant's manifest (never part of the tests).

BOOK_SRC = ["_config.yml", "_toc.yml", *sorted(map(str, Path("book").glob("*.md"))),
            *sorted(map(str, Path("book/_static").glob("*"))),
            *sorted(map(str, Path("book/_ext").glob("*.py")))]  # fmt: skip
# MathJax 3's TeX-to-SVG bundle (one file, its fonts inside) and the TeX extensions it loads on demand,
# where `npm ci` installed the version package-lock.json pins; the book serves them as _static/mathjax.
# The graph looks at the disk here because Node is the machine's, not the build's: without npm the
# book is still built, with its formulas as TeX, and says so.
MATHJAX = Path("node_modules/mathjax/es5")
MATHJAX_INPUT = [str(MATHJAX / "tex-svg.js")] if (MATHJAX / "tex-svg.js").is_file() else []


rule book:
    """Jupyter Book over the executed pages, with MathJax (without npm the formulas show as TeX, and
    the build says so); build/latest then names the variant it shows."""
    input: plan.book_pages(), VARIANT_DIR / "variant.json", BOOK_SRC, MATHJAX_INPUT
    output: "_build/html/index.html"
    params: jb=plan.settings["jb_flags"], build=plan.settings["build"], mathjax="book/generated/static/mathjax"
    shell:
        "rm -rf book/generated _build/html _build/.doctrees && mkdir -p book/generated/web book/generated/static"
        " && if [ -f {MATHJAX}/tex-svg.js ]; then mkdir -p {params.mathjax}/input/tex"
        " && cp {MATHJAX}/tex-svg.js {params.mathjax}/"
        " && cp -r {MATHJAX}/input/tex/extensions {params.mathjax}/input/tex/;"
        " else echo 'warning: no MathJax in node_modules (make web needs npm): the formulas show as TeX' >&2; fi"
        " && cp -r {PAGES}/. book/generated/"
        " && colorlib publish {VARIANT_DIR} book/generated"
        " && jupyter-book build . --path-output . {params.jb}"
        " && ln -sfn {plan.variant.name} {params.build}/latest && touch {output}"


rule bench:
    """Speed benchmarks on the variant: training (reference loop against colorlib) and colorizing
    (with the variant's baseline model where it is trained)."""
    input: MANIFEST
    params: size=plan.variant.train["image_size"], baseline=VARIANT_DIR / "checkpoints" / "baseline.pt"
    shell:
        "python benchmarks/bench_train.py --manifest {MANIFEST} --json {VARIANT_DIR}/bench_train.json --image-size {params.size}"
        " && python benchmarks/bench_colorize.py --manifest {MANIFEST} --json {VARIANT_DIR}/bench_colorize.json"
        " $([ -f {params.baseline} ] && echo --checkpoint {params.baseline})"
