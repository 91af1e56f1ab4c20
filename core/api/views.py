"""The base of every API view: refuses query and path values no database column can hold."""

from __future__ import annotations

from rest_framework.exceptions import ParseError
from rest_framework.views import APIView

from core.api.json import unstorable_text
from core.api.permissions import CanAdministerViaApi
from core.api.schema import VendorAutoSchema


class VendorAPIView(APIView):
    """An APIView whose query parameters and path values are checked before the handler runs.

    PostgreSQL refuses NUL characters in text; without this check such a value in a query
    parameter or a path would reach the database and fail there.
    """

    schema = VendorAutoSchema()
    # Methods that need an Administrator (or a manage key): deleting people and tags,
    # defining custom attributes. The others need what CanUseApi asks.
    administrator_methods: frozenset[str] = frozenset()

    def get_permissions(self):
        if self.request.method in self.administrator_methods:
            return [CanAdministerViaApi()]
        return super().get_permissions()

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        values = [(name, value) for name, value in kwargs.items() if isinstance(value, str)]
        values += [(name, item) for name, items in request.query_params.lists() for item in items]
        for name, value in values:
            problem = unstorable_text(value) or unstorable_text(name)
            if problem:
                raise ParseError(f"{name}: {problem}")
