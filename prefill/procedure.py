"""A procedure owner's mapping file: which DS champ each field of our form fills.

A procedure on démarches-simplifiées is built by an administration; the file that maps our
form onto it lives with that administration's configuration, outside this package, and is
registered per procedure (its number). ``parse_procedure`` checks the file's shape;
``validate_procedure`` checks it against the form and the procedure's champ descriptors as
DS gives them, so that a placeholder id, a field of the wrong type or a drop-down option DS
does not list is refused at registration rather than silently dropped by DS::

    procedure: 101
    path: demande-rsa
    form: rsa
    purpose: citizen_prefill
    client: demo-form-builder
    recipient: "21750001600019"
    territory: ["75"]
    identite: {nom: [nom_usage, nom_naissance], prenom: [prenoms], genre: [civilite]}
    champs:
      date_naissance: Q2hhbXAtMTAxMDAy             # short form: the champ id
      situation_familiale:                          # long form
        champ: Q2hhbXAtMTAxMDEz
        options: {celibataire: "Célibataire", marie: "Marié(e)", pacse: "Pacsé(e)", …}
      enfants:
        champ: Q2hhbXAtMTAxMDE5
        children: {prenom: Q2hhbXAtMTAxMDIw, date_naissance: {champ: Q2hhbXAtMTAxMDIy}}
      commune:                                      # a champ fed by other fields (105's)
        champ: Q2hhbXAtMTA1MDEy
        from: {postcode: code_postal}
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from prefill.champs import LAYOUT_TYPES, ChampDescriptor, is_champ_id
from prefill.errors import MappingError
from prefill.geo import DEPARTEMENT
from prefill.model import FieldDef, FormDef

IDENTITY_KEYS = ("nom", "prenom", "genre")
_KEYS = {
    "procedure",
    "path",
    "form",
    "purpose",
    "client",
    "recipient",
    "territory",
    "identite",
    "champs",
}
_CHAMP_KEYS = {"champ", "options", "children", "from"}
_PATH = re.compile(r"[a-z0-9][a-z0-9_-]*")
_ID = re.compile(r"[a-z][a-z0-9_-]*")
# Roles of the form fields that feed one champ together (``from``), per champ type.
FROM_ROLES: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    # champ type: (required roles, allowed roles)
    # A commune alone (a birth commune) is sent with a postcode of it (``prefill.geo``).
    "communes": (frozenset({"insee"}), frozenset({"postcode", "insee"})),
    "departements": (frozenset(), frozenset({"postcode", "insee"})),
}
# Which DS champ types a form field type can fill (DS drops a value of the wrong shape).
PAIRS: dict[str, frozenset[str]] = {
    "text": frozenset(
        {
            "text",
            "textarea",
            "email",
            "phone",
            "iban",
            "siret",
            "formatted",
            "pays",
            "departements",
            "address",
        }
    ),
    "nir": frozenset({"text", "formatted"}),
    "month": frozenset({"text", "textarea"}),
    "date": frozenset({"date"}),
    "number": frozenset({"integer_number", "decimal_number"}),
    "money": frozenset({"integer_number", "decimal_number"}),
    "boolean": frozenset({"yes_no", "checkbox"}),
    "choice": frozenset(
        {"drop_down_list", "multiple_drop_down_list", "civilite", "yes_no", "checkbox"}
    ),
    "repetition": frozenset({"repetition"}),
}
OPTION_TYPES = frozenset({"drop_down_list", "multiple_drop_down_list"})
BOOLEAN_LABELS = {"oui": True, "non": False, "true": True, "false": False}
CIVILITE_LABELS = {"M": "M.", "M.": "M.", "F": "Mme", "Mme": "Mme"}


@dataclass(frozen=True)
class ChampMapping:
    field: str  # the form field id (a repetition's column id for a child)
    champ: str  # the DS champ id
    options: Mapping[str, str] = dataclasses.field(
        default_factory=dict
    )  # form choice → DS option label
    children: Mapping[str, ChampMapping] = dataclasses.field(
        default_factory=dict
    )  # repetition columns
    # Several form fields feeding one champ: role (postcode, insee) → form field id.
    from_fields: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def label(self, code: str) -> str:
        """The DS option label of a form choice (the code itself when none is mapped)."""
        return self.options.get(code, code)


@dataclass(frozen=True)
class Procedure:
    number: int
    path: str
    form: str
    purpose: str
    client: str
    recipient: str
    territory: frozenset[str]
    identity: Mapping[str, tuple[str, ...]]
    champs: Mapping[str, ChampMapping]
    source: str  # the file name, for messages

    def serves(self, departement: str | None) -> bool:
        """Whether a person living in ``departement`` may be sent to this procedure.

        A procedure with no territory serves everywhere; one with a territory serves only
        its départements, and not a person whose département is unknown.
        """
        if not self.territory:
            return True
        return departement is not None and departement in self.territory


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch) * (2 if i % 2 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


def siret_ok(value: str) -> bool:
    """14 digits, the SIREN (9 first) and the whole SIRET passing Luhn's check — the rule the
    exchange applies to a recipient; La Poste's establishments share one SIREN, and their
    SIRET's digit sum is a multiple of 5 instead."""
    if not re.fullmatch(r"\d{14}", value):
        return False
    if luhn_ok(value[:9]) and luhn_ok(value):
        return True
    return value.startswith("356000000") and sum(int(c) for c in value) % 5 == 0


