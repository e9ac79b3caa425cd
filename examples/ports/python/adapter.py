"""The micrograd-ref stdio adapter for a Python engine: python adapter.py engine.py [Class].

JSON lines in, JSON lines out (docs/ports.md). Used to check that the stdio
route gives the in-process route's verdicts; a template for other languages.
"""

import importlib.util
import json
import math
import operator
import sys
from typing import Any

spec = importlib.util.spec_from_file_location("engine", sys.argv[1])
engine = importlib.util.module_from_spec(spec)
spec.loader.exec_module(engine)
Value = getattr(engine, sys.argv[2] if len(sys.argv) > 2 else "Value")

NAMES = {"+": "add", "-": "sub", "*": "mul", "/": "truediv", "**": "pow"}
OPS = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
       "**": operator.pow}  # fmt: skip
UNARY = ["neg", "exp", "log", "tanh", "relu", "sigmoid"]
FORMS = {"truediv": "div"}
has = [
    *(f"{FORMS.get(n, n)}{s}" for n in NAMES.values() for s in ("", "_number")
      if hasattr(Value, f"__{n}__")),
    *(f"r{FORMS.get(n, n)}" for n in NAMES.values() if hasattr(Value, f"__r{n}__")),
    *(u for u in UNARY if hasattr(Value, "__neg__" if u == "neg" else u)),
]  # fmt: skip


def apply(r: list[Any], kind: str, name: str, a: Any, b: Any = None) -> Any:  # noqa: ANN401 - Values
    """The register one instruction builds."""
    if kind == "bin":
        return OPS[name](r[a], r[b])
    if kind == "lnum":
        return OPS[name](r[a], b)
    if kind == "rnum":
        return OPS[name](a, r[b])
    return -r[a] if name == "neg" else getattr(r[a], name)()


def num(v: Any) -> float | str:  # noqa: ANN401 - the engine's number
    """A float for JSON: nan and the infinities as strings."""
    x = float(v)
    return x if math.isfinite(x) else ("nan" if math.isnan(x) else ("inf" if x > 0 else "-inf"))


def run(p: dict[str, Any]) -> dict[str, Any]:
    """One program's result: data of every register, grad of every leaf; or the error."""
    r: list[Any] = []
    phase = "forward"
    try:
        r += [Value(x) for x in p["leaves"]]
        for op in p["ops"]:
            r.append(apply(r, *op))
        phase = "backward"
        for _ in range(p.get("backward_calls", 1)):
            r[-1].backward()
        phase = "read"
        grads = [num(v.grad) for v in r[: len(p["leaves"])]]
        return {"data": [num(v.data) for v in r], "grads": grads, "root_grad": num(r[-1].grad)}
    except Exception as e:  # the port's own message goes back to the grader
        return {"error": f"{type(e).__name__}: {e}", "type": type(e).__name__, "phase": phase,
                "step": len(r)}  # fmt: skip


print(json.dumps({"hello": "micrograd-adapter", "protocol": 1, "engine": sys.argv[1], "ops": has}))
sys.stdout.flush()
for line in sys.stdin:
    print(json.dumps({"results": [run(p) for p in json.loads(line)["programs"]]}), flush=True)
