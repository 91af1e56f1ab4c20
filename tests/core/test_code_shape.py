"""The shape DESIGN.md asks of the code: no module over 600 lines outside migrations and
tests (a module that grows past it does several jobs, and is split by them), and none that
reaches into Django's private internals."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAX_LINES = 600
PRIVATE_DJANGO = re.compile(
    r"_result_cache|_prefetched_objects_cache|_iterable_class|ModelState\b|\bDEFERRED\b"
)


def modules() -> list[Path]:
    skipped = {".venv", "tests", "migrations", "node_modules", "staticfiles"}
    return [
        path
        for path in ROOT.rglob("*.py")
        if not skipped.intersection(path.relative_to(ROOT).parts)
    ]


def test_the_check_reads_the_project_s_modules():
    names = {str(path.relative_to(ROOT)) for path in modules()}
    assert {"manage.py", "people/services.py", "transfer/exports.py"} <= names
    assert not any(name.startswith(("tests/", ".venv/")) for name in names)


def test_no_module_is_over_600_lines():
    long = {
        str(path.relative_to(ROOT)): count
        for path in modules()
        if (count := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


def test_no_module_reaches_into_django_internals():
    found = [
        str(path.relative_to(ROOT))
        for path in modules()
        if PRIVATE_DJANGO.search(path.read_text(encoding="utf-8"))
    ]
    assert found == []
