"""What a colorization is scored by: the paper's loss and the numbers it judged by eye (:mod:`.metrics`,
:mod:`.believability`), the trivial references every score is read against (:mod:`.no_skill`) and
bootstrap intervals over photos (:mod:`.intervals`).
"""
