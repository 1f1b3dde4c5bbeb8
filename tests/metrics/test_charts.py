"""Server-rendered SVG charts (metrics/charts.py): accessible, escaped, deterministic, valid XML.

Every chart is parsed with ElementTree, so a test that passes also proves the markup is XML.
"""

import itertools
import math
import re
import xml.etree.ElementTree as ET

import pytest
from django.template import Context, Template
from django.utils.safestring import SafeString

from metrics.charts import (
    Series,
    bar_chart,
    fan_chart,
    format_value,
    line_chart,
    nice_ticks,
)

SVG = "{http://www.w3.org/2000/svg}"
EN = "\u2013"  # the en dash of quarter names, written so that no one mistakes it for a hyphen
QUARTERS = [
    f"{q} {y}"
    for q, y in [
        (f"Jan{EN}Mar", 2016),
        (f"Apr{EN}Jun", 2016),
        (f"Jul{EN}Sep", 2016),
        (f"Oct{EN}Dec", 2016),
        (f"Jan{EN}Mar", 2017),
    ]
]


def parse(svg):
    assert isinstance(svg, SafeString)
    return ET.fromstring(str(svg))


def texts(root):
    return [el.text for el in root.iter(f"{SVG}text")]


def funding(**overrides):
    kwargs = dict(
        title="Funding raised per quarter",
        labels=QUARTERS,
        series=[Series("Raised", [100_000, 350_000, None, 1_200_000, 800_000])],
        unit="gbp",
    )
    return line_chart(**(kwargs | overrides))


def fan(**overrides):
    kwargs = dict(
        title="Patients reached",
        years=["2027", "2028", "2029", "2030", "2031"],
        p10=[0, 20, 150, 600, 1_400],
        p50=[10, 120, 700, 2_100, 3_900],
        p90=[60, 400, 1_800, 4_700, 8_200],
        mean=[18, 170, 860, 2_400, 4_300],
        actual=[8, 140, None, None, None],
    )
    return fan_chart(**(kwargs | overrides))


def every_chart():
    return [
        funding(),
        bar_chart(title="Recruitment funnel", labels=["Applied", "Hired"], values=[40, 12]),
        fan(),
    ]


# --- numbers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [
        (0, 37, [0, 10, 20, 30, 40]),
        (0, 100, [0, 20, 40, 60, 80, 100]),
        (0, 4, [0, 1, 2, 3, 4]),
        (0, 1_234_567, [0, 500_000, 1_000_000, 1_500_000]),
        (-15, 37, [-20, -10, 0, 10, 20, 30, 40]),
        (-60, 60, [-60, -40, -20, 0, 20, 40, 60]),
        (-3, 2, [-3, -2, -1, 0, 1, 2]),
        (0, 0.7, [0, 0.2, 0.4, 0.6, 0.8]),
    ],
)
def test_nice_ticks_are_1_2_5_steps_from_zero(low, high, expected):
    assert nice_ticks(low, high) == expected


def test_whole_units_never_get_fractional_ticks():
    assert nice_ticks(0, 3, whole=True) == [0, 1, 2, 3]
    assert nice_ticks(0, 1, whole=True) == [0, 1]


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (1234, "count", "1,234"),
        (12_400, "patients", "12,400"),
        (1_200_000, "gbp", "£1.2m"),
        (2_000_000, "gbp", "£2m"),
        (350_000, "gbp", "£350k"),
        (2_500, "gbp", "£2.5k"),
        (900, "gbp", "£900"),
        (999_999, "gbp", "£1m"),
        (-5_000, "gbp", "-£5k"),
        (45, "percent", "45%"),
        (12.5, "percent", "12.5%"),
        (12, "days", "12 days"),
        (1, "days", "1 day"),
        (0, "count", "0"),
    ],
)
def test_format_value_by_unit(value, unit, text):
    assert format_value(value, unit) == text


def test_unknown_unit_is_refused():
    with pytest.raises(ValueError, match="Unknown unit"):
        funding(unit="euros")


# --- accessibility and markup ----------------------------------------------------------


@pytest.mark.parametrize("make", [0, 1, 2])
def test_svg_is_an_image_named_by_title_and_desc(make):
    root = parse(every_chart()[make])
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert root.get("width") == "100%"
    assert root.get("preserveAspectRatio") == "xMidYMid meet"
    assert re.fullmatch(r"0 0 \d+(\.\d)? \d+(\.\d)?", root.get("viewBox"))
    title_id, desc_id = root.get("aria-labelledby").split()
    children = list(root)
    assert children[0].tag == f"{SVG}title" and children[0].get("id") == title_id
    assert children[1].tag == f"{SVG}desc" and children[1].get("id") == desc_id
    assert title_id.endswith("-title") and desc_id.endswith("-desc")


