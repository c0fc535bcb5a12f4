"""Chart labels are never cut: two lines at most, an ellipsis beyond, the full title on hover."""

from __future__ import annotations

import re
from html import unescape

from autoformation.charts import LABEL_CHARS, horizontal_bars, label_lines

LONG = "Apprentissage automatique : statistique avec pandas et scikit-learn, de la régression aux arbres"


def test_long_labels_wrap_on_two_lines_with_an_ellipsis():
    lines = label_lines(LONG)
    assert len(lines) == 2 and all(len(line) <= LABEL_CHARS for line in lines)
    assert lines[0] == "Apprentissage automatique :" and lines[1].endswith("…")
    assert label_lines("Git") == ["Git"]
    assert label_lines("Apprentissage automatique avec pandas") == ["Apprentissage automatique avec", "pandas"]


def test_chart_keeps_the_full_title_on_hover_and_short_visible_lines():
    svg = horizontal_bars([(LONG, 40, "in_progress"), ("Git", 100, "passed")], "Exercices réussis par cours")
    assert f"<title>{LONG}</title>" in unescape(svg)
    visible = [unescape(t) for t in re.findall(r"<tspan[^>]*>([^<]*)</tspan>", svg)]
    assert visible and all(len(t) <= LABEL_CHARS for t in visible)
    assert "tique avec pandas" not in "".join(visible)[:5]  # starts at the beginning of the title
