"""OpenAPI links: how the answer of one operation feeds the next (a drf-spectacular hook).

A created person is read, updated, replaced and deleted by its id (``?identifier=<id>&type=ID``);
a read person's ETag goes back as If-Match; a created tag or custom attribute definition is
read, used and deleted by its name; a registered app instance is read, updated, personalized,
depersonalized and removed by its pushRegId, through the device API and the push API. Clients
(and Schemathesis's stateful tests) follow these links instead of guessing ids.
"""

from __future__ import annotations

from typing import Any

PERSON_BY_ID = {"query.identifier": "$response.body#/id", "query.type": "ID"}
TAG_BY_NAME = {"path.name": "$response.body#/name"}
DEFINITION_BY_NAME = {"path.name": "$response.body#/name"}
INSTANCE_BY_ID = {"path.pushRegId": "$response.body#/pushRegId"}
INSTALLATION_BY_ID = {"path.pushRegId": "$response.body#/registrationId"}

PERSON_OPERATIONS = {
    "GetPerson": "get-a-single-person-or-a-list-of-people",
    "UpdatePerson": "partial-person-update",
    "ReplacePerson": "update-a-person",
    "DeletePerson": "delete-a-person",
    "SetContactInformation": "set-person-contact-information",
    "AddContactInformation": "add-person-contact-information",
    "DeleteContactInformation": "delete-person-contact-information",
}
INSTANCE_OPERATIONS = {
    "GetAppInstance": "get-app-instance",
    "UpdateAppInstance": "update-app-instance",
    "DeleteAppInstance": "delete-app-instance",
    "PersonalizeAppInstance": "personalize-app-instance",
    "DepersonalizeAppInstance": "depersonalize-app-instance",
}
INSTALLATION_OPERATIONS = {
    "GetPushRegistration": "get-push-device-registration",
    "UpdatePushRegistration": "update-push-device-registration",
    "PersonalizePushRegistration": "personalize-push-instance",
    "DepersonalizePushRegistration": "depersonalize-push-instance",
}


def _links(operations: dict[str, str], parameters: dict[str, str]) -> dict[str, dict]:
    return {
        name: {"operationId": operation_id, "parameters": dict(parameters)}
        for name, operation_id in operations.items()
    }


# (path, method, status) -> links of that response
LINKS: dict[tuple[str, str, str], dict[str, dict]] = {
    ("/people/2/persons", "post", "200"): _links(PERSON_OPERATIONS, PERSON_BY_ID),
    ("/people/2/persons", "get", "200"): {
        "UpdateThisVersion": {
            "operationId": "partial-person-update",
            "parameters": {**PERSON_BY_ID, "header.If-Match": "$response.header.ETag"},
        },
        "ReplaceThisVersion": {
            "operationId": "update-a-person",
            "parameters": {**PERSON_BY_ID, "header.If-Match": "$response.header.ETag"},
        },
    },
    ("/people/2/persons", "patch", "200"): _links(
        {"GetPerson": PERSON_OPERATIONS["GetPerson"]}, PERSON_BY_ID
    ),
    ("/people/2/tags", "post", "200"): _links(
        {
            "GetTag": "get-a-tag",
            "DeleteTag": "delete-a-tag",
            "AddTagToPeople": "add-tag-to-people-batch",
            "RemoveTagFromPeople": "remove-tag-from-people-batch",
        },
        TAG_BY_NAME,
    ),
    ("/people/2/customAttributes", "post", "200"): _links(
        {
            "GetCustomAttribute": "get-a-single-custom-attribute",
            "DeleteCustomAttribute": "delete-a-custom-attribute",
            "AppendItem": "append-item-to-custom-attribute",
        },
        DEFINITION_BY_NAME,
    ),
    ("/mobile/1/appinstance", "post", "201"): {
        **_links(INSTANCE_OPERATIONS, INSTANCE_BY_ID),
        **_links(INSTALLATION_OPERATIONS, INSTANCE_BY_ID),
    },
    ("/people/2/contactInformation/push/{pushRegId}", "get", "200"): _links(
        INSTALLATION_OPERATIONS, INSTALLATION_BY_ID
    ),
}


def add_links(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict:
    """POSTPROCESSING_HOOKS entry: adds LINKS to the responses that exist in the document,
    naming only operations that exist (a link to a missing operation is left out)."""
    operation_ids = {
        operation.get("operationId")
        for item in result.get("paths", {}).values()
        for operation in item.values()
        if isinstance(operation, dict)
    }
    for (path, method, status), links in LINKS.items():
        response = result.get("paths", {}).get(path, {}).get(method, {}).get("responses", {})
        if status not in response:
            continue
        present = {n: link for n, link in links.items() if link["operationId"] in operation_ids}
        if present:
            response[status].setdefault("links", {}).update(present)
    return result
