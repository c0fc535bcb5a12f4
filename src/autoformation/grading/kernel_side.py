"""What the grading runner asks of the learner's kernel: values by name, attributes, calls.

Its source is sent into the learner's kernel at start (nothing of the platform is installed there)
and becomes the module `_autoformation_rpc`. Learner code can replace any of it: whatever it
answers is only ever read as plain data by the runner (see values.py), never as a verdict.
"""

import json
import sys

MIME = "application/x-autoformation-value"
_handles: dict = {}
_values = sys.modules["_autoformation_values"]


def _handle(obj) -> dict:
    key = id(obj)
    _handles[key] = obj
    cls = type(obj)
    claim = _values._encode_importable(cls) or {}
    return {"t": "handle", "id": key, "type": f"{cls.__module__}.{cls.__qualname__}", "class": claim}


def _resolve(data):
    return _handles[data["id"]]


def _encode(value):
    return _values.encode(value, _handle)


def _decode(data):
    return _values.decode(data, _resolve)


def _run(request: dict):
    op = request["op"]
    if op == "name":
        ns = get_ipython().user_ns  # noqa: F821 (IPython's global in the kernel)
        if request["name"] not in ns:
            raise NameError(f"name {request['name']!r} is not defined")
        return ns[request["name"]]
    if op == "set":  # names a visible test bound, for the learner's later cells
        get_ipython().user_ns[request["name"]] = _decode(request["value"])  # noqa: F821
        return None
    obj = _handles[request["h"]]
    if op == "getattr":
        return getattr(obj, request["attr"])
    if op == "call":
        args = [_decode(a) for a in request["args"]]
        kwargs = {k: _decode(v) for k, v in request["kwargs"]}
        return obj(*args, **kwargs)
    if op == "getitem":
        return obj[_decode(request["key"])]
    if op == "len":
        return len(obj)
    if op == "iter":
        return list(obj)
    if op == "contains":
        return _decode(request["item"]) in obj
    if op == "bool":
        return bool(obj)
    if op in ("str", "repr"):
        return (str if op == "str" else repr)(obj)[:10000]
    if op == "source":
        import inspect

        return inspect.getsource(obj)
    raise ValueError(f"unknown operation {op}")


def answer(request_json: str) -> None:
    from IPython.display import publish_display_data

    try:
        reply = {"value": _encode(_run(json.loads(request_json)))}
    except BaseException as err:  # noqa: BLE001 (the learner's error goes back as data)
        cls = type(err)
        reply = {"error": {"class": _values._encode_importable(cls) or {}, "name": cls.__name__,
                           "message": str(err)[:2000], "handle": _handle(err)}}
    publish_display_data({MIME: json.dumps(reply)})