def test_only_basic_svg_elements_and_no_scripts_styles_or_links():
    allowed = {"svg", "g", "title", "desc", "line", "polyline", "path", "rect", "circle"}
    allowed |= {"text", "polygon"}
    for chart in every_chart():
        root = parse(chart)
        assert {el.tag.removeprefix(SVG) for el in root.iter()} <= allowed
        for el in root.iter():
            assert "style" not in el.attrib and "class" not in el.attrib
            assert not any("href" in key for key in el.attrib)
        assert "url(" not in chart and "<script" not in chart.lower()


def test_text_is_at_least_12px_in_dark_colours_and_nhs_fonts():
    for chart in every_chart():
        root = parse(chart)
        assert root.get("font-family") == "Frutiger W01, Arial, sans-serif"
        for el in root.iter(f"{SVG}text"):
            assert float(el.get("font-size")) >= 12
            assert el.get("fill") in {"#212b32", "#4c6272"}
            assert el.get("font-family") == "Frutiger W01, Arial, sans-serif"


def test_desc_summarises_the_data_in_words():
    desc = parse(funding()).find(f"{SVG}desc").text
    assert desc == (
        f"Line chart of funding raised per quarter, {QUARTERS[0]} to {QUARTERS[4]}. "
        f"Highest: £1.2m in {QUARTERS[3]}. Latest: £800k in {QUARTERS[4]}."
    )


def test_description_is_read_before_the_summary_and_acronyms_keep_capitals():
    desc = (
        parse(funding(title="NHS sites adopting", description="Verified only"))
        .find(f"{SVG}desc")
        .text
    )
    assert desc.startswith("Verified only. Line chart of NHS sites adopting, ")


def test_every_text_is_escaped():
    nasty = '<script>alert("x")</script> & Co'
    chart = line_chart(
        title=nasty,
        labels=[nasty, "b"],
        series=[Series(nasty, [1, 2]), Series("B & b", [2, 1])],
        target_label=nasty,
        description=nasty,
    )
    assert "<script>" not in chart
    assert "&lt;script&gt;" in chart and "B &amp; b" in chart
    root = parse(chart)
    assert root.find(f"{SVG}title").text == nasty
    assert nasty in texts(root)  # the legend reads back the original text
    for make in (
        lambda: bar_chart(title=nasty, labels=[nasty], values=[None], value_labels=[nasty]),
        lambda: fan(title=nasty, years=[nasty, "b", "c", "d", "e"]),
    ):
        chart = make()
        assert "<script>" not in chart
        parse(chart)


def test_control_characters_are_dropped_so_the_xml_still_parses():
    root = parse(funding(title="Funding\x00 raised\x1b"))
    assert root.find(f"{SVG}title").text == "Funding raised"


def test_same_input_gives_same_output_and_chart_id_tells_twins_apart():
    assert funding() == funding()
    assert fan() == fan()
    first = parse(funding()).get("aria-labelledby")
    assert parse(funding(chart_id="q1")).get("aria-labelledby") != first
    assert parse(funding(chart_id="q1")).get("aria-labelledby").startswith("q1-")
    assert parse(funding(title="Other")).get("aria-labelledby") != first


# --- line chart ------------------------------------------------------------------------


def polylines(root, series="0"):
    group = next(g for g in root.iter(f"{SVG}g") if g.get("data-series") == series)
    return group, group.findall(f"{SVG}polyline")


def test_none_nan_and_inf_are_gaps_in_the_line():
    values = [1, 2, None, 4, 5, math.nan, 7, math.inf]
    root = parse(funding(labels=list("abcdefgh"), series=[Series("Raised", values)]))
    group, lines = polylines(root)
    # Runs [1, 2], [4, 5] and the lone 7 (a marker without a line).
    assert [len(line.get("points").split()) for line in lines] == [2, 2]
    assert len(list(group)) == 2 + 5  # two polylines, five markers


def test_labels_must_match_values():
    with pytest.raises(ValueError, match="5 labels"):
        funding(series=[Series("Raised", [1, 2])])


