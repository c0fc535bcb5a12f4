"""Small SVG charts, drawn on the server: no JavaScript library, crisp at any size, readable offline."""

from __future__ import annotations

from html import escape

LABEL_CHARS = 30  # what fits left of the bars at 12-13 px


def label_lines(label: str, width: int = LABEL_CHARS) -> list[str]:
    """At most two lines, cut between words; an ellipsis when the title is longer (hover shows it all)."""
    words, lines = label.split(), [""]
    for word in words:
        candidate = f"{lines[-1]} {word}".strip()
        if len(candidate) <= width or not lines[-1]:
            lines[-1] = candidate
        else:
            lines.append(word)
    if len(lines) > 2 or any(len(line) > width for line in lines):
        lines = lines[:2]
        lines = [line if len(line) <= width else line[: width - 1] + "…" for line in lines]
        if len(" ".join(lines)) < len(label) and not lines[-1].endswith("…"):
            lines[-1] = (lines[-1][: width - 1] if len(lines[-1]) >= width else lines[-1]) + "…"
    return lines


COLORS = {"passed": "#18753c", "in_progress": "#e4794a", "not_started": "#cecece", "bar": "#000091"}


def horizontal_bars(rows: list[tuple[str, float, str]], title: str, unit: str = "%", maximum: float = 100) -> str:
    """One bar per (label, value, color key or color); values are drawn against `maximum`."""
    width, label_w, bar_h, gap = 640, 220, 22, 10
    height = 40 + len(rows) * (bar_h + gap)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{escape(title)}" '
        f'viewBox="0 0 {width} {height}" width="100%" style="max-width:{width}px">',
        f"<title>{escape(title)}</title>",
        f'<text x="0" y="18" font-size="15" font-weight="bold">{escape(title)}</text>',
    ]
    span = width - label_w - 60
    for i, (label, value, color) in enumerate(rows):
        y = 34 + i * (bar_h + gap)
        w = 0 if maximum <= 0 else max(0.0, min(1.0, value / maximum)) * span
        fill = COLORS.get(color, color)
        lines = label_lines(label)
        if len(lines) == 1:
            text = (f'<text x="{label_w - 8}" y="{y + bar_h * 0.7:.0f}" font-size="13" text-anchor="end">'
                    f"<title>{escape(label)}</title>{escape(lines[0])}</text>")
        else:
            text = (f'<text x="{label_w - 8}" y="{y + 9:.0f}" font-size="11" text-anchor="end">'
                    f"<title>{escape(label)}</title>"
                    + "".join(f'<tspan x="{label_w - 8}" dy="{0 if i == 0 else 12}">{escape(line)}</tspan>'
                              for i, line in enumerate(lines)) + "</text>")
        parts += [
            text,
            f'<rect x="{label_w}" y="{y}" width="{span}" height="{bar_h}" fill="#f0f0f0" rx="3"/>',
            f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{fill}" rx="3">'
            f"<title>{escape(label)} : {value:g}{unit}</title></rect>",
            f'<text x="{label_w + span + 6}" y="{y + bar_h * 0.7:.0f}" font-size="13">{value:g}{unit}</text>',
        ]
    parts.append("</svg>")
    return "\n".join(parts)


def histogram(values: list[float], bins: int, maximum: float, title: str) -> str:
    """Distribution of scores from 0 to `maximum` in `bins` columns."""
    width, height, pad = 640, 220, 30
    counts = [0] * bins
    for v in values:
        counts[min(bins - 1, int(bins * v / maximum)) if maximum else 0] += 1
    top = max(counts) or 1
    col = (width - 2 * pad) / bins
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{escape(title)}" '
        f'viewBox="0 0 {width} {height}" width="100%" style="max-width:{width}px">',
        f"<title>{escape(title)}</title>",
        f'<text x="0" y="16" font-size="15" font-weight="bold">{escape(title)}</text>',
    ]
    for i, count in enumerate(counts):
        h = (height - 3 * pad) * count / top
        x = pad + i * col
        low, high = maximum * i / bins, maximum * (i + 1) / bins
        parts += [
            f'<rect x="{x + 2:.1f}" y="{height - pad - h:.1f}" width="{col - 4:.1f}" height="{h:.1f}" '
            f'fill="{COLORS["bar"]}"><title>{low:g}–{high:g} : {count}</title></rect>',
            f'<text x="{x + col / 2:.1f}" y="{height - pad + 14}" font-size="11" text-anchor="middle">{low:g}</text>',
        ]
        if count:
            parts.append(
                f'<text x="{x + col / 2:.1f}" y="{height - pad - h - 4:.1f}" font-size="12" '
                f'text-anchor="middle">{count}</text>'
            )
    parts.append("</svg>")
    return "\n".join(parts)
