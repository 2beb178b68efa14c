"""A form builder's client: prefill a form for a sandbox person, then validate it.

Run a gateway (``make run``: it prints the demo client's secret), then::

    python examples/prefill_client.py --secret <secret> [--form rsa]

or set ``UNEFOIS_URL``, ``UNEFOIS_CLIENT_ID``, ``UNEFOIS_CLIENT_SECRET``. It takes the first
adult of the sandbox, asks ``prefill`` for the form, prints every field with its state and
provenance, then calls ``submitPrefill``, confirming every field to confirm but one, which it
corrects, and providing the required fields nobody knows. See docs/prefill.md.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import date
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
    eligibility { benefit status monthlyAmount }
  }
}
"""


def arguments() -> argparse.Namespace:
    env = os.environ.get
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--url", default=env("UNEFOIS_URL", "http://127.0.0.1:8000"))
    p.add_argument("--client", default=env("UNEFOIS_CLIENT_ID", "demo-agency-app"))
    p.add_argument("--secret", default=env("UNEFOIS_CLIENT_SECRET"))
    p.add_argument("--sandbox", default=env("UNEFOIS_SANDBOX_URL", "http://127.0.0.1:8707"))
    p.add_argument("--form", default="rsa", choices=["rsa", "ppa", "css", "aspa"])
    p.add_argument("--purpose", default="rsa_instruction")
    p.add_argument("--recipient", default="13002526500013", help="SIRET of the public body")
    args = p.parse_args()
    if not args.secret:
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


def token(http: httpx.Client, args: argparse.Namespace) -> str:
    answer = http.post(
        args.url + "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(args.client, args.secret),
    )
    answer.raise_for_status()
    value: str = answer.json()["access_token"]
    return value


def graphql(
    http: httpx.Client, args: argparse.Namespace, bearer: str, query: str, **vars: Any
) -> Any:
    answer = http.post(
        args.url + "/graphql",
        json={"query": query, "variables": vars},
        headers={"Authorization": f"Bearer {bearer}"},
    )
    body = answer.json()
    for error in body.get("errors") or []:
        code = (error.get("extensions") or {}).get("code")
        print(f"  error {code}: {error.get('message')} at {error.get('path')}", file=sys.stderr)
    if answer.status_code != 200 or not body.get("data"):
        raise SystemExit(f"GraphQL call failed ({answer.status_code})")
    return body["data"]


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
    to_confirm = [f for f in form["fields"] if f["state"] == "TO_CONFIRM"]
    # Correct an amount if there is one (the rent, a month's salary), else the first field.
    amounts = [f for f in to_confirm if f["type"] in ("money", "number")]
    corrected = (amounts or to_confirm)[:1]
    corrections = {f["id"]: correction(f) for f in corrected}
    confirmations = [f["id"] for f in to_confirm if f["id"] not in corrections]
    provided = {
        f["id"]: example_value(f)
        for f in form["fields"]
        if f["state"] in ("TO_PROVIDE", "CONSENT_REQUIRED") and f["required"]
    }
    return confirmations, corrections, provided


def main() -> int:
    args = arguments()
    with httpx.Client(timeout=30) as http:
        # An adult: a child does not apply for these benefits.
        persons = http.get(args.sandbox + "/_sandbox/persons", params={"limit": 1, "kind": "adult"})
        persons.raise_for_status()
        entry = persons.json()["data"][0]
        ref = {"identity": identity(entry["personne"])}
        ctx = {"purpose": args.purpose, "recipient": args.recipient, "object": "dossier-42"}
        bearer = token(http, args)

        form = graphql(http, args, bearer, PREFILL, ref=ref, ctx=ctx, form=args.form)["prefill"]
        show(form)
        print("\ndémarches-simplifiées payload:")
        print(json.dumps(form["dsPayload"], ensure_ascii=False, indent=2)[:2000])

        confirmations, corrections, provided = submission(form)
        print(f"\nconfirming {len(confirmations)} fields, correcting {corrections}, ", end="")
        print(f"providing {provided}")
        done = graphql(
            http,
            args,
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
        for result in done.get("eligibility") or []:
            print(f"  {result['benefit']}: {result['status']} {result['monthlyAmount']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
