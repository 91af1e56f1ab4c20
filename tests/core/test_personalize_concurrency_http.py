"""Personalize and depersonalize of one installation from many clients at once, over HTTP.

The app runs under gunicorn with 4 worker processes on PostgreSQL (the ``served`` fixture of
test_concurrency_http). Each round, 8 client threads send at the same moment, for one
installation: personalize with forceDepersonalize through the device API and the push API, for
4 different externalIds, and a depersonalize through each API. These deadlocked: personalize
locked the target person after the installation, and PostgreSQL's deadlock detector made
the loser answer 503 "database unavailable".
"""

from __future__ import annotations

import sys
import threading
import time
from collections import Counter
from typing import Any

import pytest

from tests.core.test_concurrency_http import (  # noqa: F401 (served is a fixture)
    APP_CODE,
    Served,
    register,
    served,
)

pytestmark = [pytest.mark.postgres_only, pytest.mark.slow]

EXTERNAL_IDS = ["race-ana", "race-ben", "race-cid", "race-dora"]
ROUNDS = 10
CLIENTS = 8
PUSH_ID = "race-reg"


def device_url(push_id: str, action: str) -> str:
    return f"/mobile/1/appinstance/{push_id}/{action}"


def together(server: Served, requests: list[tuple[str, Any, bool]]) -> list[tuple[int, Any]]:
    """Send each (path, body, from a device) from its own thread, all released at once."""
    barrier = threading.Barrier(len(requests))
    results: list[Any] = [None] * len(requests)

    def send(index: int, path: str, body: Any, device: bool) -> None:
        barrier.wait(timeout=30)
        headers = None if device else {"AppCode": APP_CODE}
        status, _, answer = server.request("POST", path, body, headers, device=device)
        results[index] = (status, answer)

    threads = [
        threading.Thread(target=send, args=(index, *request))
        for index, request in enumerate(requests)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    assert not any(thread.is_alive() for thread in threads), "a request hung"
    return results


def round_of_requests(round_number: int) -> list[tuple[str, Any, bool]]:
    requests = []
    for index in range(CLIENTS):
        external_id = EXTERNAL_IDS[(index + round_number) % len(EXTERNAL_IDS)]
        if index == 3:
            requests.append((device_url(PUSH_ID, "depersonalize"), None, True))
        elif index == 6:
            requests.append(
                (f"/people/2/contactInformation/push/{PUSH_ID}/depersonalize", None, False)
            )
        elif index % 2:
            requests.append(
                (
                    f"/people/2/contactInformation/push/{PUSH_ID}/personalize"
                    "?forceDepersonalize=true",
                    {"identity": {"externalId": external_id}},
                    False,
                )
            )
        else:
            requests.append(
                (
                    device_url(PUSH_ID, "personalize") + "?forceDepersonalize=true&returnPush=true",
                    {"userIdentity": {"externalUserId": external_id}},
                    True,
                )
            )
    return requests


def test_personalize_with_four_identities_and_depersonalize_at_once_all_answer_200(
    served,  # noqa: F811 (the fixture imported above)
):
    register(served, PUSH_ID)
    # Two of the people exist already, each with a device of its own; two identities are new.
    for external_id in EXTERNAL_IDS[:2]:
        own = f"{external_id}-phone"
        register(served, own)
        status, _, body = served.request(
            "POST",
            device_url(own, "personalize"),
            {"userIdentity": {"externalUserId": external_id}},
            device=True,
        )
        assert status == 200, body

    started = time.monotonic()
    statuses: Counter = Counter()
    failures = []
    for round_number in range(ROUNDS):
        for status, body in together(served, round_of_requests(round_number)):
            statuses[status] += 1
            if status != 200:
                failures.append((round_number, status, body))
    seconds = time.monotonic() - started
    print(
        f"\npersonalize/depersonalize race: {ROUNDS * CLIENTS} requests in {seconds:.1f} s,"
        f" statuses {dict(statuses)}",
        file=sys.stderr,
    )

    assert failures == [], (dict(statuses), failures[:3])
    # Each identity has one owner; the installation is on exactly one person.
    for external_id in EXTERNAL_IDS:
        owners = served.query("SELECT id FROM people_person WHERE external_id = %s", external_id)
        assert len(owners) <= 1
    (count,) = served.query(
        "SELECT count(*) FROM installations_installation WHERE push_registration_id = %s",
        PUSH_ID,
    )[0]
    assert count == 1
    # No emptied anonymous profile was left behind.
    orphans = served.query(
        "SELECT p.id FROM people_person p WHERE p.external_id IS NULL"
        " AND NOT EXISTS (SELECT 1 FROM installations_installation i WHERE i.person_id = p.id)"
        " AND NOT EXISTS (SELECT 1 FROM people_contactidentity c WHERE c.person_id = p.id)"
    )
    assert orphans == []
