"""Plain data across the grading boundary: learner values out of the kernel, test arguments into it.

The learner's kernel can answer anything, so what comes out of it is decoded here into builtin
types (and numpy/pandas objects rebuilt from plain columns), never unpickled: a learner object whose
`__eq__` always answers True, or a subclass of `int`, arrives as a plain value or not at all.
Anything that is not data (a model, a learner function) stays in the kernel behind a handle.

This file is standalone on purpose: the sandbox runner imports it, and its source is sent into the
learner's kernel, where nothing of the platform is installed.
"""

from __future__ import annotations

import base64
import math
import re

MAX_DEPTH = 60
MAX_ITEMS = 2_000_000
DTYPES = re.compile(r"^(bool|u?int(8|16|32|64)|float(16|32|64)|complex(64|128)|object|str|string|category|"
                    r"datetime64\[(ns|us|ms|s)\]|timedelta64\[(ns|us|ms|s)\]|[<>=|]?U[0-9]{1,4})$")
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class NotPlain(Exception):
    """The value is not data: keep it in the kernel behind a handle."""


# --- encoding (both sides) -------------------------------------------------------------------------
def encode(value, handle=None, depth: int = 0):
    """`value` as tagged JSON-able data; `handle(obj)` gives a reference for what is not data."""
    if depth > MAX_DEPTH:
        raise NotPlain("too deep")
    t = type(value)
    if value is None or t is bool or t is str:
        return value
    if t is int:
        return value if abs(value) < 2 ** 53 else {"t": "int", "v": str(value)}
    if t is float:
        return value if math.isfinite(value) else {"t": "float", "v": repr(value)}
    if t is list:
        return [encode(v, handle, depth + 1) for v in value]
    if t in (tuple, set, frozenset):
        return {"t": t.__name__, "v": [encode(v, handle, depth + 1) for v in value]}
    if t is dict:
        return {"t": "dict", "v": [[encode(k, handle, depth + 1), encode(v, handle, depth + 1)]
                                   for k, v in value.items()]}
    if t is complex:
        return {"t": "complex", "v": [value.real, value.imag]}
    if t is bytes:
        return {"t": "bytes", "v": base64.b64encode(value).decode()}
    special = _encode_special(value, t, handle, depth)
    if special is not None:
        return special
    if handle is None:
        raise NotPlain(t.__name__)
    return handle(value)


def _encode_special(value, t, handle, depth):
    module = getattr(t, "__module__", "") or ""
    name = t.__name__
    if module == "collections" and name in ("Counter", "OrderedDict", "defaultdict"):
        return {"t": name, "v": encode(dict(value), handle, depth + 1)["v"]}
    if module == "collections" and name == "deque":
        return {"t": "deque", "v": [encode(v, handle, depth + 1) for v in value]}
    if module == "pathlib" and name in ("PosixPath", "PurePosixPath", "Path"):
        return {"t": "path", "v": str(value)}
    if module == "builtins" and name == "range":
        return {"t": "range", "v": [value.start, value.stop, value.step]}
    if module.startswith("numpy"):
        return _encode_numpy(value, t, handle, depth)
    if module.startswith("pandas"):
        return _encode_pandas(value, t, handle, depth)
    if module.startswith("bs4") and name in ("BeautifulSoup", "Tag"):
        return {"t": "html", "doc": name == "BeautifulSoup", "v": str(value)}
    import types

    if isinstance(value, types.ModuleType):
        return {"t": "module", "v": value.__name__}
    return _encode_importable(value)


def _encode_importable(value):
    """Library functions and classes travel by name: the other side imports its own copy."""
    import importlib

    module, qualname = getattr(value, "__module__", None), getattr(value, "__qualname__", None)
    if not isinstance(module, str) or not isinstance(qualname, str) or module == "__main__":
        return None
    try:
        obj = importlib.import_module(module)
        for part in qualname.split("."):
            obj = getattr(obj, part)
    except Exception:
        return None
    return {"t": "import", "module": module, "v": qualname} if obj is value else None


def _flat(values, handle, depth):
    return [encode(v.item() if hasattr(v, "item") and type(v).__module__ == "numpy" else v, handle, depth + 1)
            for v in values]


def _encode_numpy(value, t, handle, depth):
    import numpy as np

    if isinstance(value, np.generic):
        dtype = str(value.dtype)
        if not DTYPES.match(dtype):
            return None
        inner = str(value) if dtype.startswith(("datetime", "timedelta")) else value.item()
        return {"t": "npscalar", "dtype": dtype, "v": encode(inner, handle, depth + 1)}
    if isinstance(value, np.ndarray) and t is np.ndarray:
        dtype = str(value.dtype)
        if not DTYPES.match(dtype) or value.size > MAX_ITEMS:
            return None
        flat = value.astype(str) if dtype.startswith(("datetime", "timedelta")) else value
        return {"t": "ndarray", "dtype": dtype, "shape": list(value.shape),
                "v": _flat(flat.ravel().tolist() if dtype != "object" else list(flat.ravel()), handle, depth)}
    if t is np.dtype:
        return {"t": "npdtype", "v": str(value)}
    return None