class _Reader:
    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, key: str, why: str) -> MappingError:
        return MappingError(self.source, key, why)

    def text(self, data: Mapping[str, Any], key: str, pattern: re.Pattern[str] | None) -> str:
        value = data.get(key)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, "is required (a non-empty string)")
        if pattern is not None and not pattern.fullmatch(value):
            raise self.fail(key, f"{value!r} is not a valid {key}")
        return value

    def champ_id(self, key: str, value: object) -> str:
        if not is_champ_id(value):
            raise self.fail(key, "not a DS champ id (base64 of 'Champ-<number>')")
        assert isinstance(value, str)
        return value

    def mapping(self, key: str, field_id: object, raw: object, *, child: bool) -> ChampMapping:
        if not isinstance(field_id, str) or not _ID.fullmatch(field_id):
            raise self.fail(key, "a form field id")
        if not isinstance(raw, dict):
            return ChampMapping(field_id, self.champ_id(key, raw))
        for k in raw:
            if k not in _CHAMP_KEYS:
                raise self.fail(f"{key}.{k}", f"unknown key (one of {sorted(_CHAMP_KEYS)})")
        champ = self.champ_id(f"{key}.champ", raw.get("champ"))
        options = raw.get("options", {})
        if not isinstance(options, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in options.items()
        ):
            raise self.fail(f"{key}.options", "maps form choices to DS option labels")
        sources = raw.get("from", {})
        if not isinstance(sources, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in sources.items()
        ):
            raise self.fail(f"{key}.from", "maps roles (postcode, insee) to form field ids")
        raw_children = raw.get("children")
        children: dict[str, ChampMapping] = {}
        if raw_children is not None:
            if child:
                raise self.fail(f"{key}.children", "repetitions do not nest")
            if not isinstance(raw_children, dict) or not raw_children:
                raise self.fail(f"{key}.children", "maps the repetition's columns to champs")
            for column, target in raw_children.items():
                children[str(column)] = self.mapping(
                    f"{key}.children.{column}", column, target, child=True
                )
        if child and sources:
            raise self.fail(f"{key}.from", "not inside a repetition")
        return ChampMapping(field_id, champ, dict(options), children, dict(sources))

    def procedure(self, data: Any) -> Procedure:
        if not isinstance(data, dict):
            raise self.fail("(top)", "a mapping file is a mapping")
        for key in data:
            if key not in _KEYS:
                raise self.fail(str(key), "unknown key")
        number = data.get("procedure")
        if not isinstance(number, int) or isinstance(number, bool) or number <= 0:
            raise self.fail("procedure", "is required: the DS procedure number")
        recipient = data.get("recipient")
        if not isinstance(recipient, str) or not siret_ok(recipient):
            raise self.fail("recipient", "a SIRET (14 digits, quoted) that passes its check")
        territory = data.get("territory") or []
        if not isinstance(territory, list) or not all(
            isinstance(t, str) and DEPARTEMENT.fullmatch(t) for t in territory
        ):
            raise self.fail("territory", "a list of département codes (quoted: '75', '2A')")
        identity: dict[str, tuple[str, ...]] = {}
        raw_identity = data.get("identite") or {}
        if not isinstance(raw_identity, dict):
            raise self.fail("identite", "maps nom, prenom, genre to form field ids")
        for key, ids in raw_identity.items():
            if key not in IDENTITY_KEYS:
                raise self.fail(f"identite.{key}", f"must be one of {', '.join(IDENTITY_KEYS)}")
            ids = [ids] if isinstance(ids, str) else ids
            if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
                raise self.fail(f"identite.{key}", "a form field id or a list of them")
            identity[key] = tuple(ids)
        raw = data.get("champs")
        if not isinstance(raw, dict) or not raw:
            raise self.fail("champs", "maps form field ids to DS champ ids")
        champs = {
            str(f): self.mapping(f"champs.{f}", f, target, child=False) for f, target in raw.items()
        }
        return Procedure(
            number=number,
            path=self.text(data, "path", _PATH),
            form=self.text(data, "form", None),
            purpose=self.text(data, "purpose", None),
            client=self.text(data, "client", None),
            recipient=recipient,
            territory=frozenset(territory),
            identity=identity,
            champs=champs,
            source=self.source,
        )


