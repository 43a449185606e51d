"""The data-centre page's pure builders: PUE against target, power, inlet, summary."""

from datetime import UTC, datetime, timedelta

from layouts import datacenters

T0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
ROWS = [
    {"bucket": T0, "site": "dc-b", "pue": 1.4, "facility_kw": 700.0, "it_kw": 500.0, "inlet_temp_c": 24.0,
     "inlet_temp_max": 26.0},
    {"bucket": T0, "site": "dc-a", "pue": 1.25, "facility_kw": 1000.0, "it_kw": 800.0, "inlet_temp_c": 23.0,
     "inlet_temp_max": 25.0},
    {"bucket": T0 + timedelta(hours=1), "site": "dc-a", "pue": 1.2, "facility_kw": 960.0, "it_kw": 800.0,
     "inlet_temp_c": 23.5, "inlet_temp_max": 25.5},
]


def test_pue_has_a_line_per_site_and_the_target_line():
    fig = datacenters.pue_figure(ROWS, 1.3)
    assert [(t.name, list(t.y)) for t in fig.data] == [("dc-a", [1.25, 1.2]), ("dc-b", [1.4])]
    (target,) = fig.layout.shapes
    assert target.y0 == target.y1 == 1.3


def test_power_and_inlet_draw_two_lines_per_site():
    power = datacenters.power_figure(ROWS)
    assert [t.name for t in power.data] == ["dc-a facility", "dc-a IT", "dc-b facility", "dc-b IT"]
    assert list(power.data[1].y) == [800.0, 800.0]
    inlet = datacenters.inlet_figure(ROWS)
    assert list(inlet.data[1].y) == [25.0, 25.5]


def test_summary_marks_sites_over_target():
    table = datacenters.pue_summary({"dc-a": 1.22, "dc-b": 1.41, "dc-c": None}, 1.3)
    cells = [row.children[1] for row in table.children[1].children]
    assert [(c.children, getattr(c, "className", None)) for c in cells] == [
        ("1.220", "on-target"), ("1.410", "over-target"), ("–", None)]
