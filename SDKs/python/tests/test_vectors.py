"""The shared verification vectors (Specs/vectors/verification.json): the same cases, and the same verdicts, as
CharterVerifier's VectorTests, so the two verifiers cannot drift."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from charter_sdk import Capability, VerificationError, Verifier

VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).resolve().parents[3] / "Specs" / "vectors" / "verification.json").read_text())


def verifier(case: dict[str, Any]) -> Verifier:
    """An air-gapped verifier as the vectors describe it, its clock at the case's `now`."""
    settings = VECTORS["verifier"]
    return Verifier(
        None, audiences=[case["audience"]], organizations=settings["organizations"], issuers=settings["issuers"],
        leeway=settings["leeway"], max_invocation_lifetime=settings["max_invocation_lifetime"],
        clock=lambda: float(case["now"]))


def verdict(verify: Any) -> str:
    try:
        verify()
    except VerificationError as error:
        return error.code
    return "valid"


def test_the_vectors_are_there() -> None:
    cases = VECTORS["ucan_0_10"] + VECTORS["ucan_1_0"]
    assert len(VECTORS["ucan_0_10"]) >= 10 and len(VECTORS["ucan_1_0"]) >= 10
    assert "valid" in {case["expect"] for case in cases} and len({case["expect"] for case in cases}) > 5


@pytest.mark.parametrize("case", VECTORS["ucan_0_10"], ids=lambda case: case["name"])
def test_ucan_0_10(case: dict[str, Any]) -> None:
    required = case.get("requiring")
    capability = Capability(required["resource"], required["ability"]) if required else None
    assert verdict(lambda: verifier(case).verify(case["token"], case["proofs"], capability)) == case["expect"]


@pytest.mark.parametrize("case", VECTORS["ucan_1_0"], ids=lambda case: case["name"])
def test_ucan_1_0(case: dict[str, Any]) -> None:
    assert verdict(lambda: verifier(case).verify_invocation(
        case["invocation"], case["proofs"], command=case.get("command"))) == case["expect"]
