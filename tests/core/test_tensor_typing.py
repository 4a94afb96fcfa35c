"""Tensor's run-time methods are declared, with the same signatures, in ``TensorMethods``.

Most of ``Tensor``'s operators and methods are set on the class at import time
(``deepgrad.ops.methods.attach``); type checkers only see them through the declarations
in ``deepgrad/tensor_methods.py``. These tests keep the two in step, and show with mypy
that a student's script type-checks.

How the sync is checked, and why this way:

- *Declared names* come from parsing ``tensor_methods.py`` with ``ast``: every ``def`` in
  the body of ``class TensorMethods`` or in an ``if TYPE_CHECKING:`` block inside it.
  Parsing reads exactly what a type checker reads, without executing the
  ``TYPE_CHECKING`` branch (which cannot run: it imports ``Tensor`` from the module that
  subclasses ``TensorMethods``).
- *Attached names* are found by running the real code, not by reading it: the names
  ``methods.attach`` sets on a fresh empty class (``METHODS`` keys plus the properties
  ``T``/``mT`` and whatever attach() adds later), plus any public or dunder callable in
  ``vars(Tensor)``, after importing ``deepgrad``, ``nn`` and ``optim``, that the ``class
  Tensor`` body does not define (read with ``ast`` from ``inspect.getsource(Tensor)``), so
  a method that other code attaches is caught too. Methods written in the class body
  are visible to mypy already and need no declaration.
- *Signatures*: each declaration's parameters after ``self`` must equal those of the
  function that actually sits on ``Tensor`` (``inspect.signature``; its first parameter,
  the tensor, plays ``self``): same names, kinds (positional, ``*args``, keyword-only)
  and defaults, so that a keyword call type-checks exactly when it runs. Lambdas in
  ``METHODS`` are checked too, not skipped: their non-variadic parameter names are
  callable by keyword (``x.where(cond=..., other=...)``), so they must match; only the
  name of a ``*args`` parameter is ignored, since no caller can spell it (``*s`` in
  ``lambda self, *s`` versus ``*shape`` in the declaration). An ``@overload`` may drop
  parameters and defaults but must keep the rest in order, with their kinds; the
  implementation signature after the overloads matches exactly.
"""

from __future__ import annotations

import ast
import inspect
import os
import re
import runpy
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any, NamedTuple

import pytest

import deepgrad
import deepgrad.nn
import deepgrad.optim  # noqa: F401 - imported for anything it may attach to Tensor
from deepgrad import tensor_methods
from deepgrad.ops import methods
from deepgrad.tensor import Tensor
from deepgrad.tensor_methods import TensorMethods

ROOT = Path(__file__).resolve().parents[2]
DECLARATIONS_FILE = Path(inspect.getsourcefile(tensor_methods) or "tensor_methods.py").resolve()
SHOWN_FILE = (DECLARATIONS_FILE.relative_to(ROOT) if DECLARATIONS_FILE.is_relative_to(ROOT)
              else DECLARATIONS_FILE)
WHERE_TO_DECLARE = f"under `if TYPE_CHECKING:` in class TensorMethods in {SHOWN_FILE}"
USER_CODE = ROOT / "tests" / "typing" / "user_code.py"
EMPTY = "<no default>"


# ---- reading both sides ------------------------------------------------------------------

def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _declarations() -> dict[str, list[ast.FunctionDef]]:
    """Every ``def`` of class TensorMethods (top level or under ``if TYPE_CHECKING:``)."""
    tree = ast.parse(DECLARATIONS_FILE.read_text(encoding="utf-8"))
    cls = next(node for node in tree.body
               if isinstance(node, ast.ClassDef) and node.name == "TensorMethods")
    found: dict[str, list[ast.FunctionDef]] = {}

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, ast.FunctionDef):
                found.setdefault(node.name, []).append(node)
            elif isinstance(node, ast.If) and _is_type_checking(node.test):
                visit(node.body)

    visit(cls.body)
    return found


def _class_body_names(cls: type) -> set[str]:
    """Names the ``class`` statement itself defines: defs, assignments, ``__slots__``."""
    node = ast.parse(textwrap.dedent(inspect.getsource(cls))).body[0]
    assert isinstance(node, ast.ClassDef)
    names: set[str] = set()
    for item in node.body:
        if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(item.name)
        elif isinstance(item, (ast.Assign, ast.AnnAssign)):
            targets = item.targets if isinstance(item, ast.Assign) else [item.target]
            names.update(t.id for t in targets if isinstance(t, ast.Name))
            if any(isinstance(t, ast.Name) and t.id == "__slots__" for t in targets) \
                    and item.value is not None:
                slots = ast.literal_eval(item.value)
                names.update([slots] if isinstance(slots, str) else slots)
    return names


