"""The URL paths the HTTP API answers under (the People, events, push and device APIs, and the
schema): there an error is the vendor's JSON body, elsewhere an HTML page."""

API_PATH_PREFIXES = ("/people/", "/peopleevents/", "/mobile/", "/api/")


def is_api_path(path: str) -> bool:
    return path.startswith(API_PATH_PREFIXES)
