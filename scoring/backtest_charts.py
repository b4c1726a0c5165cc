"""The geometry of the backtest report's two charts, drawn as inline SVG by the template (no
script, no inline style: colours come from classes in scoring/admin.css).

- Per tier: each tier's share of customers beside its share of next-period spend, for the
  current rule set and the draft. A good rule set puts far more spend than customers in its top
  tiers.
- Gains: the share of all next-period spend held by the x% highest-scored customers. The
  diagonal is what a random order would give; the higher the curve, the better the scores rank.
"""

from __future__ import annotations

WIDTH, HEIGHT = 560, 240
LEFT, RIGHT, TOP, BOTTOM = 44, 24, 12, 36


def _y(share: float) -> float:
    return round(TOP + (1 - share) * (HEIGHT - TOP - BOTTOM), 1)


def _ticks() -> list[dict]:
    return [{"y": _y(share), "label": f"{int(share * 100)}%"} for share in (0, 0.25, 0.5, 0.75, 1.0)]


def tier_bars(sides: dict, tier_names: dict[str, str]) -> dict:
    """Grouped bars per tier: customers' share, then spend share under each rule set."""
    current = sides["current"]["tiers"]
    draft = sides.get("draft")
    series = [("customers", "customer_share", current), ("current", "spend_share", current)]
    if draft:
        series.append(("draft", "spend_share", draft["tiers"]))
    plot = WIDTH - LEFT - RIGHT
    group = plot / max(len(current), 1)
    bar = group * 0.8 / len(series)
    groups = []
    for index, row in enumerate(current):
        x0 = LEFT + index * group + group * 0.1
        bars = []
        for position, (kind, key, rows) in enumerate(series):
            share = rows[index][key] or 0.0
            y = _y(share)
            bars.append(
                {
                    "kind": kind,
                    "x": round(x0 + position * bar, 1),
                    "y": y,
                    "width": round(bar - 2, 1),
                    "height": round(HEIGHT - BOTTOM - y, 1),
                    "value": round(share * 100, 1),
                }
            )
        groups.append(
            {"label": tier_names.get(row["code"], row["code"]), "x": round(x0 + group * 0.4, 1), "bars": bars}
        )
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "axis_y": HEIGHT - BOTTOM,
        "left": LEFT,
        "ticks": _ticks(),
        "groups": groups,
    }


def gains_lines(sides: dict) -> dict:
    """One polyline per rule set (and the random diagonal), x = share of customers by score."""
    plot = WIDTH - LEFT - RIGHT

    def x(fraction: float) -> float:
        return round(LEFT + fraction * plot, 1)

    lines = []
    for kind in ("current", "draft"):
        side = sides.get(kind)
        if not side:
            continue
        points = [(0.0, 0.0)] + [(fraction, value or 0.0) for fraction, value in side["gains"]]
        lines.append({"kind": kind, "points": " ".join(f"{x(f)},{_y(v)}" for f, v in points)})
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "axis_y": HEIGHT - BOTTOM,
        "left": LEFT,
        "right": WIDTH - RIGHT,
        "ticks": _ticks(),
        "x_ticks": [{"x": x(f), "label": f"{int(f * 100)}%"} for f in (0, 0.2, 0.4, 0.6, 0.8, 1.0)],
        "diagonal": f"{x(0)},{_y(0)} {x(1)},{_y(1)}",
        "lines": lines,
    }
