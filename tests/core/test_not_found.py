import pytest

pytestmark = pytest.mark.django_db


def test_an_api_path_that_matches_no_route_gets_the_vendor_404_body(client):
    response = client.post(
        "/people/2/contactInformation/push/%2F%3B_%C3%9C/depersonalize",
        HTTP_AUTHORIZATION="App whatever",
    )
    assert response.status_code == 404
    assert response.json()["requestError"]["serviceException"]["messageId"] == "NOT_FOUND"


def test_a_page_that_matches_no_route_gets_a_plain_404(client, editor):
    client.force_login(editor)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