def test_series_differ_by_colour_and_marker_shape():
    values = [1, 2, 3]
    chart = line_chart(
        title="Six",
        labels=["a", "b", "c"],
        series=[Series(f"S{k}", values) for k in range(6)],
    )
    root = parse(chart)
    shapes, colours = [], []
    for k in range(6):
        group, lines = polylines(root, str(k))
        colours.append(lines[0].get("stroke"))
        marker = list(group)[-1]
        # Same values, so same positions: only the shape can tell the markers apart.
        shapes.append((marker.tag, marker.get("points"), marker.get("width")))
    assert colours == ["#005eb8", "#003087", "#007f3b", "#ffb81c", "#330072", "#425563"]
    assert len(set(shapes)) == 6
    with pytest.raises(ValueError, match="at most 6"):
        line_chart(title="x", labels=["a"], series=[Series(str(k), [1]) for k in range(7)])


def test_legend_only_when_there_is_something_to_tell_apart():
    assert "Raised" not in texts(parse(funding()))
    two = funding(series=[Series("Raised", [1] * 5), Series("Pledged", [2] * 5, "dashed")])
    assert {"Raised", "Pledged"} <= set(texts(parse(two)))
    with_target = texts(parse(funding(target=1_000_000, target_label="Annual goal")))
    assert "Raised" in with_target and "Annual goal" in with_target
    assert "Annual goal: £1m" in with_target


def test_target_line_extends_the_axis_and_is_labelled():
    root = parse(funding(target=2_000_000))
    assert "£2m" in texts(root)
    assert any(line.get("stroke-dasharray") == "10 4 2 4" for line in root.iter(f"{SVG}line"))


def test_projection_is_dashed_and_continues_from_the_last_real_value():
    root = parse(
        funding(
            series=[Series("Raised", [1, 2, 3, None, None])],
            projection=Series("Projected to year end", [None, None, None, 4, 5]),
        )
    )
    real = polylines(root)[1][0].get("points").split()
    _, projected = polylines(root, "projection")
    points = projected[0].get("points").split()
    assert projected[0].get("stroke-dasharray") == "6 4"
    assert points[0] == real[-1] and len(points) == 3
    assert "Projected to year end" in texts(
        parse(funding(projection=Series("Projected to year end", [None] * 5)))
    )


def test_negative_values_take_the_axis_below_zero():
    root = parse(funding(unit="count", series=[Series("Net", [5, -12, 30, None, 8])]))
    assert {"-20", "0", "30"} <= set(texts(root))


def test_many_x_labels_are_thinned_so_they_never_overlap():
    labels = [f"Week {k} of 2026" for k in range(1, 53)]
    root = parse(line_chart(title="Weekly", labels=labels, series=[Series("x", list(range(52)))]))
    shown = [el for el in root.iter(f"{SVG}text") if (el.text or "").startswith("Week ")]
    assert 2 < len(shown) < 52
    spans = sorted(
        (float(el.get("x")) - len(el.text) * 3.5, float(el.get("x")) + len(el.text) * 3.5)
        for el in shown
    )
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans))
    assert shown[0].text == "Week 1 of 2026"


@pytest.mark.parametrize(
    "series",
    [
        [Series("Raised", [None] * 5)],
        [Series("Raised", [0] * 5)],
        [Series("Raised", [math.nan] * 5)],
    ],
)
def test_empty_line_chart_says_no_data_yet(series):
    root = parse(funding(series=series))
    assert "No data yet" in texts(root)
    assert root.find(f"{SVG}desc").text.endswith("no data yet.")


def test_no_labels_at_all_says_no_data_yet():
    assert "No data yet" in texts(parse(line_chart(title="x", labels=[], series=[])))
    assert "No data yet" in texts(parse(bar_chart(title="x", labels=[], values=[])))
    assert "No data yet" in texts(parse(fan_chart(title="x", years=[], p10=[], p50=[], p90=[])))


# --- bar chart -------------------------------------------------------------------------


def test_suppressed_bar_shows_its_label_text_and_no_bar():
    chart = bar_chart(
        title="Fellows by ethnic group",
        labels=["White", "Asian", "Black", "Mixed"],
        values=[14, 6, None, None],
        value_labels=["14", "6", "fewer than 5", "fewer than 5"],
    )
    root = parse(chart)
    assert len(root.findall(f"{SVG}rect")) == 2
    assert texts(root).count("fewer than 5") == 2
    assert "Black: fewer than 5" in root.find(f"{SVG}desc").text


def test_all_suppressed_is_not_empty_but_all_zero_is():
    suppressed = bar_chart(title="x", labels=["a"], values=[None], value_labels=["fewer than 5"])
    assert "No data yet" not in texts(parse(suppressed))
    assert "No data yet" in texts(parse(bar_chart(title="x", labels=["a", "b"], values=[0, 0])))


