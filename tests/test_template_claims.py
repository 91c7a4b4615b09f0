"""Every comparative or causal sentence of a report template is chosen by a finding's verdict (issue 21).

The checker is ``tests/template_claims.py``; the unit tests below build small templates for each case.
"""
from pathlib import Path

from template_claims import CLAIM, allowed, unguarded_claims

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"

# Sentences that contain a claim word but state no result: (template, fragment of the sentence, why).
# Keep it short and reviewed; an entry that matches nothing fails test_allow_list_has_no_stale_entries.
ALLOW: list[tuple[str, str, str]] = [
    ("macros.html", "stopped because", "a label before the tuner's recorded stop reason, which the run states"),
    # Method: how a setting is chosen (the rule), not which choice was better; the choice itself is a finding.
    ("A.html", "the rate is chosen on the training fit alone", "the selection rule (LR_RULE)"),
    ("A.html", "The chosen rate's check run is that seed's run in the appendix", "says where the rate's run is shown"),
    ("A.html", "(chosen below)", "a pointer to the lr_check finding below"),
    ("A.html", "=chosen", "the lr_check table's column header"),
    ("A.html", "BCE drop", "the definition of a table column (loss decrease over the last epochs)"),
    ("A.html", "chosen on the deepest net (below)", "a pointer to A5's learning-rate finding below"),
    ("A.html", "fewer than half of the runs fit x_train", "the stated rule for a depth that is not judged"),
    ("D.html", "over more steps from x₀", "a figure caption: what the right panel shows"),
    ("D.html", "Classify as 0 if the output is smaller than 0", "the assignment's rule, quoted, and how it is applied"),
    ("D.html", "Why XOR and XNOR need a hidden layer", "a proof (mathematics), not a measurement"),
    ("D.html", "because the one-hot label sums to 1", "a derivation step (mathematics)"),
    ("D.html", "Hence … where the last step uses", "a derivation step (mathematics)"),
    ("D.html", "Worst relative error on", "the label of a measured maximum, printed with its value"),
    ("D.html", "Chosen (highest validation accuracy)", "the tuner's rule and its recorded choice"),
    ("D.html", "shorter than D6's", "the stated length of the benchmark's schedule (a setting)"),
    ("D.html", "one seed per row, so the interval covers the validation sample",
     "states what the interval measures (its limitation)"),
    ("D.html", "Verdict: \"helps\" when the whole interval is above 0", "the verdict rule, defined first"),
    ("d5.html", "Hyperparameters for (e), chosen on a validation split", "a heading: the method (which split chooses)"),
    ("d5.html", "is not compared and cannot be chosen", "the fit-check rule"),
    ("d5.html", "Chosen (lowest validation error among the candidates that fitted)", "the selection rule"),
    ("d5.html", "The chosen MLP", "names the selected model whose training is described"),
    ("d5.html", "never used to choose or stop", "says the test set chose nothing"),
    ("C.html", "Where a hyperparameter is chosen (C3, C10)", "method: which split chooses"),
    ("C.html", "under-fitting = not unstable", "the definition of the under-fitting verdict"),
    ("C.html", "it does not say why, and no run here tests a reason", "says the cause is not measured"),
    ("C.html", "Over-fitting: choose the amount of training on a validation split", "remedies: general advice"),
    ("C.html", "use more data or data augmentation", "remedies: general advice"),
    ("C.html", "Under-fitting: train longer or with a larger", "remedies: general advice"),
    ("C.html", "use a mean rather than a summed loss", "remedies: general advice"),
    ("C.html", "for the unstable runs, lower the learning rate", "remedies: general advice"),
    ("C.html", "λ was chosen on a validation split", "method"),
    ("C.html", "the rule takes the highest validation accuracy", "the rule; the finding follows"),
    ("C.html", "stopped once the validation accuracy had not improved", "Keras' EarlyStopping rule, defined"),
    ("C.html", "=(best validation accuracy …).", "the recorded score of the chosen setting"),
    ("C.html", "the two timed in turn, best of", "method of the timing measurement"),
    ("C.html", "Each model is represented by one setting, chosen without the test set", "the selection rule"),
    ("C.html", "=chosen setting", "a table header"),
    ("C.html", "The MLP chosen the same way is model", "names the model the rule selected"),
    ("C.html", "By the formula (table: appendix, C8), the weight (and multiplication)", "arithmetic of a formula"),
    ("C.html", "on CPUs/GPUs the gain can be smaller than the arithmetic ratio", "general knowledge (labelled so)"),
    ("C.html", "so a layer of the same width can express fewer functions", "mathematics: rank of a separable filter"),
    ("C.html", "By Eckart–Young its best separable approximation", "mathematics, with the computed σ2"),
    ("C.html", "the Laplacian and its best separable approximation", "a figure's panel labels"),
    ("C.html", "The design therefore spends the parameter budget on features", "the design's intent (method)"),
    ("C.html", "Widths, dense units and learning rate were searched with KerasTuner", "method of the search"),
    ("C.html", "Every model of the space has fewer parameters than model 4", "exact parameter counts"),
    ("C.html", "no stable rate was found, and the best trial was trained anyway", "the search's record"),
    ("C.html", "by the search's rule such a rate is not chosen", "the search rule"),
    ("C.html", "Chosen: filters … (plain)", "the search's recorded choice, by its stated rule"),
    ("C.html", "fewer parameters than model 4.", "exact parameter counts"),
    ("c_answers.html", "Under-fitting (training accuracy short of the best run's",
     "the under-fitting rule, defined; the finding's interval follows"),
    ("c_answers.html", "General advice, not tested as such", "remedies: general advice, labelled so"),
    ("c_answers.html", "against under-fitting, longer training, a larger but stable", "remedies: general advice"),
    ("c_answers.html", "retrained with an L2 penalty, λ = … chosen on a validation split;",
     "method: which split chooses; the findings follow"),
    ("c_answers.html", "model 5 pools once, so its dense layer is larger", "exact parameter counts"),
    ("c_answers.html", "chosen on a validation split: filters", "the search's recorded choice, by its stated rule"),
    ("c4.html", "once a layer is (almost) all dead the output hardly depends", "the hypothesis, continued"),
    ("c4.html", "so the numpy-vs-Keras comparison is not shown", "says a comparison is missing"),
    ("c5.html", "no 1/N because the loss is summed", "a derivation step (mathematics)"),
    ("B.html", "never used to choose or stop", "says the test set chose nothing"),
    ("B.html", "stopped because: …", "the tuner's recorded stop reason"),
    ("B.html", "=best", "a table header (best seed's error)"),
    ("B.html", "=worst", "a table header (worst seed's error)"),
    ("B.html", "The median relative error was … (best …, worst …)", "a median and range over seeds, measured"),
    ("B.html", "Remedies usually proposed (not tried here)", "general advice, labelled as not tried"),
    ("B.html", "one more strength beyond that edge is tried", "method: how the grid is extended"),
    ("B.html", "The chosen strength and the unregularised baseline are then retrained", "method"),
    ("B.html", ": best strength … (… tried, … to …)", "the validation split's recorded choice and its grid"),
    ("B.html", "where f drops from 5 to 1", "the definition of the target function"),
    ("B.html", "=chosen strength", "a table header"),
    ("B.html", "better = lower test error, only when the ranges do not overlap", "the verdict rule, defined"),
    ("B.html", "The strength of each regularisation was chosen on the held-out points", "method"),
    ("B.html", "a ReLU discards half of the signal, so the variance shrinks", "theory (He et al.), labelled as such"),
    ("B.html", "whether that helps at a given l_d is what the comparisons above measure", "points to the findings"),
    ("B.html", "=worst axis", "a table header"),
    ("B.html", "=worst oblique", "a table header"),
    ("B.html", "The worst direction — not the mean — and the mass outside the cube", "the metric's definition"),
]