def _is_method_like(value: Any) -> bool:
    return callable(value) or isinstance(value, (property, staticmethod, classmethod))


def _qualname(fn: Any) -> str:
    name = getattr(fn, "__qualname__", type(fn).__name__)
    return f"{getattr(fn, '__module__', '?')}.{name}".replace(".<locals>", "")


def _attached() -> dict[str, str]:
    """Names attached to Tensor at run time, each with where it comes from."""

    class Probe:
        pass

    before = set(vars(Probe))
    methods.attach(Probe)
    origin = {name: "deepgrad.ops.methods.attach" for name in set(vars(Probe)) - before}
    origin.update({name: f"METHODS[{name!r}] = {_qualname(fn)} in deepgrad.ops.methods"
                   for name, fn in methods.METHODS.items()})
    body = _class_body_names(Tensor)
    for name, value in vars(Tensor).items():
        public = not name.startswith("_") or (name.startswith("__") and name.endswith("__"))
        if name not in body and name not in origin and public and _is_method_like(value):
            origin[name] = "set on Tensor outside its class body"
    return origin


# ---- signatures as comparable rows -------------------------------------------------------

Row = tuple[str, str, str]  # (name, kind, default)


def _runtime_rows(fn: Any) -> list[Row]:
    params = list(inspect.signature(fn).parameters.values())
    if params and params[0].kind in (params[0].POSITIONAL_ONLY, params[0].POSITIONAL_OR_KEYWORD):
        params = params[1:]  # the tensor itself: ``self`` in the declaration
    return [("*" if p.kind == p.VAR_POSITIONAL else "**" if p.kind == p.VAR_KEYWORD else p.name,
             p.kind.name, EMPTY if p.default is p.empty else repr(p.default)) for p in params]


def _default(node: ast.expr | None) -> str:
    if node is None:
        return EMPTY
    try:
        return repr(ast.literal_eval(node))
    except ValueError:
        return ast.unparse(node)


def _declared_rows(fn: ast.FunctionDef) -> list[Row]:
    a = fn.args
    positional = a.posonlyargs + a.args
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(a.defaults))
    defaults += list(a.defaults)
    rows = [(arg.arg, "POSITIONAL_ONLY" if i < len(a.posonlyargs) else "POSITIONAL_OR_KEYWORD",
             _default(d)) for i, (arg, d) in enumerate(zip(positional, defaults, strict=True))]
    rows = rows[1:]  # self
    if a.vararg:
        rows.append(("*", "VAR_POSITIONAL", EMPTY))
    rows += [(arg.arg, "KEYWORD_ONLY", _default(d))
             for arg, d in zip(a.kwonlyargs, a.kw_defaults, strict=True)]
    if a.kwarg:
        rows.append(("**", "VAR_KEYWORD", EMPTY))
    return rows


def _decorators(fn: ast.FunctionDef) -> set[str]:
    return {ast.unparse(d).split(".")[-1] for d in fn.decorator_list}


def _render(rows: list[Row]) -> str:
    out, star = [], False
    for name, kind, default in rows:
        if kind == "KEYWORD_ONLY" and not star:
            out.append("*")
            star = True
        text = {"*": "*args", "**": "**kwargs"}.get(name, name)
        star = star or kind == "VAR_POSITIONAL"
        out.append(text if default == EMPTY else f"{text}={default}")
    return "(" + ", ".join(["self", *out]) + ")"


def _suggestion(name: str) -> str:
    value = vars(Tensor)[name]
    if isinstance(value, property):
        return f"    @property\n    def {name}(self) -> Tensor: ..."
    try:
        return f"    def {name}{_render(_runtime_rows(value))} -> Tensor: ..."
    except (TypeError, ValueError):
        return f"    def {name}(self, ...) -> Tensor: ..."


def _is_subsequence(part: list[Row], whole: list[Row]) -> bool:
    keyed = iter((name, kind) for name, kind, _ in whole)
    return all((name, kind) in keyed for name, kind, _ in part)


