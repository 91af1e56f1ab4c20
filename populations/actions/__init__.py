"""The bulk actions, one module per kind of change; importing this package registers them all
with the job engine (jobs.actions.register)."""
