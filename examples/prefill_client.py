"""A form builder's client: prefill a form for a sandbox person, then validate it.

Run a gateway (``make run``: it prints the demo clients' secrets), then::

    python examples/prefill_client.py --secret <demo-agency-app secret> --form rsa
    python examples/prefill_client.py --form-builder-secret <demo-form-builder secret> --form ppa

or set ``UNEFOIS_URL``, ``UNEFOIS_CLIENT_SECRET``, ``UNEFOIS_FORM_BUILDER_SECRET``.

It takes a sandbox person the form is meant for (``/_sandbox/persons``: an adult under 65
with low resources for the RSA, a working adult for the prime d'activité, a household of low
resources for the CSS, a person of 65 or more for the ASPA) and prefills the form under a
purpose the form names:

- ``rsa_instruction`` (the RSA form, by default): the département's demo application
  (``demo-agency-app``) instructs the application; the housing file is not released to it,
  so the person types their housing;
- ``citizen_prefill`` (the other forms, by default): the demo form builder
  (``demo-form-builder``) reads what the person consented to. The person signs in with the
  sandbox's FranceConnect and consents to the categories the form asks for
  (``consentRequired``), as they would in their citizen space.

It prints every field with its state and provenance, then calls ``submitPrefill``,
confirming every field to confirm but one amount, which it corrects, and typing what nobody
gave. It ends with the eligibility the gateway re-ran on the declared data, and when the
rules cannot evaluate it, what is missing. A call refused because an agency failed
(``UPSTREAM_TIMEOUT``, ``UPSTREAM_UNAVAILABLE``, ``RATE_LIMITED``) is sent again, up to three
times, after ``retryIn`` seconds when the gateway gives it. See docs/prefill.md.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import date, timedelta
from typing import Any

import httpx

PREFILL = """
query Prefill($ref: PersonRef!, $ctx: AccessContextInput!, $form: String!) {
  prefill(ref: $ref, context: $ctx, form: $form) {
    accessId
    form
    title
    consentRequired
    missingSources { source code categories fields }
    fields { id label type required choices value state provenance { agency source asOf } }
    dsPayload
  }
}
"""

GRANT = """
mutation Grant($input: GrantConsentInput!) { grantConsent(input: $input) { id categories } }
"""

SUBMIT = """
mutation Submit(
  $ref: PersonRef!, $ctx: AccessContextInput!, $form: String!,
  $confirmations: [String!]!, $corrections: JSON, $provided: JSON
) {
  submitPrefill(
    ref: $ref, context: $ctx, form: $form,
    confirmations: $confirmations, corrections: $corrections, provided: $provided
  ) {
    submissionId
    accessId
    changed
    form { fields { id value state provenance { agency } } }
    eligibility { benefit status monthlyAmount missing }
  }
}
"""


FORMS = ("rsa", "ppa", "css", "aspa")
# The purpose each form is prefilled under by default, among those the form names.
DEFAULT_PURPOSES = {
    "rsa": "rsa_instruction",
    "ppa": "citizen_prefill",
    "css": "citizen_prefill",
    "aspa": "citizen_prefill",
}
CONSENT = "citizen_prefill"
FORM_BUILDER = "demo-form-builder"
# The sandbox's ground truth (``kind``) of a person each form is meant for.
PERSON_KINDS = {
    "rsa": "rsa_eligible",
    "ppa": "ppa_eligible",
    "css": "css_eligible",
    "aspa": "aspa_eligible",
}
# The sandbox's household kinds without a partner.
WITHOUT_PARTNER = ("single", "single_parent", "student", "pensioner_single")
# What the example person types in fields nobody filled, besides the required ones: their
# housing, and that they receive no benefit (booleans).
TYPED = {"loyer_mensuel": 450.0, "charges_mensuelles": 50.0}


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    env = os.environ.get
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--url", default=env("UNEFOIS_URL", "http://127.0.0.1:8000"))
    p.add_argument("--client", default=env("UNEFOIS_CLIENT_ID", "demo-agency-app"))
    p.add_argument("--secret", default=env("UNEFOIS_CLIENT_SECRET"))
    p.add_argument(
        "--form-builder-secret",
        default=env("UNEFOIS_FORM_BUILDER_SECRET"),
        help=f"{FORM_BUILDER}'s secret, for the purpose {CONSENT}",
    )
    p.add_argument("--sandbox", default=env("UNEFOIS_SANDBOX_URL", "http://127.0.0.1:8707"))
    p.add_argument(
        "--france-connect",
        default=env("UNEFOIS_FRANCECONNECT_ISSUER", "http://127.0.0.1:8708"),
        help="the sandbox's FranceConnect, where the person signs in to consent",
    )
    p.add_argument("--form", default="rsa", choices=FORMS)
    p.add_argument("--purpose", help="default: rsa_instruction for rsa, else citizen_prefill")
    p.add_argument("--recipient", default="13002526500013", help="SIRET of the public body")
    p.add_argument(
        "--until",
        type=date.fromisoformat,
        default=date.today() + timedelta(days=30),
        help="the last day of the person's consent (YYYY-MM-DD; default: in 30 days)",
    )
    args = p.parse_args(argv)
    args.purpose = args.purpose or DEFAULT_PURPOSES[args.form]
    if args.purpose == CONSENT and not args.form_builder_secret:
        p.error(f"give {FORM_BUILDER}'s secret (--form-builder-secret)")
    if args.purpose != CONSENT and not args.secret:
        p.error("give the client secret (--secret or UNEFOIS_CLIENT_SECRET)")
    return args


def identity(person: dict[str, Any]) -> dict[str, Any]:
    """A sandbox person (API Particulier's parameter names) → the GraphQL identity input."""
    ident: dict[str, Any] = {
        "birthName": person["nomNaissance"],
        "givenNames": person.get("prenoms") or [],
        "birthDate": "{:04d}-{:02d}-{:02d}".format(
            int(person["anneeDateNaissance"]),
            int(person["moisDateNaissance"]),
            int(person["jourDateNaissance"]),
        ),
        "sex": person["sexeEtatCivil"],
        "birthCountry": person["codeCogInseePaysNaissance"],
    }
    if person.get("codeCogInseeCommuneNaissance"):
        ident["birthPlace"] = person["codeCogInseeCommuneNaissance"]
    return ident


def token(http: httpx.Client, url: str, client: str, secret: str) -> str:
    answer = http.post(
        url + "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(client, secret),
    )
    answer.raise_for_status()
    value: str = answer.json()["access_token"]
    return value


# An agency that failed may answer on the next try: the same call is sent again.
TRANSIENT = {"UPSTREAM_TIMEOUT", "UPSTREAM_UNAVAILABLE", "RATE_LIMITED"}
ATTEMPTS = 3


def graphql(http: httpx.Client, url: str, bearer: str, query: str, **vars: Any) -> Any:
    for attempt in range(1, ATTEMPTS + 1):
        answer = http.post(
            url + "/graphql",
            json={"query": query, "variables": vars},
            headers={"Authorization": f"Bearer {bearer}"},
        )
        body = answer.json()
        codes = []
        for error in body.get("errors") or []:
            extensions = error.get("extensions") or {}
            codes.append(extensions.get("code"))
            print(
                f"  error {codes[-1]}: {error.get('message')} at {error.get('path')}",
                file=sys.stderr,
            )
        if answer.status_code == 200 and body.get("data"):
            return body["data"]
        if attempt == ATTEMPTS or not codes or not set(codes) <= TRANSIENT:
            break
        wait = max((e.get("extensions") or {}).get("retryIn", 1) for e in body["errors"])
        print(f"  sent again in {wait} s", file=sys.stderr)
        time.sleep(wait)
    raise SystemExit(f"GraphQL call failed ({answer.status_code})")


def show(form: dict[str, Any]) -> None:
    print(f"\n{form['title']}  (accessId {form['accessId']})")
    for missing in form["missingSources"]:
        why = f"{missing['code']}, {', '.join(missing['categories'])}"
        print(f"  {missing['source']} not available ({why}): {', '.join(missing['fields'])}")
    if form["consentRequired"]:
        print(f"  the person may consent to: {', '.join(form['consentRequired'])}")
    for f in form["fields"]:
        origin = f["provenance"]
        source = f"{origin['agency']}, {origin['asOf']}" if origin else "-"
        value = json.dumps(f["value"], ensure_ascii=False)
        print(f"  [{f['state']:<10}] {f['label'][:48]:<48} {value[:60]:<60} {source}")


def example_value(field: dict[str, Any]) -> Any:
    """What a person would type in a field nobody knows (the example's stand-in)."""
    kind = field["type"]
    if kind == "choice":
        return field["choices"][0]
    if kind == "boolean":
        return False
    if kind in ("money", "number"):
        return 0
    if kind == "date":
        return date.today().isoformat()
    if kind == "repetition":
        return []
    if kind == "nir":
        return "7 85 05 99 350 001 45"  # a provisional number (first digit 7), nobody's
    return "exemple"


def correction(field: dict[str, Any]) -> Any:
    """A plausible correction of a prefilled value (a rent gone up, a city renamed…)."""
    value = field["value"]
    if field["type"] in ("money", "number"):
        return round(float(value) + 10, 2)
    if field["type"] == "boolean":
        return not value
    if field["type"] == "choice":
        return next(c for c in field["choices"] if c != value)
    if field["type"] == "repetition":
        return value[:-1]
    return f"{value} (corrigé)"


def submission(form: dict[str, Any]) -> tuple[list[str], dict[str, Any], dict[str, Any]]:
    """(confirmations, corrections, provided): every field to confirm confirmed but one, which
    is corrected (the rent when it was prefilled, else the address: a move), and what nobody
    gave typed (the required fields, the housing, and no benefit received)."""
    to_confirm = [f for f in form["fields"] if f["state"] == "TO_CONFIRM"]
    preferred = ("loyer_mensuel", "adresse")
    ranked = sorted(to_confirm, key=lambda f: (f["id"] not in preferred, f["id"] != preferred[0]))
    corrections = {f["id"]: correction(f) for f in ranked[:1]}
    confirmations = [f["id"] for f in to_confirm if f["id"] not in corrections]
    empty = [f for f in form["fields"] if f["state"] in ("TO_PROVIDE", "CONSENT_REQUIRED")]
    provided = {f["id"]: example_value(f) for f in empty if f["required"]}
    provided.update({f["id"]: TYPED[f["id"]] for f in empty if f["id"] in TYPED})
    provided.update({f["id"]: False for f in empty if f["type"] == "boolean"})
    return confirmations, corrections, provided


def person_for(http: httpx.Client, args: argparse.Namespace) -> dict[str, Any]:
    """A sandbox adult the form is meant for, alive, known to the CAF, with every month of
    resources declared (the sandbox's ground truth gives the kind of person), living without
    a partner when there is one such: a person's consent does not cover their partner's
    data, which the rules need to evaluate a couple."""
    answer = http.get(
        args.sandbox + "/_sandbox/persons",
        params={"limit": 200, "kind": PERSON_KINDS[args.form]},
    )
    answer.raise_for_status()
    fitting = [
        entry
        for entry in answer.json()["data"]
        if entry["role"] == "adult"
        and not entry["deceased"]
        and not entry["unknown_to_caf"]
        and not entry["homonym_of"]
        and not entry["missing_months"]
        and entry["scenario"] is None
    ]
    if not fitting:
        raise SystemExit(f"no sandbox person for the {args.form} form")
    alone = [e for e in fitting if e["household_kind"] in WITHOUT_PARTNER]
    return dict((alone or fitting)[0])


def consent(
    http: httpx.Client, args: argparse.Namespace, entry: dict[str, Any], categories: list[str]
) -> None:
    """The person signs in with the sandbox's FranceConnect and lets the form builder read
    ``categories`` until ``--until`` (what their citizen space does)."""
    signed_in = http.post(
        args.france_connect + "/_sandbox/france_connect/tokens", json={"person": entry["index"]}
    )
    signed_in.raise_for_status()
    citizen = signed_in.json()["access_token"]
    grant = {"client": FORM_BUILDER, "categories": categories, "until": args.until.isoformat()}
    granted = graphql(http, args.url, citizen, GRANT, input=grant)["grantConsent"]
    print(f"the person consents to {FORM_BUILDER} reading: {', '.join(granted['categories'])}")


def result_line(result: dict[str, Any]) -> str:
    """One benefit's answer; when the rules cannot evaluate it, what they miss."""
    line = f"  {result['benefit']}: {result['status']}"
    if result["monthlyAmount"] is not None:
        line += f" {result['monthlyAmount']:.2f} €/mois"
    if result["missing"]:
        line += f" — missing: {'; '.join(result['missing'])}"
    elif result["status"] == "CANNOT_EVALUATE":
        line += " — missing: (not said)"
    return line


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    with httpx.Client(timeout=60) as http:
        entry = person_for(http, args)
        ref = {"identity": identity(entry["personne"])}
        ctx = {"purpose": args.purpose, "recipient": args.recipient, "object": "dossier-42"}
        if args.purpose == CONSENT:
            bearer = token(http, args.url, FORM_BUILDER, args.form_builder_secret)
            # Without any consent the person cannot even be identified: their identity first,
            # then what the form says it needs.
            consent(http, args, entry, ["identite"])
            asked = graphql(http, args.url, bearer, PREFILL, ref=ref, ctx=ctx, form=args.form)
            needed = asked["prefill"]["consentRequired"]
            if needed:
                consent(http, args, entry, ["identite", *needed])
        else:
            bearer = token(http, args.url, args.client, args.secret)

        form = graphql(http, args.url, bearer, PREFILL, ref=ref, ctx=ctx, form=args.form)
        form = form["prefill"]
        show(form)
        print("\ndémarches-simplifiées payload:")
        print(json.dumps(form["dsPayload"], ensure_ascii=False, indent=2)[:2000])

        confirmations, corrections, provided = submission(form)
        print(f"\nconfirming {len(confirmations)} fields, correcting {corrections}, ", end="")
        print(f"providing {provided}")
        done = graphql(
            http,
            args.url,
            bearer,
            SUBMIT,
            ref=ref,
            ctx=ctx,
            form=args.form,
            confirmations=confirmations,
            corrections=corrections,
            provided=provided,
        )["submitPrefill"]
        print(f"\nstored (accessId {done['accessId']}); changed by the person: {done['changed']}")
        print("eligibility re-run on what the person declared:")
        for result in done.get("eligibility") or []:
            print(result_line(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
