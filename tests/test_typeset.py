"""Values as words and formulas as mathematics: what the report's ``words``, ``math`` and ``imath`` filters print."""
import base64
import re

import pytest

from hwkit import typeset


@pytest.mark.parametrize("value, text", [
    (True, "yes"), (False, "no"), (None, "none"), ([2, 4, 8, 16, 32], "2, 4, 8, 16 and 32"), ([0.001], "0.001"),
    ("train_accuracy", "train accuracy"), ("a sentence_with words", "a sentence_with words"), (0.1, "0.1"),
    ({"learning_rate": 0.01, "epochs": 3}, "learning rate 0.01 and epochs 3"), ([], "none"), (("a", "b"), "a and b"),
])
def test_words_turn_python_values_into_prose(value, text):
    assert typeset.words(value) == text


def test_math_is_an_svg_of_the_formula_with_its_tex_as_alt_text():
    html = str(typeset.math(r"\frac{\partial L}{\partial W} = \delta\, x^\top"))
    assert html.startswith('<div class="math"><img src="data:image/svg+xml;base64,')
    svg = base64.b64decode(re.search(r"base64,([^\"]+)", html).group(1)).decode()
    assert svg.lstrip().startswith("<?xml") and "<path" in svg and "<script" not in svg
    assert 'alt="\\frac{\\partial L}{\\partial W} = \\delta\\, x^\\top"' in html
    # a fraction is taller than a plain symbol: the image is sized by the formula
    tall = float(re.search(r"height: ([0-9.]+)pt", html).group(1))
    flat = float(re.search(r"height: ([0-9.]+)pt", str(typeset.math("x"))).group(1))
    assert tall > 1.5 * flat


def test_inline_math_sits_on_the_baseline():
    html = str(typeset.math("x_i^2", display=False))
    assert html.startswith('<img class="imath"') and "vertical-align: -" in html
    assert float(re.search(r"vertical-align: -([0-9.]+)pt", html).group(1)) > 0   # the subscript hangs below


def test_a_formula_mathtext_cannot_parse_is_an_error():
    with pytest.raises(ValueError):
        typeset.math(r"\frac{1}{")
