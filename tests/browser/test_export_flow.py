"""The export in a real browser: a Viewer searches, follows Export…, chooses XLSX and a few
columns, and downloads the file, masked as the pages show it."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from core import roles
from tests.browser.conftest import sign_in
from tests.conftest import make_operator
from tests.profiles import make_profile

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.postgres_only,
    pytest.mark.django_db(transaction=True),
]


def test_a_viewer_exports_a_search_to_xlsx(page, screenshot, system_actor):
    make_profile(system_actor)
    make_operator("vera.viewer", roles.VIEWER)
    sign_in(page, "vera.viewer")
    page.goto("/?q=Horvat")
    page.get_by_test_id("export-link").click()
    page.wait_for_url("**/export/?q=Horvat")
    page.get_by_label("Excel (XLSX)").check()
    columns = page.get_by_test_id("export-columns")
    for box in columns.get_by_role("checkbox").all():
        box.uncheck()
    for label in ("First name", "Phones", "Tags"):
        columns.get_by_label(label, exact=False).first.check()
    screenshot(page, "export-form")
    with page.expect_download() as download:
        page.get_by_test_id("export-submit").click()
    path = download.value.path()
    sheet = load_workbook(io.BytesIO(path.read_bytes()), read_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("firstName", "phones", "tags")
    assert rows[1][0] == "Ana" and rows[1][2] == "newsletter|vip"
    assert "•" in rows[1][1]
