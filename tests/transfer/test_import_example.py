"""The example file of the README (docs/import-example.csv) imports as the README says: every
row, no failure, into a database with the demo data's "Loyalty points" attribute; and the
README shows the file's own lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from people import services
from people.models import DataType, Person

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "import-example.csv"


def test_the_readme_shows_the_example_files_lines():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for line in EXAMPLE.read_text(encoding="utf-8").splitlines()[:3]:
        assert line in readme


def test_the_example_file_imports_every_row(upload, run_import):
    services.attribute_definition_create(name="Loyalty points", data_type=DataType.INTEGER)
    file = upload(EXAMPLE)
    dry = run_import(file, dry_run=True)
    assert (dry.state, dry.total, dry.created, dry.failed) == ("DONE", 3, 3, 0)
    assert not Person.objects.exists()
    job = run_import(file)
    assert (job.state, job.created, job.failed) == ("DONE", 3, 0)
    cara = Person.objects.get(external_id="crm-1003")
    assert (cara.first_name, cara.preferred_language) == ("O'Neill, Cara", "en-IE")
    bruno = Person.objects.get(external_id="crm-1002")
    assert bruno.identities.filter(kind="PHONE").count() == 2
    assert set(bruno.tags.values_list("name", flat=True)) == {"newsletter"}
