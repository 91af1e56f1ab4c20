from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    """What joins people and their installations: the one query of a population and its
    compiler, search, the person page's read model, and the pages and API bodies built on them."""

    name = "directory"
    verbose_name = "Directory"
