"""Work items: roles, ownership, and that a client never learns about another client's items."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from tests.auth.conftest import Api


class Caller:
    def __init__(self, api: Api, token: str, client_id: str) -> None:
        self.api, self.token, self.client_id = api, token, client_id

    async def call(self, method: str, path: str, corr: str | None = None, **kwargs: Any) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {self.token}"}
        if corr:
            headers["X-Correlation-ID"] = corr
        async with self.api.session() as http:
            response = await http.request(method, path, headers=headers, **kwargs)
            return response.status, await response.json()


async def caller(api: Api, name: str, *roles: str) -> Caller:
    created = await api.register(name, *roles)
    return Caller(api, await api.token(created), created.client.client_id)


async def test_create_uses_the_correlation_id_and_is_audited(api: Api, corr: str) -> None:
    portal = await caller(api, "Portal", "portal")
    status, item = await portal.call("POST", "/api/v1/work-items", corr, json={"kind": "oots.evidence-request"})
    assert status == 201
    assert item["id"] == corr and item["client_id"] == portal.client_id
    assert item["kind"] == "oots.evidence-request" and item["status"] == "open"
    [record] = await api.audit("api.work_item.created", corr)
    assert record["actor"] == portal.client_id and record["details"] == {"id": corr, "kind": "oots.evidence-request"}
    status, again = await portal.call("GET", f"/api/v1/work-items/{corr}")
    assert status == 200 and again == item


async def test_a_fresh_correlation_id_is_used_when_none_is_sent(api: Api) -> None:
    register = await caller(api, "Register", "register")
    status, item = await register.call("POST", "/api/v1/work-items", json={"kind": "lookup"})
    assert status == 201 and len(item["id"]) == 36


async def test_list_shows_only_own_items(api: Api, corr: str) -> None:
    alice = await caller(api, "Alice portal", "portal")
    bob = await caller(api, "Bob register", "register")
    for n in range(3):
        assert (await alice.call("POST", "/api/v1/work-items", f"{corr}-a{n}", json={"kind": "a"}))[0] == 201
    assert (await bob.call("POST", "/api/v1/work-items", f"{corr}-b", json={"kind": "b"}))[0] == 201
    status, listed = await alice.call("GET", "/api/v1/work-items")
    assert status == 200
    assert sorted(item["id"] for item in listed["items"]) == [f"{corr}-a{n}" for n in range(3)]
    status, listed = await bob.call("GET", "/api/v1/work-items", params={"limit": "10"})
    assert [item["id"] for item in listed["items"]] == [f"{corr}-b"]
    assert (await bob.call("GET", "/api/v1/work-items", params={"limit": "0"}))[0] == 400


async def test_another_clients_item_is_404_like_a_missing_one_and_audited(api: Api, corr: str) -> None:
    alice = await caller(api, "Alice portal", "portal")
    bob = await caller(api, "Bob portal", "portal")
    assert (await alice.call("POST", "/api/v1/work-items", corr, json={"kind": "a"}))[0] == 201

    status, foreign = await bob.call("GET", f"/api/v1/work-items/{corr}", corr + "-peek")
    assert status == 404 and foreign["code"] == "not-found"
    status, missing = await bob.call("GET", "/api/v1/work-items/no-such-item", corr + "-miss")
    assert status == 404

    def same(body: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in body.items() if k != "correlation_id"}

    assert same(foreign) == same(missing)  # nothing tells the two apart
    [denied] = await api.audit("api.access.denied", corr + "-peek")
    assert denied["actor"] == bob.client_id
    assert denied["details"]["owner"] == alice.client_id and denied["details"]["id"] == corr
    assert await api.audit("api.access.denied", corr + "-miss") == []


async def test_reused_correlation_id(api: Api, corr: str) -> None:
    alice = await caller(api, "Alice portal", "portal")
    bob = await caller(api, "Bob portal", "portal")
    status, first = await alice.call("POST", "/api/v1/work-items", corr, json={"kind": "a"})
    assert status == 201
    # The same client retrying the same request gets its item back instead of a duplicate.
    status, retried = await alice.call("POST", "/api/v1/work-items", corr, json={"kind": "a"})
    assert (status, retried) == (200, first)
    assert len(await api.audit("api.work_item.created", corr)) == 1
    status, own_conflict = await alice.call("POST", "/api/v1/work-items", corr, json={"kind": "other"})
    assert status == 409
    status, foreign_conflict = await bob.call("POST", "/api/v1/work-items", corr, json={"kind": "a"})
    assert status == 409 and foreign_conflict["detail"] == own_conflict["detail"]
    [denied] = await api.audit("api.access.denied", corr)
    assert denied["actor"] == bob.client_id


async def test_wrong_role_is_403_and_audited(api: Api, corr: str) -> None:
    operator = await caller(api, "Operator", "operator")
    before = api.failures("forbidden-role")
    status, body = await operator.call("POST", "/api/v1/work-items", corr, json={"kind": "a"})
    assert status == 403 and body["code"] == "forbidden-role"
    [record] = await api.audit("api.auth.failed", corr)
    assert record["actor"] == operator.client_id
    assert record["details"]["reason"] == "forbidden-role"
    assert record["details"]["required_roles"] == ["portal", "register"]
    assert api.failures("forbidden-role") == before + 1
    assert (await operator.call("GET", "/api/v1/work-items"))[0] == 403
    assert (await operator.call("GET", "/api/v1/whoami"))[0] == 200  # any role


async def test_scope_limited_token_cannot_use_the_other_role(api: Api, corr: str) -> None:
    created = await api.register("Portal+operator", "portal", "operator")
    narrowed = Caller(api, await api.token(created, scope="operator"), created.client.client_id)
    status, body = await narrowed.call("POST", "/api/v1/work-items", corr, json={"kind": "a"})
    assert status == 403 and body["code"] == "forbidden-role"


async def test_mtls_client_owns_its_items_too(api: Api, corr: str) -> None:
    cert = api.pki.ca.issue("register-c")
    await api.register("Register C", "register", cert=cert, secret=False)
    async with api.session(cert) as http:
        response = await http.post("/api/v1/work-items", json={"kind": "a"}, headers={"X-Correlation-ID": corr})
        assert response.status == 201
        response = await http.get("/api/v1/work-items")
        assert [item["id"] for item in (await response.json())["items"]] == [corr]


@pytest.mark.parametrize(
    "payload", [{"kind": ""}, {"kind": "Has Spaces"}, {"kind": 5}, {}, ["kind"], {"kind": "x" * 65}]
)
async def test_bad_bodies(api: Api, corr: str, payload: Any) -> None:
    portal = await caller(api, "Portal", "portal")
    status, body = await portal.call("POST", "/api/v1/work-items", corr, json=payload)
    assert status == 400 and body["code"] == "invalid-request"


async def test_non_json_body(api: Api, corr: str) -> None:
    portal = await caller(api, "Portal", "portal")
    status, body = await portal.call("POST", "/api/v1/work-items", corr, data=b"kind=a")
    assert status == 400 and body["code"] == "invalid-request"
