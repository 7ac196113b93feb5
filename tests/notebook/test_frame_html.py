"""The notebook HTML of ig.nb frames: short ids, whole JSON, badges, nulls, long frames, determinism."""

from __future__ import annotations

import re

import pandas as pd
import pytest

import igniter_nb as ig
from igniter_nb.notebook.frame_html import IgniterFrame, frame_html, short_id, top_level_items

UUID = "ad625aaa-0f65-49f0-8600-58e0dedd9c33"


def _store_like():
    return IgniterFrame({
        "execution_id": pd.Series([UUID, "order-1001"], dtype="string"),
        "status": pd.Categorical(["waiting", "pending"]),
        "waiting_on": pd.Series(['[{"event": "billing_data_fetched", "node": "billing_data"}, '
                                 '{"event": "crm_webhook_received", "node": "crm_data"}]', "[]"], dtype="string"),
        "token": pd.Series([f"{UUID}:crm_data", None], dtype="string"),
        "started_at": pd.to_datetime([1_700_000_000_123, None], unit="ms", utc=True).as_unit("ms"),
        "age": pd.to_timedelta([7_200_000, 93_784_005], unit="ms").as_unit("ms"),
    })


def test_ids_are_short_in_the_html_and_whole_in_the_data():
    frame = _store_like()
    html = frame._repr_html_()
    assert ">ad625aaa…<" in html and f'title="{UUID}"' in html  # short on screen, whole on hover
    assert ">ad625aaa…:crm_data<" in html
    assert ">order-1001<" in html  # a readable id is left alone
    assert frame["execution_id"].iloc[0] == UUID
    cell = re.search(r'<td style="([^"]*)" title="' + UUID + '"', html)
    assert cell and "white-space:nowrap" in cell.group(1)  # an id never wraps onto several lines
    assert "ids shortened" in html


def test_json_is_whole_and_wraps_between_items_only():
    html = _store_like()._repr_html_()
    # both awaited events are on screen, each as one unbreakable line
    assert '<span style="white-space:nowrap">[{&quot;event&quot;: &quot;billing_data_fetched&quot;' in html
    assert "crm_webhook_received&quot;, &quot;node&quot;: &quot;crm_data&quot;}]</span>" in html
    assert "..." not in html


def test_times_durations_nulls_and_statuses():
    html = _store_like()._repr_html_()
    assert ">2023-11-14 22:13:20.123<" in html and "times in UTC" in html
    assert ">0 days 02:00:00<" in html and ">1 days 02:03:04.005<" in html
    assert "&lt;NA&gt;" in html and "NaN" not in html
    assert "background:#" in html and ">waiting</span>" in html  # the status is a coloured badge


def test_long_frames_show_their_first_and_last_rows():
    frame = IgniterFrame({"seq": range(500), "type": pd.Series(["node_started"] * 500, dtype="string")})
    with pd.option_context("display.max_rows", 60, "display.min_rows", 10):
        html = frame._repr_html_()
    assert html.count("<tr>") == 1 + 10 + 1  # header, 5 first, the gap, 5 last
    assert ">499<" in html and ">250<" not in html and "500 rows × 2 columns" in html


def test_html_escapes_values_and_is_deterministic():
    frame = IgniterFrame({"node": pd.Series(["<b>x</b>"], dtype="string"),
                          "payload": pd.Series(['{"html": "<script>"}'], dtype="string")})
    html = frame_html(frame)
    assert "<b>x" not in html and "<script>" not in html and "&lt;script&gt;" in html
    assert frame_html(frame.copy()) == html


def test_pandas_operations_keep_the_frame_and_plain_frames_stay_plain():
    frame = _store_like()
    assert isinstance(frame[frame["status"] == "waiting"], IgniterFrame)
    assert isinstance(frame.sort_values("started_at").head(1), IgniterFrame)
    assert type(pd.DataFrame(frame)) is pd.DataFrame


def test_top_level_items_follow_strings_and_nesting():
    assert top_level_items('[{"a": "x\\", y"}, {"b": [1, 2]}]') == ['{"a": "x\\", y"}', '{"b": [1, 2]}']
    assert top_level_items('{"a": 1, "b": "c,d"}') == ['"a": 1', '"b": "c,d"']
    assert top_level_items("[]") == ["[]"] and top_level_items("[1, 2") == ["[1, 2"]


@pytest.mark.parametrize(("text", "shown"), [(UUID, "ad625aaa…"), ("x" * 30, "x" * 23 + "…"), ("short", "short")])
def test_short_id(text, shown):
    assert short_id(text) == shown


def test_a_broken_frame_falls_back_to_pandas_html(monkeypatch):
    from igniter_nb.notebook import frame_html as module

    def boom(frame):
        raise RuntimeError("no")

    monkeypatch.setattr(module, "frame_html", boom)
    html = _store_like()._repr_html_()
    assert html is not None and "<table" in html and UUID in html
    assert ig.nb.IgniterFrame is IgniterFrame


def test_correlation_columns_are_business_keys_not_ids():
    from igniter_nb.notebook.frame_html import column_kind

    keys = pd.Series(["req-1"], dtype="string")
    assert column_kind("corr_request_id", keys) == "text" and column_kind("child_execution_id", keys) == "id"
