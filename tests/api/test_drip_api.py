"""Drip and Wait's time window through the API: a bad config is a 422 naming the step and the field;
a good one saves as sent; the palette and the forms come from the descriptors."""

from __future__ import annotations

from typing import Any

import pytest

WORKDAYS = {"mode": "window", "window_days": ["mon", "tue", "wed", "thu", "fri"],
            "window_start": "09:00", "window_end": "17:00"}


def graph(step_type: str, config: dict[str, Any]) -> dict[str, Any]:
    return {"name": "Pacing", "start": "s", "steps": {
        "s": {"type": step_type, "config": config, "next": "fin"},
        "fin": {"type": "end", "config": {}, "next": None},
    }}


@pytest.mark.parametrize(("config", "field", "message"), [
    ({"batch_size": 0, "interval_amount": 1}, "batch_size", "Must be greater than or equal to 1 and less than or "
                                                            "equal to 100000."),
    ({"interval_amount": 1}, "batch_size", "Missing data for required field."),
    ({"batch_size": 5, "interval_amount": 0}, "interval_amount", "Must be greater than or equal to 1 and less than or "
                                                                 "equal to 10000."),
    ({"batch_size": 5, "interval_amount": 1, "interval_unit": "weeks"}, "interval_unit", "Must be one of: minutes, "
                                                                                         "hours, days."),
])
def test_a_bad_drip_is_422_naming_the_step_and_field(as_user, config, field, message):
    resp = as_user("admin").post("/api/workflows", json=graph("drip", config))
    assert resp.status_code == 422, resp.json
    assert resp.json["error"]["fields"] == {f"steps.s.config.{field}": [message]}


@pytest.mark.parametrize(("config", "field"), [
    ({**WORKDAYS, "window_end": "08:00"}, "window_end"),
    ({**WORKDAYS, "window_start": "9"}, "window_start"),
    ({**WORKDAYS, "window_days": []}, "window_days"),
    ({k: v for k, v in WORKDAYS.items() if k != "window_days"}, "window_days"),
])
def test_a_bad_time_window_is_422_naming_the_step_and_field(as_user, config, field):
    resp = as_user("admin").post("/api/workflows", json=graph("wait", config))
    assert resp.status_code == 422, resp.json
    assert list(resp.json["error"]["fields"]) == [f"steps.s.config.{field}"]


def test_good_configs_save_as_sent(as_user):
    api = as_user("admin")
    drip = {"batch_size": 25, "interval_amount": 2, "interval_unit": "days"}
    resp = api.post("/api/workflows", json=graph("drip", drip))
    assert resp.status_code == 201, resp.json
    assert resp.json["graph"]["steps"]["s"]["config"] == drip
    resp = api.post("/api/workflows", json=graph("wait", WORKDAYS))
    assert resp.status_code == 201, resp.json
    assert resp.json["graph"]["steps"]["s"]["config"] == {**WORKDAYS, "unit": "minutes"}


def test_the_palette_and_forms_offer_drip_and_the_window(as_user):
    types = {t["type"]: t for t in as_user("manager").get("/api/workflows/action-types").json}
    drip = types["drip"]
    assert (drip["label"], drip["category"], drip["exits"]) == ("Drip", "Internal Tools", {"kind": "next"})
    fields = {f["name"]: f for f in drip["fields"]}
    assert fields["batch_size"]["required"] and fields["batch_size"]["min"] == 1
    assert [c["value"] for c in fields["interval_unit"]["choices"]] == ["minutes", "hours", "days"]
    wait = {f["name"]: f for f in types["wait"]["fields"]}
    assert "window" in [c["value"] for c in wait["mode"]["choices"]]
    for name in ("window_days", "window_start", "window_end"):
        assert wait[name]["shown_if"] == {"field": "mode", "in": ["window"]}
        assert wait[name]["required_if"] == {"field": "mode", "value": "window"}
    assert wait["window_start"]["kind"] == wait["window_end"]["kind"] == "time"
    assert [c["value"] for c in wait["window_days"]["item"]["choices"]] == ["mon", "tue", "wed", "thu", "fri", "sat",
                                                                            "sun"]
