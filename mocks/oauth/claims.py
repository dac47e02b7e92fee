"""What the server tells about a citizen, by scope: the ID token's and the userinfo endpoint's claims."""

from __future__ import annotations

from mocks.oauth.models import Citizen


def citizen_claims(citizen: Citizen, scope: str) -> dict[str, str]:
    """Return `sub` plus the claims that the granted `scope` opens (fullname, birthdate, snils)."""
    scopes = set(scope.split())
    claims = {"sub": citizen.sub}
    if "fullname" in scopes:
        claims["name"] = citizen.full_name
        claims["family_name"] = citizen.last_name
        claims["given_name"] = citizen.first_name
        if citizen.middle_name:
            claims["middle_name"] = citizen.middle_name
    if "birthdate" in scopes:
        claims["birthdate"] = citizen.birth_date
    if "snils" in scopes:
        claims["snils"] = citizen.snils
    return claims