def _column(values, dtype, handle, depth):
    dtype = str(dtype)
    if not DTYPES.match(dtype):
        raise NotPlain(dtype)
    if dtype.startswith(("datetime", "timedelta")):
        return dtype, [None if v != v else str(v) for v in values.astype(object)]
    if dtype == "category":
        cat = values.dtype
        return dtype, {"categories": _flat(list(cat.categories), handle, depth), "ordered": bool(cat.ordered),
                       "codes": [int(c) for c in getattr(values, "cat", values).codes]}
    return dtype, _flat(list(values), handle, depth)


def _encode_index(index, handle, depth):
    import pandas as pd

    if type(index) is pd.RangeIndex:
        return {"t": "rangeindex", "v": [index.start, index.stop, index.step], "name": encode(index.name)}
    if type(index) is pd.MultiIndex or len(index) > MAX_ITEMS:
        raise NotPlain("index")
    dtype, values = _column(index, index.dtype, handle, depth)
    return {"t": "index", "dtype": dtype, "v": values, "name": encode(index.name, handle, depth + 1)}


def _encode_pandas(value, t, handle, depth):
    import pandas as pd

    try:
        if t is pd.Series:
            dtype, values = _column(value, value.dtype, handle, depth)
            return {"t": "series", "dtype": dtype, "v": values, "index": _encode_index(value.index, handle, depth),
                    "name": encode(value.name, handle, depth + 1)}
        if t is pd.DataFrame:
            if value.size > MAX_ITEMS:
                return None
            columns = [_column(value.iloc[:, i], value.dtypes.iloc[i], handle, depth) for i in range(value.shape[1])]
            return {"t": "frame", "columns": _encode_index(value.columns, handle, depth),
                    "data": [{"dtype": d, "v": v} for d, v in columns],
                    "index": _encode_index(value.index, handle, depth)}
        if isinstance(value, pd.Index):
            return _encode_index(value, handle, depth)
        if t is pd.Timestamp:
            return {"t": "timestamp", "v": value.isoformat()}
    except NotPlain:
        return None
    return None


# --- decoding (both sides) -------------------------------------------------------------------------
def decode(data, resolve=None, depth: int = 0):
    """Builtin values (numpy/pandas rebuilt from columns) from `encode`'s output; `resolve` maps handles."""
    if depth > MAX_DEPTH:
        raise ValueError("value nested too deep")
    if data is None or type(data) in (bool, str, int, float):
        return data
    if type(data) is list:
        return [decode(v, resolve, depth + 1) for v in data]
    if type(data) is not dict or not isinstance(data.get("t"), str):
        raise ValueError("not an encoded value")
    tag, v = data["t"], data.get("v")

    def items():
        if type(v) is not list:
            raise ValueError(f"{tag}: a list was expected")
        return [decode(x, resolve, depth + 1) for x in v]

    def pairs():
        out = []
        for pair in items():
            if type(pair) is not list or len(pair) != 2:
                raise ValueError("dict: pairs expected")
            out.append(tuple(pair))
        return out

    if tag == "int":
        return int(_str(v)[:5000])
    if tag == "float":
        if v not in ("nan", "inf", "-inf"):
            raise ValueError("float: nan, inf or -inf expected")
        return float(v)
    if tag == "complex":
        re_, im = items()
        return complex(float(re_), float(im))
    if tag in ("tuple", "set", "frozenset"):
        return {"tuple": tuple, "set": set, "frozenset": frozenset}[tag](items())
    if tag == "dict":
        return dict(pairs())
    if tag in ("Counter", "OrderedDict", "defaultdict"):
        import collections

        made = getattr(collections, tag)(*(() if tag != "defaultdict" else (None,)))
        made.update(dict(pairs()))
        return made
    if tag == "deque":
        import collections

        return collections.deque(items())
    if tag == "bytes":
        return base64.b64decode(_str(v))
    if tag == "path":
        import pathlib

        return pathlib.Path(_str(v))
    if tag == "range":
        start, stop, step = (int(x) for x in items())
        return range(start, stop, step)
    if tag == "module":
        return import_module(_str(v))
    if tag == "import":
        return import_object(_str(data.get("module")), _str(v))
    if tag == "handle":
        if resolve is None:
            raise ValueError("handle where plain data was expected")
        return resolve(data)
    if tag == "html":
        from bs4 import BeautifulSoup

        doc = BeautifulSoup(_str(v), "html.parser")
        return doc if data.get("doc") else doc.find()
    return _decode_numeric(tag, data, v, resolve, depth)


