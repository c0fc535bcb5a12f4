"""Fast checks of the grading boundary's pure parts: the plain-data codec and the tests' namespace."""

from __future__ import annotations

import collections
import json
import math
import pathlib

import numpy as np
import pandas as pd
import pytest

from autoformation.grading import runner, values


def roundtrip(value):
    return values.decode(json.loads(json.dumps(values.encode(value))))


@pytest.mark.parametrize("value", [
    None, True, 3, 2 ** 80, 1.5, "é", [1, [2]], (1, "a"), {1, 2}, frozenset({3}), {"a": 1, 2: (3,)},
    b"\x00\xff", 1 + 2j, range(1, 10, 2), pathlib.Path("/tmp/x"), collections.Counter("abca"),
    collections.OrderedDict(a=1), collections.deque([1, 2]),
])
def test_builtins_round_trip_with_their_exact_type(value):
    back = roundtrip(value)
    assert back == value and type(back) is type(value)


def test_non_finite_floats_round_trip():
    assert math.isnan(roundtrip(float("nan"))) and roundtrip(float("-inf")) == float("-inf")


def test_numpy_and_pandas_round_trip():
    assert type(roundtrip(np.int64(3))) is np.int64 and type(roundtrip(np.float64(0.5))) is np.float64
    array = np.arange(6, dtype="int32").reshape(2, 3)
    assert np.array_equal(roundtrip(array), array) and roundtrip(array).dtype == np.int32
    series = pd.Series([1, 1, 1], index=[5, 6, 7], name="y")
    pd.testing.assert_series_equal(roundtrip(series), series)
    frame = pd.DataFrame({"a": [1.5, np.nan], "b": ["x", None], "c": pd.to_datetime(["2024-01-01", None]),
                          "d": pd.Categorical(["u", "v"])}, index=[10, 20])
    pd.testing.assert_frame_equal(roundtrip(frame), frame)
    pd.testing.assert_frame_equal(roundtrip(frame.iloc[:0]), frame.iloc[:0])


def test_learner_subclasses_are_not_data():
    class Faux(int):
        def __eq__(self, other):
            return True

    with pytest.raises(values.NotPlain):
        values.encode(Faux(4))
    assert values.encode([Faux(4)], handle=lambda obj: {"t": "handle", "id": 1})[0]["t"] == "handle"


@pytest.mark.parametrize("data", [
    {"t": "pickle", "v": "gASVAgAAAAAAAABLBC4="}, {"t": "ndarray", "dtype": "V8", "shape": [1], "v": [0]},
    {"t": "import", "module": "os;", "v": "system"}, {"t": "import", "module": "os", "v": "__class__"},
    {"t": "float", "v": "1e999"}, {"t": "ndarray", "dtype": "int64", "shape": [3], "v": [1]},
    {"t": "handle", "id": 1}, {"x": 1},
])
def test_bad_data_is_refused(data):
    with pytest.raises((ValueError, ImportError)):
        values.decode(data)


def test_deep_nesting_is_refused():
    data = []
    for _ in range(values.MAX_DEPTH + 5):
        data = [data]
    with pytest.raises(ValueError):
        values.decode(data)


class FakeRemote:
    """Stands for the learner's kernel: answers names from a dict, counts what it is asked."""

    def __init__(self, learner: dict):
        self.learner, self.asked, self.generation = learner, [], 0

    def ask(self, op, **request):
        self.asked.append((op, request.get("name")))
        if request["name"] not in self.learner:
            raise NameError(request["name"])
        return self.learner[request["name"]]


def run(source: str, learner: dict, imports: str = ""):
    ns = runner.TestNamespace(FakeRemote(learner), runner.trusted_imports(imports))
    return runner.run_test(source, ns, timeout=10), ns


def test_builtins_and_trusted_imports_never_come_from_the_learner():
    (passed, _), ns = run("assert isinstance(total, int)\nassert np.mean([1, 3]) == 2",
                          {"total": "400", "isinstance": "fake", "np": "fake"}, imports="import numpy as np")
    assert not passed  # "400" is a str: the learner's isinstance was not used
    (passed, _), ns = run("assert np.mean([1, 3]) == 2", {"np": "fake"}, imports="import numpy as np")
    assert passed and ("name", "np") not in ns.remote.asked


def test_visible_message_shown_hidden_failure_generic():
    src = ('assert total > 0, "total doit être positif"\nprint("Bravo")\n### BEGIN HIDDEN TESTS\n'
           'assert total == 400, "SECRET " + str(400)\n### END HIDDEN TESTS')
    (passed, outputs), _ = run(src, {"total": -1})
    assert not passed and outputs[-1]["evalue"] == "total doit être positif"
    (passed, outputs), _ = run(src, {"total": 1})
    assert not passed and outputs == [runner.stream("Bravo\n"), runner.error_output("AssertionError",
                                                                                   runner.HIDDEN_FAILURE)]
    assert "SECRET" not in json.dumps(outputs)
    (passed, outputs), _ = run(src, {"total": 400})
    assert passed and outputs == [runner.stream("Bravo\n")]


def test_a_hidden_tests_plain_hint_is_shown_and_the_success_message_waits_for_the_hidden_tests():
    src = ('assert total > 0, "total doit être positif"\n### BEGIN HIDDEN TESTS\n'
           'assert total == 400, "Additionnez toutes les lignes."\n### END HIDDEN TESTS\nprint("Réussi")')
    (passed, outputs), _ = run(src, {"total": 1})
    assert not passed and outputs == [runner.error_output("AssertionError",
                                                          runner.HIDDEN_HINT + "Additionnez toutes les lignes.")]
    (passed, outputs), _ = run(src, {"total": 400})
    assert passed and outputs == [runner.stream("Réussi\n")]


def test_learner_values_are_read_again_after_learner_code_ran():
    remote = FakeRemote({"journal": [1]})
    ns = runner.TestNamespace(remote, {})
    assert ns["journal"] == [1] and ns["journal"] == [1]
    assert remote.asked == [("name", "journal")]  # cached while no learner code ran
    remote.generation += 1
    remote.learner["journal"] = [1, 2]
    assert ns["journal"] == [1, 2]


def test_names_a_visible_test_binds_are_shared():
    assert runner.assigned_names("a = 1\nb, (c, d) = f()\nx += 1\nfor i in y: z = 2") == ["a", "b", "c", "d", "x"]
    assert runner.split_test("v\n### BEGIN HIDDEN TESTS\nh\n### END HIDDEN TESTS\nw") == ("v\nw", "h")


def test_numpy_text_travels_and_an_oversized_one_is_refused():
    import numpy as np

    for value in (np.str_("bœuf"), np.array(["a", "bb"]), list(np.random.default_rng(0).choice(["a", "b"], 3))):
        back = values.decode(values.encode(value, None), None)
        assert type(back) is type(value) and (list(np.atleast_1d(back)) == list(np.atleast_1d(value)))
    with pytest.raises(ValueError, match="too large"):
        values.decode({"t": "ndarray", "dtype": "<U9999", "shape": [200_000], "v": ["a"] * 200_000}, None)
