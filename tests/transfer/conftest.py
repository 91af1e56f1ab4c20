import pytest


@pytest.fixture(autouse=True)
def _transfer_root(settings, tmp_path):
    """Each test's export files in a folder of its own."""
    settings.TRANSFER_ROOT = tmp_path / "transfer"
    return settings.TRANSFER_ROOT