def parse_procedure(data: Any, source: str) -> Procedure:
    """The procedure of a mapping file's data; ``MappingError(source, key, why)`` otherwise."""
    return _Reader(source).procedure(data)


def load_procedure_file(path: Path) -> Procedure:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise MappingError(path.name, "(file)", str(exc)) from None
    except yaml.YAMLError as exc:
        raise MappingError(path.name, "(yaml)", str(exc).splitlines()[0]) from None
    return parse_procedure(data, path.name)


def _mapping_to_data(m: ChampMapping) -> Any:
    if not (m.options or m.children or m.from_fields):
        return m.champ
    data: dict[str, Any] = {"champ": m.champ}
    if m.options:
        data["options"] = dict(m.options)
    if m.children:
        data["children"] = {k: _mapping_to_data(c) for k, c in m.children.items()}
    if m.from_fields:
        data["from"] = dict(m.from_fields)
    return data


def procedure_to_data(p: Procedure) -> dict[str, Any]:
    """The mapping file's data again (JSON-able), for the database; ``procedure_from_data``
    reads it back (the source name is kept under ``source``)."""
    return {
        "procedure": p.number,
        "path": p.path,
        "form": p.form,
        "purpose": p.purpose,
        "client": p.client,
        "recipient": p.recipient,
        "territory": sorted(p.territory),
        "identite": {k: list(v) for k, v in p.identity.items()},
        "champs": {k: _mapping_to_data(m) for k, m in p.champs.items()},
        "source": p.source,
    }


def procedure_from_data(data: Any) -> Procedure:
    if not isinstance(data, dict) or not isinstance(data.get("source"), str):
        raise MappingError("(stored)", "source", "a stored procedure names its source file")
    rest = {k: v for k, v in data.items() if k != "source"}
    return parse_procedure(rest, data["source"])


# --- validation against the form and DS's descriptors ---------------------------------------


