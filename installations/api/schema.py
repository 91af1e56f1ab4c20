"""OpenAPI description of the device authentication (drf-spectacular extension)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApplicationCodeScheme(OpenApiAuthenticationExtension):
    target_class = "installations.api.authentication.ApplicationCodeAuthentication"
    name = "applicationCode"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`App <applicationCode>`: the code of the app the device runs",
        }
