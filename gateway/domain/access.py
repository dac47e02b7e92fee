"""Who may apply for whom, and whose policy a caller may reach (README, "Who may see what").

The caller's identity is what the identity provider confirmed: the token's `snils` claim. Knowing another person's
СНИЛС and passport must give nobody anything of theirs, so the rules rest on that claim and on what the gateway
itself has done (an application it issued), never on what a request says of a person.
"""

from __future__ import annotations

from gateway.domain.identifiers import normalize_identifier, snils_violations
from gateway.domain.model import NewPolicyRequest, Relation, ReplacementRequest, Violation


def applicant_violations(request: NewPolicyRequest | ReplacementRequest, caller_snils: str | None) -> list[Violation]:
    """`self` names the caller's own СНИЛС; a representative, when their СНИЛС is given, is the caller."""
    if not isinstance(request, NewPolicyRequest):
        return []  # a replacement is allowed or not by the policy it names (may_replace)
    if request.relation is Relation.SELF:
        if caller_snils is None:
            return [Violation("SELF_SNILS_MISMATCH", "person.snils", (("rule", "token_has_no_snils"),))]
        snils = request.person.snils
        if snils is not None and not snils_violations(snils) and not _same(snils, caller_snils):
            return [Violation("SELF_SNILS_MISMATCH", "person.snils")]
        return []
    representative = request.representative
    if representative is None or representative.snils is None or caller_snils is None:
        return []
    if snils_violations(representative.snils, "representative.snils"):
        return []  # its own format or check number reason says it better
    if not _same(representative.snils, caller_snils):
        return [Violation("REPRESENTATIVE_NOT_CALLER", "representative.snils")]
    return []


def _same(snils: str, other: str) -> bool:
    return normalize_identifier(snils) == normalize_identifier(other)
