from axes.backends import AxesStandaloneBackend


class AxesBackendForTests(AxesStandaloneBackend):
    """Axes as in production, except that ``Client.login()`` (which authenticates without a
    request) falls through to the model backend instead of raising. Every sign-in through
    the sign-in page still passes the request, and the lockout tests go through that page."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
