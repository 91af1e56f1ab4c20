"""The bulk actions, one module per kind of change; importing this package registers them all
with the job engine (jobs.actions.register)."""

from populations.actions import attributes, delete, logout, person_type, push, tags

__all__ = ["attributes", "delete", "logout", "person_type", "push", "tags"]
