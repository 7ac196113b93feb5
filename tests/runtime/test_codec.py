"""The snapshot value codec: JSON round trip of every supported type, tag escaping, errors, and R5 safety."""

from __future__ import annotations

import ast
import dataclasses
import datetime as dt
import enum
import io
import json
import math
import subprocess
import sys
import uuid
import zoneinfo
from decimal import Decimal
from typing import Any

import pydantic
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from igniter_nb.errors import SnapshotEncodingError
from igniter_nb.runtime import codec
from igniter_nb.runtime.codec import decode, encode, register_codec, unregister_codec


@dataclasses.dataclass(frozen=True)
class Point:
    x: int
    y: Any = None


@dataclasses.dataclass
class WithHidden:
    a: int
    hidden: str = dataclasses.field(default="x", init=False)


class Colour(enum.Enum):
    RED = "red"
    BLUE = 2


class Line(pydantic.BaseModel):
    sku: str
    qty: int
    price: Decimal
    at: dt.datetime | None = None


class Order(pydantic.BaseModel):
    id: uuid.UUID
    lines: list[Line]
    tags: tuple[str, ...] = ()


def roundtrip(value: Any) -> Any:
    return decode(json.loads(json.dumps(encode(value), allow_nan=False)))


def same(a: Any, b: Any) -> bool:
    """Equality that also treats NaN as equal to NaN and requires equal types (1 vs 1.0 vs True)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, dt.datetime):
        return a == b and a.tzinfo == b.tzinfo and a.fold == b.fold and a.utcoffset() == b.utcoffset()
    if dataclasses.is_dataclass(a):  # field by field, so a NaN field compares like a NaN value
        return all(same(getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(a))
    return bool(a == b)


# ------------------------------------------------------------------------------------------ property tests

zones = st.sampled_from([None, dt.UTC, dt.timezone(dt.timedelta(hours=-5, minutes=-30))]) | st.builds(
    zoneinfo.ZoneInfo, st.sampled_from(["Europe/Kyiv", "America/New_York", "Asia/Kolkata"])
)
hashable_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text()
    | st.dates()
    | st.datetimes(timezones=zones)
    | st.times()
    | st.timedeltas()
    | st.decimals(allow_nan=False)
    | st.uuids()
    | st.binary()
    | st.sampled_from(list(Colour))
    | st.builds(Point, st.integers(), st.text())
)
scalars = hashable_scalars | st.floats() | st.builds(bytearray, st.binary())
tag_keys = st.sampled_from(["__ig__", "items", "value", "class", "dict"]) | st.text(max_size=5)


def containers(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return (
        st.lists(children, max_size=4)
        | st.tuples(children, children)
        | st.lists(children, max_size=3).map(tuple)
        | st.dictionaries(tag_keys, children, max_size=4)
        | st.dictionaries(hashable_scalars, children, max_size=3)
        | st.sets(hashable_scalars, max_size=4)
        | st.frozensets(hashable_scalars, max_size=3)
        | st.builds(Point, st.integers(), children)
    )


values = st.recursive(scalars, containers, max_leaves=25)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values)
def test_json_roundtrip_is_identity(value: Any) -> None:
    assert same(roundtrip(value), value)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(["__ig__", "items", "x"]), st.sampled_from(["dict", "tuple", "float", 1]) | st.none()))
def test_user_dicts_that_look_like_tags_stay_user_dicts(value: dict[str, Any]) -> None:
    assert roundtrip(value) == value
    assert roundtrip([value, {"nested": value}]) == [value, {"nested": value}]


@settings(max_examples=100, deadline=None)
@given(st.builds(Order, id=st.uuids(), lines=st.lists(st.builds(Line, sku=st.text(), qty=st.integers(),
       price=st.decimals(allow_nan=False, allow_infinity=False), at=st.none() | st.datetimes(timezones=zones))),
       tags=st.lists(st.text()).map(tuple)))
def test_pydantic_models_roundtrip(order: Order) -> None:
    assert roundtrip(order) == order
    assert roundtrip({"order": [order]}) == {"order": [order]}


# ------------------------------------------------------------------------------------------ exact forms


def test_plain_json_values_encode_as_themselves() -> None:
    value = {"a": [1, 2.5, "x", None, True], "b": {"c": -0.0}}
    assert encode(value) == value
    assert encode(value) is not value


def test_non_finite_floats_roundtrip() -> None:
    encoded = encode([math.inf, -math.inf, math.nan])
    json.dumps(encoded, allow_nan=False)  # strict JSON
    out = roundtrip([math.inf, -math.inf, math.nan])
    assert out[0] == math.inf and out[1] == -math.inf and math.isnan(out[2])


def test_naive_and_aware_datetimes_keep_their_kind() -> None:
    naive = dt.datetime(2026, 3, 19, 10, 0, 0, 123456)
    kyiv = dt.datetime(2026, 10, 25, 3, 30, fold=1, tzinfo=zoneinfo.ZoneInfo("Europe/Kyiv"))
    assert roundtrip(naive).tzinfo is None
    back = roundtrip(kyiv)
    assert back == kyiv and back.tzinfo == zoneinfo.ZoneInfo("Europe/Kyiv") and back.fold == 1
    assert roundtrip(dt.time(10, 1, tzinfo=dt.UTC)) == dt.time(10, 1, tzinfo=dt.UTC)


def test_tags_have_documented_shape() -> None:
    assert encode((1, 2)) == {"__ig__": "tuple", "items": [1, 2]}
    assert encode({"__ig__": 1}) == {"__ig__": "dict", "items": [["__ig__", 1]]}
    assert encode({1: "a"}) == {"__ig__": "dict", "items": [[1, "a"]]}
    assert encode(Decimal("1.10")) == {"__ig__": "decimal", "value": "1.10"}
    assert encode(Point(1, 2)) == {"__ig__": "dataclass", "class": f"{__name__}:Point", "fields": {"x": 1, "y": 2}}
    assert encode(Colour.RED) == {"__ig__": "enum", "class": f"{__name__}:Colour", "value": "red"}


def test_sets_encode_deterministically() -> None:
    assert encode({"b", "a", "c"}) == {"__ig__": "set", "items": ["a", "b", "c"]}


def test_dataclass_with_non_init_field_roundtrips() -> None:
    obj = WithHidden(1)
    obj.hidden = "changed"
    assert roundtrip(obj) == obj and roundtrip(obj).hidden == "changed"


def test_register_codec_extension() -> None:
    class Money:
        def __init__(self, cents: int, currency: str) -> None:
            self.cents, self.currency = cents, currency

        def __eq__(self, other: object) -> bool:
            return isinstance(other, Money) and (self.cents, self.currency) == (other.cents, other.currency)

    register_codec("test.money", Money, lambda m: (m.cents, m.currency), lambda d: Money(*d))
    try:
        assert roundtrip({"price": Money(150, "EUR")}) == {"price": Money(150, "EUR")}
    finally:
        unregister_codec("test.money")
    with pytest.raises(SnapshotEncodingError, match=r"unknown tag 'test\.money'"):
        decode({"__ig__": "test.money", "value": [1, "EUR"]})
    with pytest.raises(ValueError, match="reserved"):
        register_codec("tuple", Money, lambda m: m, lambda d: d)


# ------------------------------------------------------------------------------------------ errors


def test_unsupported_value_names_type_path_and_node() -> None:
    value = {"inputs": {"order": {"items": [1, 2, lambda: 3]}}}
    with pytest.raises(SnapshotEncodingError) as info:
        encode(value, node="order_total")
    err = info.value
    assert "function" in str(err) and "inputs.order.items[2]" in str(err)
    assert err.context["node"] == "order_total" and err.context["path"] == "inputs.order.items[2]"


def test_open_file_is_refused() -> None:
    with pytest.raises(SnapshotEncodingError, match=r"StringIO at files\[0\]: open files"):
        encode([io.StringIO()], path="files")


def test_arbitrary_object_is_refused_with_hint() -> None:
    class Thing:
        pass

    with pytest.raises(SnapshotEncodingError, match="not a supported type"):
        encode({"x": Thing()}, node="n")


def test_cycles_are_reported_not_recursed() -> None:
    a: list[Any] = [1]
    a.append(a)
    with pytest.raises(SnapshotEncodingError, match=r"at \[1\]: the value contains itself"):
        encode(a)


def test_local_dataclass_is_refused_at_encode_time() -> None:
    @dataclasses.dataclass
    class Local:
        a: int

    with pytest.raises(SnapshotEncodingError, match="defined inside a function"):
        encode({"v": Local(1)}, node="n")


@dataclasses.dataclass(frozen=True)
class Überweisung:  # a class name beyond ASCII, as %%contract and Python accept
    betrag: int


def test_a_class_named_beyond_ascii_roundtrips() -> None:
    data = json.loads(json.dumps(encode({"v": Überweisung(5)}, node="n")))
    assert data["v"]["class"] == f"{__name__}:Überweisung"
    assert decode(data) == {"v": Überweisung(5)}
    for ref in ["modul:Klasse.", ":Überweisung", "a..b:C", "a:1C", "a:C-D"]:
        with pytest.raises(SnapshotEncodingError, match="not 'module:QualName'"):
            decode({"__ig__": "dataclass", "class": ref, "fields": {}})


def test_decode_refuses_classes_that_are_not_data() -> None:
    for ref in ["os:system", "subprocess:Popen", "builtins:eval", f"{__name__}:roundtrip"]:
        with pytest.raises(SnapshotEncodingError, match=r"refusing|is not"):
            decode({"__ig__": "dataclass", "class": ref, "fields": {}})
    with pytest.raises(SnapshotEncodingError, match="not 'module:QualName'"):
        decode({"__ig__": "pydantic", "class": "os; import x:y", "data": {}})
    with pytest.raises(SnapshotEncodingError, match="is not an enum"):
        decode({"__ig__": "enum", "class": f"{__name__}:Point", "value": 1})


def test_decode_reports_malformed_and_unknown_tags() -> None:
    with pytest.raises(SnapshotEncodingError, match=r"at a\.b: malformed 'datetime'"):
        decode({"a": {"b": {"__ig__": "datetime", "value": "yesterday"}}})
    with pytest.raises(SnapshotEncodingError, match="unknown tag 'pickle'"):
        decode({"__ig__": "pickle", "value": "gASV"})
    with pytest.raises(SnapshotEncodingError, match="malformed 'float'"):
        decode({"__ig__": "float", "value": "1e999"})


def test_codec_module_has_no_code_execution_primitives() -> None:
    from pathlib import Path

    files = sorted(Path(codec.__file__).parent.glob("codec*.py"))  # codec.py and the modules doing its work
    assert len(files) >= 5
    tree = ast.Module(body=[node for f in files for node in ast.parse(f.read_text(encoding="utf-8")).body],
                      type_ignores=[])
    imported = {a.name for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom)) for a in n.names}
    imported |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    called = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    assert not imported & {"pickle", "marshal", "shelve", "dill", "cloudpickle"}
    assert not called & {"eval", "exec", "compile", "__import__"}


def test_codec_does_not_import_pydantic_or_heavy_modules() -> None:
    code = "import sys, igniter_nb.runtime.codec as c; c.encode({'a': (1, 2)}); print(sorted(m for m in ('pydantic', 'pandas', 'sqlalchemy', 'redis', 'pyarrow') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def _nested(depth: int, kind: str = "dict") -> Any:
    value: Any = 1
    for _ in range(depth):
        value = {"v": value} if kind == "dict" else [value]
    return value


@pytest.mark.parametrize("kind", ["dict", "list"])
def test_values_nest_up_to_the_documented_limit_and_deeper_ones_get_a_clear_error(kind: str) -> None:
    """The depth guard is reachable: at most MAX_DEPTH nested containers round-trip, and deeper values — 340
    levels used to escape as RecursionError — raise SnapshotEncodingError naming the limit (issue 11 point 10)."""
    assert codec.MAX_DEPTH == 200
    ok = _nested(codec.MAX_DEPTH, kind)
    assert decode(json.loads(json.dumps(encode(ok)))) == ok
    for depth in (codec.MAX_DEPTH + 1, 340, 1000, 20_000):
        with pytest.raises(SnapshotEncodingError, match="nested deeper than 200 levels"):
            encode(_nested(depth, kind), path="inputs.payload")


def test_a_deep_caller_stack_gets_snapshot_encoding_error_not_recursion_error() -> None:
    def at_depth(n: int) -> Any:
        return at_depth(n - 1) if n else encode(_nested(150))

    with pytest.raises(SnapshotEncodingError, match="nested too deeply for Python's recursion limit"):
        at_depth(sys.getrecursionlimit() - 300)


def test_decoding_absurdly_deep_data_is_a_clear_error() -> None:
    deep = _nested(5000, "list")
    with pytest.raises(SnapshotEncodingError, match="nested too deeply"):
        decode(deep)
    with pytest.raises(SnapshotEncodingError, match="nested too deeply"):
        codec.decode_shared({"a": deep})


def test_the_part_tag_of_packed_store_versions_is_reserved() -> None:
    with pytest.raises(ValueError, match="'part' is empty or reserved"):
        register_codec("part", Decimal, str, Decimal)