def test_bar_lengths_are_proportional_and_horizontal_by_default():
    root = parse(bar_chart(title="Funnel", labels=["Applied", "Shortlisted"], values=[40, 10]))
    widths = [float(r.get("width")) for r in root.findall(f"{SVG}rect")]
    assert widths[0] == pytest.approx(4 * widths[1], rel=0.01)
    heights = [float(r.get("height")) for r in root.findall(f"{SVG}rect")]
    assert heights[0] == heights[1] < widths[1]


def test_vertical_bars_grow_up_from_zero():
    root = parse(
        bar_chart(title="Cohorts", labels=["2025", "2026"], values=[10, 20], horizontal=False)
    )
    a, b = root.findall(f"{SVG}rect")
    assert float(b.get("height")) == pytest.approx(2 * float(a.get("height")), rel=0.01)
    assert float(a.get("y")) + float(a.get("height")) == pytest.approx(
        float(b.get("y")) + float(b.get("height"))
    )


# --- fan chart -------------------------------------------------------------------------


def inside(point, polygon):
    """Ray casting, counting points on the boundary as inside."""
    x, y = point
    hit = False
    for (x1, y1), (x2, y2) in zip(polygon, polygon[1:] + polygon[:1], strict=True):
        if min(y1, y2) <= y <= max(y1, y2) and min(x1, x2) <= x <= max(x1, x2):
            cross = (x2 - x1) * (y - y1) - (y2 - y1) * (x - x1)
            if abs(cross) < 1e-6:
                return True
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            hit = not hit
    return hit


def pairs(points):
    return [tuple(map(float, p.split(","))) for p in points.split()]


def test_fan_band_encloses_the_median():
    root = parse(fan())
    band = next(p for p in root.iter(f"{SVG}polygon") if p.get("data-band") == "p10-p90")
    assert band.get("fill-opacity") == "0.2"
    polygon = pairs(band.get("points"))
    median = next(p for p in root.iter(f"{SVG}polyline") if p.get("data-line") == "p50")
    assert median.get("stroke-dasharray") is None
    for point in pairs(median.get("points")):
        assert inside(point, polygon)


def test_fan_mean_is_dashed_and_actuals_are_distinct_markers():
    root = parse(fan())
    mean = next(p for p in root.iter(f"{SVG}polyline") if p.get("data-line") == "mean")
    assert mean.get("stroke-dasharray") == "6 4"
    actual = [p for p in root.iter(f"{SVG}polygon") if p.get("data-point") == "actual"]
    assert len(actual) == 2 + 1  # two verified years, and the legend's swatch
    legend = texts(root)
    for entry in ("P10 to P90 (80% of outcomes)", "Median (P50)", "Mean", "Verified actual"):
        assert entry in legend


def test_fan_desc_reads_the_last_year_and_the_actuals():
    desc = parse(fan()).find(f"{SVG}desc").text
    assert desc == (
        "Forecast of patients reached, 2027 to 2031. In 2031: median 3,900, with an 80% "
        "chance of between 1,400 and 8,200. Mean 4,300. Verified actual: 8 in 2027, 140 in "
        "2028."
    )


def test_fan_without_mean_or_actuals_has_a_shorter_legend():
    legend = texts(parse(fan(mean=None, actual=None)))
    assert "Mean" not in legend and "Verified actual" not in legend


# --- template tags and PDF -------------------------------------------------------------


def test_template_tags_pass_keywords_through():
    template = Template(
        "{% load metrics_charts %}"
        '{% line_chart title=title labels=labels series=series unit="gbp" %}'
        '{% bar_chart title="Funnel" labels=labels values=values %}'
        '{% fan_chart title="Patients" years=labels p10=values p50=values p90=values %}'
    )
    html = template.render(
        Context(
            {
                "title": "Funding & more",
                "labels": ["a", "b"],
                "series": [Series("Raised", [1_000, 2_000])],
                "values": [1, 2],
            }
        )
    )
    assert html.count("<svg ") == 3
    assert "Funding &amp; more" in html and "&amp;amp;" not in html
    assert "£2k" in html


def test_weasyprint_renders_a_page_with_a_chart():
    weasyprint = pytest.importorskip("weasyprint")
    html = f"<html><body><h1>Report</h1>{funding()}{fan()}</body></html>"
    pdf = weasyprint.HTML(string=html, base_url=None).write_pdf()
    assert pdf.startswith(b"%PDF")


# --- crowding, contrast and odd input --------------------------------------------------