def sentences(source: str, **more: str) -> list[str]:
    return [c.sentence for c in unguarded_claims({"t.html": source, **more}) if c.template == "t.html"]


def test_plain_text_with_a_claim_word_is_flagged_with_its_line_and_words():
    (claim,) = unguarded_claims({"t.html": "<p>Intro.</p>\n<p>Deeper networks were <b>better</b> here.</p>"})
    assert claim.line == 2 and claim.words == ("better",)
    assert claim.sentence == "Deeper networks were better here."


def test_text_without_claim_words_and_words_inside_others_are_not_flagged():
    assert sentences("<p>The test accuracy was {{ run.metrics.acc | pct }}.</p>") == []
    assert sentences("<p>Thanksgiving, moreover, morels, lesson, whyte, nonetheless.</p>") == []
    assert sentences('<p class="better">ok</p>') == []   # attributes are not text


def test_text_in_a_branch_chosen_by_a_findings_verdict_is_not_flagged():
    src = ('{% if run.metrics.findings.depth.verdict == "better" %}Deeper was better.'
           '{% elif run.metrics.findings.depth.verdict == "worse" %}Deeper was worse.'
           '{% else %}No measurable difference.{% endif %}')
    assert sentences(src) == []


def test_names_bound_from_findings_count_set_for_and_with():
    assert sentences('{% set f = run.metrics.findings.depth %}{% if f.verdict == "better" %}better{% endif %}') == []
    assert sentences('{% set fs = run.metrics["findings"] %}{% set f = fs.depth %}'
                     '{% if f["verdict"] == "better" %}better{% endif %}') == []
    assert sentences('{% for name, f in run.metrics.get("findings", {}).items() %}'
                     '{% if f.verdict == "worse" %}worse{% endif %}{% endfor %}') == []
    assert sentences('{% with f = run.metrics.findings.a %}{% if f.verdict %}faster{% endif %}{% endwith %}') == []


