"""An uploaded import file, kept in the database as parsed rows: the job's workers may run on
other hosts than the web process that took the upload, and each chunk reads its rows in one
statement. The operator's column mapping is remembered per header set."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ImportFile(models.Model):
    name = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField()
    delimiter = models.CharField(max_length=1)
    # The first row, as written (stripped of spaces around each name).
    headers = models.JSONField(default=list)
    # Data rows kept (blank rows are skipped; their numbers are not reused).
    rows = models.PositiveIntegerField(default=0)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    actor_label = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Import file {self.pk} ({self.name})"


class ImportRow(models.Model):
    """One data row of a file: ``number`` is its record's place in the file with the header
    as row 1 (as a spreadsheet numbers it), so errors name the row an operator sees."""

    file = models.ForeignKey(ImportFile, on_delete=models.CASCADE, related_name="row_set")
    number = models.PositiveIntegerField()
    cells = models.JSONField(default=list)

    class Meta:
        ordering = ["file_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["file", "number"], name="import_row_number_unique")
        ]

    def __str__(self) -> str:
        return f"Row {self.number} of import file {self.file_id}"


class ImportConflict(models.Model):
    """A row that claims an identifier an earlier row of the same file claimed for another
    person, found by the pass over the whole file when a job plans (transfer.imports.
    conflicts): each chunk alone cannot see rows of other chunks. Keyed by the reading
    (``reading``: a digest of the mapping and match key) since a file may be run with
    several."""

    file = models.ForeignKey(ImportFile, on_delete=models.CASCADE, related_name="conflicts")
    reading = models.CharField(max_length=64)
    row = models.PositiveIntegerField()
    column = models.CharField(max_length=300)
    value = models.TextField()
    message = models.TextField()

    class Meta:
        indexes = [models.Index(fields=["file", "reading", "row"], name="import_conflict_row_idx")]

    def __str__(self) -> str:
        return f"Conflict on row {self.row} of import file {self.file_id}"


class ColumnMapping(models.Model):
    """The mapping an operator chose last for a header set (``key``: a digest of the headers,
    trimmed and case-folded, in order): the next file with the same headers starts from it."""

    key = models.CharField(max_length=64, unique=True)
    headers = models.JSONField(default=list)
    # header as written -> target (a column's header in transfer.columns, or "" to skip it)
    mapping = models.JSONField(default=dict)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Column mapping {self.key[:8]}"
