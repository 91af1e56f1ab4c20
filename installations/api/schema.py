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


class JwtOrApplicationCodeScheme(OpenApiAuthenticationExtension):
    """The user data calls take either the application code or a JWT."""

    target_class = "installations.api.jwt_authentication.JwtOrApplicationCodeAuthentication"
    name = "userDataJwt"

    def get_security_requirement(self, auto_schema):
        # applicationCode is ApplicationCodeScheme's component (every other device view's).
        return [{"applicationCode": []}, {"userDataJwt": []}]

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "User data authorization: a JWT signed HS256 with the application's"
            " secret (header kid; claims typ 'Bearer', sub = the person's externalId,"
            " infobip-api-key = the application code, iat, exp, jti)",
        }
