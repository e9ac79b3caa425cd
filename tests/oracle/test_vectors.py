"""``micrograd-ref vectors``: the catalogue's programs and the reference's numbers, for any port."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from micrograd.cli import main
from micrograd.oracle.checks import CATALOGUE
from micrograd.oracle.compare import expected
from micrograd.oracle.vectors import (
    DEFAULT_EXAMPLES,
    OPS,
    SCHEMA_VERSION,
    _number,
    form,
    schema,
    to_json,
    vectors,
)


@cache
def _default() -> str:
    """The default file's text, written once per session."""
    return to_json(vectors())


class TestVectorsFile:
    """The file holds every check, its programs and their numbers, in the documented layout."""

    def test_it_validates_against_the_shipped_schema(self) -> None:
        """The default file is valid under vectors.schema.json, whose version is the file's."""
        document = json.loads(_default())
        jsonschema.Draft202012Validator.check_schema(schema())
        jsonschema.validate(document, schema(), cls=jsonschema.Draft202012Validator)
        assert document["schema_version"] == SCHEMA_VERSION
        assert schema()["properties"]["schema_version"]["const"] == SCHEMA_VERSION
        assert schema()["$defs"]["op"]["enum"] == list(OPS)

    def test_every_check_of_the_catalogue_has_cases(self) -> None:
        """Each check of the catalogue is there, in catalogue order, with at least one case."""
        document = json.loads(_default())
        assert [c["name"] for c in document["checks"]] == [c.name for c in CATALOGUE]
        assert all(c["cases"] for c in document["checks"])

    def test_numbers_are_the_reference_engines(self) -> None:
        """Every case's data and grads are what the reference engine computes for its program."""
        for check in json.loads(_default())["checks"]:
            for case in check["cases"]:
                want = expected(case["program"])
                assert case["data"] == want["data"]
                assert case["grads"] == want["grads"]
                assert case.get("root_grad") == want["root_grad"]

    def test_needs_lists_the_op_forms_used(self) -> None:
        """A case's needs are exactly the op forms of its instructions."""
        for check in json.loads(_default())["checks"]:
            for case in check["cases"]:
                used = {form(instruction) for instruction in case["program"]["ops"]}
                assert set(case["needs"]) == used

    def test_the_default_file_is_a_few_hundred_kilobytes(self) -> None:
        """Small enough to vendor into a port's tests."""
        assert 100_000 < len(_default().encode()) < 600_000

    def test_numbers_json_lacks_are_strings(self) -> None:
        """NaN and the infinities are written as strings, finite numbers as they are."""
        assert [_number(x) for x in (1.5, float("nan"), float("inf"), -float("inf"))] == [
            1.5,
            "nan",
            "inf",
            "-inf",
        ]


class TestDeterminism:
    """The same version and seed write the same bytes; another seed other cases."""

    def test_same_seed_same_bytes(self) -> None:
        """Two runs with the same seed and count agree byte for byte."""
        assert to_json(vectors(seed=3, max_examples=4)) == to_json(vectors(seed=3, max_examples=4))

    def test_another_seed_draws_other_cases(self) -> None:
        """Seeds 0 and 1 give different files."""
        assert to_json(vectors(seed=0, max_examples=4)) != to_json(vectors(seed=1, max_examples=4))


class TestVectorsCommand:
    """The command writes the file, or the text to stdout."""

    def test_it_writes_the_file(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """-o writes the default vectors and says how big they are."""
        out = tmp_path / "sub" / "vectors.json"
        assert main(["vectors", "-o", str(out)]) == 0
        assert out.read_text(encoding="utf-8") == _default()
        assert f"wrote {out}" in capsys.readouterr().out

    def test_without_a_file_it_writes_to_stdout(self, capsys: pytest.CaptureFixture[str]) -> None:
        """Without -o, the JSON is the whole of stdout; --seed and --max-examples apply."""
        assert main(["vectors", "--seed", "2", "--max-examples", "3"]) == 0
        document: dict[str, Any] = json.loads(capsys.readouterr().out)
        assert document["generator"]["seed"] == 2
        assert document["generator"]["max_examples"] == 3

    def test_the_commands_default_is_the_modules(self) -> None:
        """The CLI's default count of cases is DEFAULT_EXAMPLES."""
        from micrograd.cli import build_parser  # noqa: PLC0415 - the parser alone

        assert build_parser().parse_args(["vectors"]).max_examples == DEFAULT_EXAMPLES
