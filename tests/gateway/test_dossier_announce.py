"""What the person will type on démarches-simplifiées, named before the dossier opens."""

from __future__ import annotations

from gateway.dossiers.announce import NOT_CONVERTED, WHY, WHY_OTHER, ToType, to_type
from prefill.ds_payload import DsPayload, LeftOut
from prefill.model import FilledField, PrefilledForm


def _field(id_: str, value: object, reason: str | None = None) -> FilledField:
    state = "KNOWN" if value not in (None, "", []) else "TO_PROVIDE"
    return FilledField(id_, id_.capitalize(), value, None, state, reason)  # type: ignore[arg-type]


def test_withheld_and_unconverted_fields_in_the_forms_order_with_their_reason() -> None:
    filled = PrefilledForm(
        "rsa",
        (
            _field("nom", "DUPONT"),
            _field("ressources", None, "FORBIDDEN"),
            _field("adresse", "1 RUE DE LA PAIX"),  # known, but its champ refused it
            _field("enfants", [{"prenom": "A"}]),  # one cell refused
            _field("logement", None, "CONSENT_REQUIRED"),
            _field("pension", None, "NOT_FOUND"),
            _field("nir", None, "AMBIGUOUS"),
            _field("identifiant", None, "BAD_USER_INPUT"),
            _field("iban", None),  # no source: typed anyway, nothing to announce
        ),
        (),
    )
    payload = DsPayload({}, (LeftOut("adresse", "no BAN label"), LeftOut("enfants[0].date", "x")))
    assert to_type(filled, payload) == [
        ToType("Ressources", WHY["FORBIDDEN"]),
        ToType("Adresse", NOT_CONVERTED),
        ToType("Enfants", NOT_CONVERTED),
        ToType("Logement", WHY["CONSENT_REQUIRED"]),
        ToType("Pension", WHY["NOT_FOUND"]),
        ToType("Nir", WHY_OTHER),
        ToType("Identifiant", WHY["BAD_USER_INPUT"]),
    ]


def test_nothing_to_announce_when_everything_asked_was_sent() -> None:
    filled = PrefilledForm("rsa", (_field("nom", "DUPONT"), _field("iban", None)), ())
    assert to_type(filled, DsPayload({}, ())) == []