def contrast(hex_colour, background="#ffffff"):
    def luminance(colour):
        channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    light, dark = sorted((luminance(hex_colour), luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_every_text_colour_has_at_least_4_5_to_1_contrast_on_white():
    fills = set()
    for chart in [
        *every_chart(),
        funding(target=10),
        bar_chart(title="x", labels=["a"], values=[None]),
    ]:
        fills |= {el.get("fill") for el in parse(chart).iter(f"{SVG}text")}
    assert fills and all(contrast(fill) >= 4.5 for fill in fills)


def y_tick_labels(root):
    # Right-aligned text left of the plot (the target label is right-aligned too, at the right).
    return [
        el
        for el in root.iter(f"{SVG}text")
        if el.get("text-anchor") == "end" and float(el.get("x")) < 100
    ]


def test_y_tick_labels_never_crowd_even_under_a_tall_legend():
    series = [Series(f"A rather long series name {k}", [k, -k * 10, 60]) for k in range(6)]
    root = parse(line_chart(title="x", labels=["a", "b", "c"], series=series, target=35))
    ys = sorted(float(el.get("y")) for el in y_tick_labels(root))
    assert len(ys) >= 3
    assert all(b - a >= 24 for a, b in itertools.pairwise(ys))


def test_legend_rows_do_not_overlap_and_stay_inside_the_chart():
    series = [Series(f"A rather long series name {k}", [1, 2]) for k in range(6)]
    root = parse(line_chart(title="x", labels=["a", "b"], series=series, width=400))
    names = [el for el in root.iter(f"{SVG}text") if el.text.startswith("A rather")]
    boxes = [(float(el.get("x")), float(el.get("y"))) for el in names]
    for x, _ in boxes:
        assert x + len("A rather long series name 0") * 7 <= 400
    assert len({y for _, y in boxes}) > 1  # wrapped onto several rows
    for a, b in itertools.combinations(boxes, 2):
        assert a[1] != b[1] or abs(a[0] - b[0]) >= len("A rather long series name 0") * 7


def test_dense_lines_mark_every_kth_point_but_keep_run_ends_and_lone_points():
    values = [float(k) for k in range(100)]
    values[50] = None
    values[52] = None  # index 51 is a lone point: no line, only its marker shows it
    root = parse(
        line_chart(title="x", labels=[str(k) for k in range(100)], series=[Series("s", values)])
    )
    group, _ = polylines(root)
    xs = {round(float(m.get("cx")), 1) for m in group.findall(f"{SVG}circle")}
    assert 10 < len(xs) < 97
    ends = [0, 49, 51, 53, 99]
    plot_left, plot_right = 40, 640 - 16
    for i in ends:
        assert round(plot_left + (plot_right - plot_left) * (i + 0.5) / 100, 1) in xs


def test_target_label_is_drawn_over_the_data():
    chart = str(funding(target=500_000))
    assert chart.rindex("Target: £500k") > chart.rindex("<polyline")


def test_projection_markers_are_hollow():
    root = parse(funding(projection=Series("Projected", [None, None, None, None, 900_000])))
    group, _ = polylines(root, "projection")
    markers = group.findall(f"{SVG}circle")
    assert markers and all(m.get("fill") == "#ffffff" for m in markers)


def test_a_single_label_draws_its_marker_without_a_line():
    root = parse(line_chart(title="x", labels=["2026"], series=[Series("s", [3])]))
    group, lines = polylines(root)
    assert not lines and len(group.findall(f"{SVG}circle")) == 1
    assert "2026" in texts(root)


def test_fan_year_without_percentiles_breaks_the_band():
    root = parse(fan(p10=[0, 20, math.nan, 600, 1_400], p50=[10, 120, None, 2_100, 3_900]))
    bands = [p for p in root.iter(f"{SVG}polygon") if p.get("data-band") == "p10-p90"]
    assert len(bands) == 2


def test_mismatched_lengths_are_refused():
    with pytest.raises(ValueError, match="value_labels"):
        bar_chart(title="x", labels=["a", "b"], values=[1, 2], value_labels=["1"])
    with pytest.raises(ValueError, match="p90"):
        fan(p90=[1, 2])
    with pytest.raises(ValueError, match="style"):
        Series("x", [1], style="dotted")


def test_vertical_suppressed_bar_still_says_so():
    root = parse(
        bar_chart(
            title="x",
            labels=["a", "b"],
            values=[12, None],
            value_labels=["12", "fewer than 5"],
            horizontal=False,
        )
    )
    assert "fewer than 5" in texts(root) and len(root.findall(f"{SVG}rect")) == 1