def test_a_name_rebound_to_something_else_no_longer_controls():
    src = ('{% set f = run.metrics.findings.depth %}{% set f = run.metrics.depth %}'
           '{% if f.verdict == "better" %}better{% endif %}')
    assert sentences(src) == ["better"]


def test_a_verdict_of_something_that_is_not_a_finding_does_not_control():
    assert sentences('{% if c.verdict == "constant" %}It memorised, because it is constant.{% endif %}') == [
        "It memorised, because it is constant."]


def test_a_branch_on_ordered_numbers_is_flagged_even_inside_a_verdict_branch():
    assert sentences("{% if x.a > x.b %}A is better.{% endif %}") == ["A is better."]
    src = ('{% if run.metrics.findings.d.verdict == "better" %}{% if x.a >= x.b %}much faster{% endif %}'
           '{% else %}slower{% endif %}')
    assert sentences(src) == ["much faster"]
    assert sentences('{% if run.metrics.findings.d.verdict == "better" and x.a < 1 %}better{% endif %}') == ["better"]


def test_else_is_controlled_only_when_every_test_of_the_chain_reads_a_verdict():
    src = ('{% if run.metrics.findings.d.verdict == "better" %}better{% elif x.flag %}worse'
           '{% else %}no faster{% endif %}')
    assert sentences(src) == ["worse", "no faster"]


def test_branches_on_flags_computed_elsewhere_are_flagged():
    assert sentences("{% if x.narrow_worse %}The narrow network is worse.{% endif %}") == [
        "The narrow network is worse."]


def test_string_constants_that_are_printed_are_checked_and_compared_ones_are_not():
    assert sentences('{{ "faster" if x.a < x.b else "slower" }}') == ["faster", "slower"]
    assert sentences('{{ m.figure(run, "loss", "Wider nets fall lower.") }}') == ["Wider nets fall lower."]
    assert sentences('{% set s = "it chose A" %}{{ s }}') == ["it chose A"]
    assert sentences('{% if x.kind == "better" %}ok{% endif %}{{ x["more"] }}') == []
    assert sentences('{{ "faster" if run.metrics.findings.t.verdict == "better" else "not faster" }}') == []


def test_a_macro_parameter_is_a_finding_when_every_call_passes_one():
    macro = ('{% macro say(f, what) %}{% if f.verdict == "better" %}{{ what }} was better{% endif %}{% endmacro %}'
             '{{ say(run.metrics.findings.a, "A") }}')
    assert sentences(macro) == []
    assert sentences(macro, **{"other.html": '{{ m.say(x.not_a_finding, "B") }}'}) == [
        "… was better"]   # one call passes a number: the macro's branch no longer counts