# ---- the sync tests ----------------------------------------------------------------------

def test_every_attached_name_has_a_declaration_and_vice_versa() -> None:
    attached = _attached()
    declared = _declarations()
    missing = sorted(set(attached) - set(declared))
    assert not missing, (
        f"{len(missing)} name(s) attached to Tensor at run time have no typed declaration, "
        f"so mypy and IDEs cannot see them: {', '.join(missing)}.\nDeclare each "
        f"{WHERE_TO_DECLARE}, with the parameter names and defaults of the run-time "
        f"function and real types, e.g.:\n"
        + "\n".join(f"{_suggestion(n)}  # from {attached[n]}" for n in missing))
    stale = sorted(set(declared) - set(attached))
    in_body = [n for n in stale if n in _class_body_names(Tensor)]
    assert not stale, (
        f"TensorMethods declares {', '.join(stale)}, which nothing attaches to Tensor at run "
        f"time; remove the declaration(s) from {SHOWN_FILE}"
        + (f" ({', '.join(in_body)} now defined in the Tensor class body, which mypy sees "
           f"directly)" if in_body else "")
        + ", or attach the method (deepgrad.ops.methods.METHODS).")


def test_declared_signatures_match_the_runtime_functions() -> None:
    attached = _attached()
    problems = []
    for name, defs in sorted(_declarations().items()):
        if name not in attached:
            continue  # reported by the test above
        runtime = vars(Tensor)[name]
        is_property = isinstance(runtime, property)
        for fn in defs:
            if ("property" in _decorators(fn)) != is_property:
                problems.append(f"{name}: {'is' if is_property else 'is not'} a property at "
                                f"run time; the declaration says otherwise")
        if is_property:
            continue
        try:
            want = _runtime_rows(runtime)
        except (TypeError, ValueError) as exc:
            problems.append(f"{name}: the run-time callable has no readable signature ({exc});"
                            f" wrap it in a Python function")
            continue
        for fn in defs:
            got = _declared_rows(fn)
            if "overload" in _decorators(fn):
                if not _is_subsequence(got, want):
                    problems.append(f"{name} (@overload at line {fn.lineno}): declared "
                                    f"{_render(got)}, which is not a part of the run-time "
                                    f"{_render(want)}")
            elif got != want:
                problems.append(f"{name} (line {fn.lineno}): declared {_render(got)}, "
                                f"run time {_render(want)}")
    assert not problems, (
        f"declarations in {SHOWN_FILE} that disagree with the functions on "
        f"Tensor (names, kinds and defaults must match):\n  " + "\n  ".join(problems))


def test_the_mixin_is_empty_at_run_time() -> None:
    """The declarations cost nothing: the class holds no attribute besides its slots."""
    assert Tensor.__mro__[1] is TensorMethods
    assert TensorMethods.__slots__ == ()
    assert set(vars(TensorMethods)) <= {"__module__", "__doc__", "__slots__", "__qualname__",
                                        "__firstlineno__", "__static_attributes__"}
    x = deepgrad.tensor([1.0, 2.0])
    assert type(x).__add__ is methods.METHODS["__add__"]
    assert isinstance(x * 2, Tensor) and isinstance(x.T, Tensor)


def test_package_is_marked_typed() -> None:
    """PEP 561: without ``py.typed`` mypy treats an installed deepgrad as untyped (all Any)."""
    assert (Path(deepgrad.__file__).parent / "py.typed").is_file()


# ---- mypy on a student's script ----------------------------------------------------------

# Strict, as a careful user would run it, except that deepgrad's own modules are read
# without reporting their errors (they are checked by `mypy src`), and names that
# `deepgrad/__init__.py` imports count as exported (it has no `__all__` yet).
MYPY_CONFIG = """\
[mypy]
strict = True
follow_imports = silent
[mypy-deepgrad.*]
implicit_reexport = True
"""