def _decode_numeric(tag, data, v, resolve, depth):
    import numpy as np

    if tag == "npdtype":
        return np.dtype(_dtype(v))
    if tag == "npscalar":
        return np.array(decode(v, resolve, depth + 1)).astype(_dtype(data.get("dtype")))[()]
    if tag == "ndarray":
        shape = data.get("shape")
        if type(shape) is not list or not all(type(n) is int and n >= 0 for n in shape):
            raise ValueError("ndarray: bad shape")
        dtype = _dtype(data.get("dtype"))
        values = decode(v, resolve, depth + 1)
        if type(values) is not list or math.prod(shape) != len(values):
            raise ValueError("ndarray: size does not match its shape")
        if np.dtype(dtype).itemsize * len(values) > MAX_ITEMS * 16:  # fixed-width text: bounded memory
            raise ValueError("ndarray: too large")
        array = np.empty(len(values), dtype=object)
        array[:] = values
        return array.astype(dtype).reshape(shape)
    import pandas as pd

    if tag == "timestamp":
        return pd.Timestamp(_str(v))
    if tag in ("rangeindex", "index"):
        return _decode_index(data, resolve, depth)
    if tag == "series":
        values = _decode_column({"dtype": data.get("dtype"), "v": v}, resolve, depth)
        index = _decode_index(data.get("index"), resolve, depth)
        if len(index) != len(values):
            raise ValueError("series: index and values differ in length")
        return pd.Series(values.array, index=index, name=decode(data.get("name"), None, depth + 1))
    if tag == "frame":
        columns = _decode_index(data.get("columns"), resolve, depth)
        index = _decode_index(data.get("index"), resolve, depth)
        cols = data.get("data")
        if type(cols) is not list or len(cols) != len(columns):
            raise ValueError("frame: columns do not match")
        series = [_decode_column(c, resolve, depth) for c in cols]
        if any(len(s) != len(index) for s in series):
            raise ValueError("frame: a column differs in length from the index")
        frame = pd.DataFrame({i: s.set_axis(index) for i, s in enumerate(series)}, index=index)
        frame.columns = columns
        return frame
    raise ValueError(f"unknown tag {tag!r}")


def _decode_column(data, resolve, depth):
    import pandas as pd

    if type(data) is not dict:
        raise ValueError("column expected")
    dtype = _dtype(data.get("dtype"))
    if dtype == "category":
        cat = data.get("v")
        if type(cat) is not dict or type(cat.get("codes")) is not list:
            raise ValueError("categorical column expected")
        categories = decode(cat.get("categories"), resolve, depth + 1)
        codes = [int(c) for c in cat["codes"]]
        if type(categories) is not list or any(not -1 <= c < len(categories) for c in codes):
            raise ValueError("categorical codes out of range")
        return pd.Series(pd.Categorical.from_codes(codes, categories=categories, ordered=cat.get("ordered") is True))
    values = decode(data.get("v"), resolve, depth + 1)
    if type(values) is not list:
        raise ValueError("column values expected")
    if dtype.startswith(("datetime", "timedelta")):
        conv = pd.to_datetime if dtype.startswith("datetime") else pd.to_timedelta
        return pd.Series(conv(pd.Series(values, dtype=object)), dtype=dtype)
    if dtype == "string":
        return pd.Series(values, dtype=object).astype(dtype)
    return pd.Series(values, dtype=object).astype(dtype) if dtype != "object" else pd.Series(values, dtype=object)


def _decode_index(data, resolve, depth):
    import pandas as pd

    if type(data) is not dict:
        raise ValueError("index expected")
    if data.get("t") == "rangeindex":
        start, stop, step = (int(x) for x in data.get("v") or ())
        return pd.RangeIndex(start, stop, step, name=decode(data.get("name"), None, depth + 1))
    if data.get("t") != "index":
        raise ValueError("index expected")
    values = _decode_column(data, resolve, depth)
    return pd.Index(values, name=decode(data.get("name"), None, depth + 1))


def _str(v) -> str:
    if type(v) is not str:
        raise ValueError("text expected")
    return v


def _dtype(v) -> str:
    if type(v) is not str or not DTYPES.match(v):
        raise ValueError(f"dtype not allowed: {v!r}")
    return v


def import_module(name: str):
    import importlib

    if not all(NAME.match(p) for p in name.split(".")):
        raise ValueError(f"bad module name {name!r}")
    return importlib.import_module(name)


def import_object(module: str, qualname: str):
    obj = import_module(module)
    for part in qualname.split("."):
        if not NAME.match(part) or part.startswith("__"):
            raise ValueError(f"bad name {qualname!r}")
        obj = getattr(obj, part)
    return obj