def test_a_sentence_worded_as_a_hypothesis_is_not_a_claim():
    assert sentences("<p>A likely reason, not tested here: the wider net has more units.</p>") == []
    assert sentences("<p>Not tested here. The wider net has more units.</p>") == ["The wider net has more units."]
    assert sentences("<p>A hypothesis: wider is better.</p><p>General knowledge: deeper is slower.</p>") == []
    assert sentences("<p>Which experiments over-fit, and why?</p>") == []        # the assignment's question
    assert sentences("<p>Why? Because it is better.</p>") == ["Because it is better."]


def test_allow_list_removes_covered_sentences_and_reports_stale_entries():
    claims = unguarded_claims({"t.html": "<p>Lower is better for a loss.</p><p>A beats B.</p>"})
    entry, stale = ("t.html", "Lower is better", "a definition"), ("t.html", "gone", "x")
    left, unused = allowed(claims, [entry, stale])
    assert [c.sentence for c in left] == ["A beats B."] and unused == {stale}
    exact = ("t.html", "=A beats", "a header")             # "=" covers only that exact sentence
    assert [c.sentence for c in allowed(claims, [entry, exact])[0]] == ["A beats B."]


def test_claim_words_cover_the_issues_list():
    for word in ["better", "worse", "because", "so that", "so the", "why", "higher", "lower", "more", "less",
                 "falls", "rises", "paid off", "chose", "chosen", "due to", "improve", "improved", "faster",
                 "slower", "outperforms", "beats", "than"]:
        assert CLAIM.search(f"x {word.upper()} y"), word


def _real_templates() -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(TEMPLATES.glob("*.html"))}


def test_allow_list_has_no_stale_entries():
    _, unused = allowed(unguarded_claims(_real_templates()), ALLOW)
    assert not unused, f"allow-list entries that match no flagged sentence (remove them): {sorted(unused)}"


def test_every_claim_in_the_templates_is_chosen_by_a_finding():
    left, _ = allowed(unguarded_claims(_real_templates()), ALLOW)
    counts: dict[str, int] = {}
    for c in left:
        counts[c.template] = counts.get(c.template, 0) + 1
        print(c)
    print("unguarded claims per template:", counts)
    assert not left, f"{len(left)} comparative or causal sentences outside a finding's branch: {counts}"


def test_text_passed_to_a_macro_that_prints_it_only_by_verdict_is_controlled():
    macros = ('{% macro say(f, better, worse, note) %}{{ note }}: '
              '{% if f.verdict == "better" %}{{ better }}{% elif f.verdict == "worse" %}{{ worse }}{% endif %}'
              '{% endmacro %}')
    call = '{{ m.say(run.metrics.findings.a, "A is better", worse="A is worse", note="B is faster") }}'
    assert sentences(call, **{"macros.html": macros}) == ["B is faster"]   # note is printed whatever the verdict
    leaky = macros.replace("{{ note }}", "{{ better }}")                    # better is printed outside a branch
    assert sentences(call, **{"macros.html": leaky}) == ["A is better", "B is faster"]


def test_a_verdict_held_in_a_name_or_printed_by_a_macro_controls():
    assert sentences('{% set v = run.metrics.findings.a.verdict %}{% if v == "better" %}better{% endif %}') == []
    assert sentences('{% set F = x.get("findings") or {} %}'
                     '{% if F.a.get("verdict") == "worse" %}worse{% endif %}') == []
    helper = ('{% macro verdict(x, name) -%}{{ ((x.get("findings") or {}).get(name) or {}).get("verdict", "none") }}'
              '{%- endmacro %}')
    assert sentences(helper + '{% set v = verdict(x, "a") %}{% if v == "better" %}A is better{% endif %}') == []
    assert sentences(helper + '{% set fi, vi = verdict(x, "fit"), x.n %}{% if fi == "fits" %}faster{% endif %}'
                              '{% if vi == "better" %}better{% endif %}') == ["better"]   # vi holds a number
    assert sentences(helper + '{% if verdict(x, "a") == "better" %}A is better{% endif %}') == []
    chatty = helper.replace("{{ ((", "verdict: {{ ((")   # prints words too: not a verdict
    assert sentences(chatty + '{% set v = verdict(x, "a") %}{% if v == "better" %}A is better{% endif %}') == [
        "A is better"]
