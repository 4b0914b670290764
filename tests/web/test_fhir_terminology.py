"""The checks behind the codes Casebridge's FHIR resources promise (web.fhir.terminology):
check digits, DICOM UID grammar, and the promises per resource, each shown to fail."""

from __future__ import annotations

from typing import Any

import pytest

from web.fhir import terminology as t


@pytest.mark.parametrize("code", ["11429006", "312384001", "22298006", "404684003",
                                  "138875005"])
def test_snomed_ct_identifiers_with_their_check_digit(code: str) -> None:
    assert t.is_sctid(code)


@pytest.mark.parametrize("code", ["11429007", "312384000", "12345", "0114290061", "11429006a",
                                  ""])
def test_snomed_ct_identifiers_that_fail(code: str) -> None:
    assert not t.is_sctid(code)


def test_every_single_digit_slip_in_a_snomed_code_is_caught() -> None:
    # Verhoeff catches every single-digit error and every adjacent transposition.
    code = t.MULTIDISCIPLINARY["code"]
    for position in range(len(code)):
        for digit in "0123456789":
            slipped = code[:position] + digit + code[position + 1:]
            assert t.is_sctid(slipped) == (slipped == code), slipped
    for position in range(len(code) - 1):
        swapped = code[:position] + code[position + 1] + code[position] + code[position + 2:]
        assert t.is_sctid(swapped) == (swapped == code), swapped


@pytest.mark.parametrize(("code", "ok"), [("72514-3", True), ("8867-4", True), ("29463-7", True),
                                          ("72514-4", False), ("72514", False), ("x-3", False)])
def test_loinc_check_digit(code: str, ok: bool) -> None:
    assert t.is_loinc(code) is ok


@pytest.mark.parametrize(("uid", "ok"), [
    ("1.2.840.10008.1.2", True), ("2.25.329800735698586629295641978511506172918", True),
    ("1.02.3", False), ("1..2", False), ("1.2.", False), ("abc", False), ("1", False),
    ("1." + "2" * 63, False),
])
def test_dicom_uid_grammar(uid: str, ok: bool) -> None:
    assert t.is_dicom_uid(uid) is ok


def _order(**changes: Any) -> dict[str, Any]:
    order: dict[str, Any] = {
        "resourceType": "ServiceRequest", "status": "active", "intent": "order",
        "category": [{"coding": [t.CONSULTATION]}],
        "reasonCode": [{"coding": [t.SECOND_OPINION]}],
    }
    return {**order, **changes}


def test_a_kept_promise_has_no_problems() -> None:
    assert t.problems(_order()) == []


@pytest.mark.parametrize(("changes", "problem"), [
    ({"status": "bogus"}, "status 'bogus'"),
    ({"intent": "plan"}, "intent"),
    ({"category": [{"coding": [t.coding(t.SNOMED, "11429007", "Consultation")]}]},
     "fails its check digit"),
    ({"reasonCode": []}, "v2-0336"),
])
def test_broken_promises_are_named(changes: dict[str, Any], problem: str) -> None:
    assert any(problem in found for found in t.problems(_order(**changes)))


def test_bundle_entries_and_imaging_uids_are_checked() -> None:
    study = {"resourceType": "ImagingStudy", "status": "available",
             "identifier": [{"system": t.DICOM_UID, "value": "urn:oid:1.02.3"}]}
    bundle = {"resourceType": "Bundle", "entry": [
        {"resource": study}, {"resource": {"resourceType": "Encounter", "status": "finished",
                                           "class": {"system": "x", "code": "AMB"}}},
        {"resource": {"resourceType": "Observation", "status": "final",
                      "code": {"coding": [t.coding(t.LOINC, "72514-4", "typo")]}}}]}
    found = t.problems(bundle)
    assert len(found) == 3, found
