"""The organisation profile and invitation revoking over GraphQL (the rest of member management
is in ``test_graphql.py``)."""

from __future__ import annotations

import httpx

from tests.api.conftest import Tenant
from tests.api.test_graphql_inbox import gql

UPDATE = """
mutation($input: OrganisationInput!) {
  updateOrganisation(input: $input) {
    __typename
    ... on Organisation { id name businessName businessDescription slug }
    ... on LimitError { problems { field message } }
  }
}
"""


async def test_update_organisation(client: httpx.AsyncClient, tenant: Tenant) -> None:
    updated = await gql(
        client, tenant, UPDATE, input={"name": "Acme Homes", "businessName": "Acme Homes Pvt"}
    )
    result = updated["data"]["updateOrganisation"]
    assert result["__typename"] == "Organisation", updated
    assert (result["name"], result["businessName"]) == ("Acme Homes", "Acme Homes Pvt")
    assert result["id"] == str(tenant.organisation_id)
    rest = await client.get("/organisations/current", headers=tenant.owner.headers)
    assert rest.json()["business_name"] == "Acme Homes Pvt"
    seen = await gql(client, tenant, "{ organisation { name } }")
    assert seen["data"]["organisation"]["name"] == "Acme Homes"

    empty = await gql(client, tenant, UPDATE, input={"name": ""})
    assert empty["data"]["updateOrganisation"]["__typename"] == "LimitError"
    assert empty["data"]["updateOrganisation"]["problems"][0]["field"] == "name"
    agent = await tenant.member("agent")
    refused = await gql(client, tenant, UPDATE, headers=agent.headers, input={"name": "Mine"})
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_revoke_invitation(client: httpx.AsyncClient, tenant: Tenant) -> None:
    invited = await gql(
        client,
        tenant,
        'mutation { inviteUser(email: "later@example.com", role: VIEWER) '
        "{ ... on Invitation { id acceptToken } } }",
    )
    invitation = invited["data"]["inviteUser"]
    revoke = "mutation($id: ID!) { revokeInvitation(id: $id) { __typename } }"
    revoked = await gql(client, tenant, revoke, id=invitation["id"])
    assert revoked["data"]["revokeInvitation"] == {"__typename": "Deleted"}
    open_ones = await gql(client, tenant, "{ invitations { id } }")
    assert open_ones["data"]["invitations"] == []
    accepted = await client.post(
        "/auth/accept-invitation",
        json={"token": invitation["acceptToken"], "name": "Late", "password": "long enough pw"},
    )
    assert accepted.status_code in (400, 401, 404, 409, 410, 422)
    again = await gql(client, tenant, revoke, id=invitation["id"])
    assert again["data"]["revokeInvitation"] == {"__typename": "NotFoundError"}