# Lines marked `# E: text` must give a mypy error containing `text`; others none at all.
# The assert_type lines check that results are Tensors, not Any.
PROBE = """\
from typing import assert_type

import numpy as np

import deepgrad as dg
from deepgrad import Tensor

x = dg.randn(2, 3)
assert_type(x * 2, Tensor)
assert_type(2 * x, Tensor)
assert_type(1.5 - x, Tensor)
assert_type(x / np.ones(3), Tensor)
assert_type(-x ** 2, Tensor)
assert_type(x @ x.T, Tensor)
assert_type(x == 1, Tensor)
assert_type(x < x, Tensor)
assert_type(x[0, 1:], Tensor)
assert_type(x.sum(dim=1, keepdim=True), Tensor)
assert_type(x.max(), Tensor)
assert_type(x.std(correction=0), Tensor)
assert_type(x.split(1, dim=0), tuple[Tensor, ...])
assert_type(x.allclose(x), bool)
x.sum(dimz=1)  # E: Unexpected keyword argument "dimz" for "sum"
x.nonexistent()  # E: "Tensor" has no attribute "nonexistent"
x + "one"  # E: Unsupported operand types for + ("Tensor" and "str")
x.reshape(2, "3")  # E: Argument 2 to "reshape" of "TensorMethods" has incompatible type
x.var(1, False, True, 0)  # E: Too many positional arguments for "var"
n: int = x.mean()  # E: Incompatible types in assignment
"""


class MypyRun(NamedTuple):
    output: str
    cwd: Path
    probe: Path


def _errors_by_line(run: MypyRun, path: Path) -> dict[int, list[str]]:
    """``{line: [message, ...]}`` of mypy's errors in ``path`` (mypy prints paths relative
    to the directory it ran in)."""
    errors: dict[int, list[str]] = {}
    for line in run.output.splitlines():
        m = re.match(r"(.+?):(\d+): error: (.*)$", line)
        if m and (run.cwd / m.group(1)).resolve() == path.resolve():
            errors.setdefault(int(m.group(2)), []).append(m.group(3))
    return errors


@pytest.fixture(scope="module")
def mypy_run(request: pytest.FixtureRequest,
             tmp_path_factory: pytest.TempPathFactory) -> MypyRun:
    """One mypy run over both files; its cache lives in .pytest_cache so reruns are quick."""
    pytest.importorskip("mypy", reason="mypy is in the dev extra")
    work = tmp_path_factory.mktemp("typing")
    (work / "mypy.ini").write_text(MYPY_CONFIG)
    probe = work / "probe.py"
    probe.write_text(PROBE)
    cache = request.config.cache
    cache_dir = cache.mkdir("mypy-user-code") if cache is not None else work / ".mypy_cache"
    env = {**os.environ, "MYPYPATH": str(Path(deepgrad.__file__).resolve().parents[1])}
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(work / "mypy.ini"),
         "--cache-dir", str(cache_dir), "--no-pretty", "--no-error-summary",
         str(USER_CODE), str(probe)],
        cwd=work, env=env, capture_output=True, text=True, timeout=300)
    output = result.stdout + result.stderr
    assert result.returncode in (0, 1), f"mypy did not run (exit {result.returncode}):\n{output}"
    assert re.search(r"^\S+:\d+: error:", output, re.M) or result.returncode == 0, output
    return MypyRun(output, work, probe)


def test_user_code_passes_mypy(mypy_run: MypyRun) -> None:
    errors = _errors_by_line(mypy_run, USER_CODE)
    assert not errors, f"mypy (strict) reports errors in {USER_CODE}:\n" + "\n".join(
        f"  line {i}: {e}" for i, es in sorted(errors.items()) for e in es)


def test_mypy_sees_tensor_types_and_reports_misuse(mypy_run: MypyRun) -> None:
    errors = _errors_by_line(mypy_run, mypy_run.probe)
    lines = PROBE.splitlines()
    expected = {i: line.split("# E: ", 1)[1] for i, line in enumerate(lines, 1) if "# E: " in line}
    assert len(expected) >= 5
    missed = [f"line {i}: {lines[i - 1]!r} gave no error containing {text!r}"
              for i, text in expected.items() if not any(text in e for e in errors.get(i, []))]
    unexpected = [f"line {i}: {lines[i - 1]!r}: {e}" for i, es in errors.items()
                  if i not in expected for e in es]
    assert not missed and not unexpected, \
        "\n".join(missed + unexpected) + "\n\nmypy said:\n" + mypy_run.output


def test_user_code_runs_and_learns(capsys: pytest.CaptureFixture[str]) -> None:
    """What mypy accepts also runs: the fit converges and the MLP's loss falls."""
    line_loss, losses = runpy.run_path(str(USER_CODE))["main"]()
    assert line_loss < 1e-3
    assert losses[-1] < 0.6 * losses[0]
    assert "accuracy" in capsys.readouterr().out