class _Validator:
    def __init__(self, p: Procedure, form: FormDef, champs: Sequence[ChampDescriptor]) -> None:
        self.p = p
        self.form = form
        self.champs = {c.id: c for c in champs}
        self.used: dict[str, str] = {}  # champ id → the key that mapped it
        self.warnings: list[str] = []

    def fail(self, key: str, why: str) -> MappingError:
        return MappingError(self.p.source, key, why)

    def use(self, key: str, champ: ChampDescriptor) -> None:
        if champ.id in self.used:
            raise self.fail(key, f"champ {champ.id} is already mapped by {self.used[champ.id]}")
        self.used[champ.id] = key

    def run(self) -> list[str]:
        if self.p.form != self.form.id:
            raise self.fail("form", f"is {self.p.form!r}, not the form {self.form.id!r}")
        for key, ids in self.p.identity.items():
            for field_id in ids:
                f = self.form.field(field_id)
                if f is None:
                    raise self.fail(f"identite.{key}", f"no field {field_id!r} in the form")
                if f.type == "repetition":
                    raise self.fail(f"identite.{key}", f"{field_id!r} is a repetition")
        for field_id, m in self.p.champs.items():
            key = f"champs.{field_id}"
            f = self.form.field(field_id)
            if f is None:
                raise self.fail(key, "no such field in the form")
            champ = self.champs.get(m.champ)
            if champ is None:
                raise self.fail(key, f"champ {m.champ} is not one of the procedure's champs")
            self.use(key, champ)
            self.check(key, f, champ, m)
        for c in self.champs.values():
            if c.required and c.id not in self.used and c.type not in LAYOUT_TYPES:
                self.warnings.append(f"required champ {c.id} ({c.label}) is not mapped")
        return self.warnings

    def check(self, key: str, f: FieldDef, champ: ChampDescriptor, m: ChampMapping) -> None:
        if champ.type in LAYOUT_TYPES:
            raise self.fail(key, f"champ {champ.id} is a {champ.type}: it takes no value")
        if m.from_fields:
            self.check_from(key, champ, m)
            return
        if champ.type in FROM_ROLES and FROM_ROLES[champ.type][0]:
            required, allowed = FROM_ROLES[champ.type]
            roles = ", ".join([*sorted(required), *(f"[{r}]" for r in sorted(allowed - required))])
            raise self.fail(key, f"a {champ.type} champ is fed by from: {{{roles}}}")
        allowed = PAIRS.get(f.type, frozenset())
        if champ.type not in allowed:
            raise self.fail(key, f"a {f.type} field cannot fill a {champ.type} champ")
        if champ.type == "address":
            self.warnings.append(
                f"{key}: an address champ takes a Base Adresse Nationale label, which the "
                "agencies' data does not carry: it is left out of the payload"
            )
        if m.options and f.type != "choice":
            raise self.fail(f"{key}.options", "only a choice field maps options")
        if f.type == "choice":
            self.check_choices(key, f, champ, m)
        if f.type == "repetition":
            self.check_rows(key, f, champ, m)
        elif m.children:
            raise self.fail(f"{key}.children", "only a repetition has children")

    def check_choices(self, key: str, f: FieldDef, champ: ChampDescriptor, m: ChampMapping) -> None:
        for code in m.options:
            if code not in f.choices:
                raise self.fail(f"{key}.options.{code}", "not one of the field's choices")
        for code in f.choices:
            label = m.label(code)
            if champ.type in OPTION_TYPES:
                if label not in champ.options:
                    why = (
                        f"option {label!r} is not among the champ's options"
                        if code in m.options
                        else f"choice {code!r} has no option mapped and is not a DS option"
                    )
                    raise self.fail(f"{key}.options.{code}", why)
            elif champ.type == "civilite":
                if label not in CIVILITE_LABELS:
                    raise self.fail(f"{key}.options.{code}", "a civilité is 'M.' or 'Mme'")
            elif label.lower() not in BOOLEAN_LABELS:
                raise self.fail(f"{key}.options.{code}", "a yes/no champ takes 'oui' or 'non'")

    def check_rows(self, key: str, f: FieldDef, champ: ChampDescriptor, m: ChampMapping) -> None:
        if not m.children:
            raise self.fail(f"{key}.children", "a repetition maps its columns")
        for column, cm in m.children.items():
            ckey = f"{key}.children.{column}"
            cf = next((c for c in f.children if c.id == column), None)
            if cf is None:
                raise self.fail(ckey, "no such column in the form's repetition")
            cc = champ.child(cm.champ)
            if cc is None:
                raise self.fail(ckey, f"champ {cm.champ} is not a column of {champ.id}")
            self.use(ckey, cc)
            self.check(ckey, cf, cc, cm)
        for c in champ.children:
            if c.required and c.id not in self.used and c.type not in LAYOUT_TYPES:
                self.warnings.append(f"{key}: required column {c.id} ({c.label}) is not mapped")

    def check_from(self, key: str, champ: ChampDescriptor, m: ChampMapping) -> None:
        if champ.type not in FROM_ROLES:
            raise self.fail(f"{key}.from", f"a {champ.type} champ is fed by one field")
        required, allowed = FROM_ROLES[champ.type]
        roles = set(m.from_fields)
        if not required <= roles or not roles <= allowed or not roles:
            raise self.fail(f"{key}.from", f"roles must be {', '.join(sorted(allowed))}")
        for role, field_id in m.from_fields.items():
            f = self.form.field(field_id)
            if f is None:
                raise self.fail(f"{key}.from.{role}", f"no field {field_id!r} in the form")
            if f.type != "text":
                raise self.fail(f"{key}.from.{role}", f"{field_id!r} is not a text field")


def validate_procedure(p: Procedure, form: FormDef, champs: Sequence[ChampDescriptor]) -> list[str]:
    """Refuses (``MappingError`` naming the file and key) a mapping that cannot work against
    ``form`` and the procedure's descriptors; returns warnings (required champs left
    unmapped, champs that will always be left out)."""
    return _Validator(p, form, champs).run()
