"""The HTML pages: the dossier form, its confirmation, and the procedure's prefill page.

Plain HTML in French, no script and no external asset: labels tied to their inputs,
fieldsets for radio groups, checkbox groups and repetition rows, errors listed at the top
with links to their fields and repeated next to each field.
"""

from __future__ import annotations

import json
from html import escape

from sandbox.demarches import geo
from sandbox.demarches.entry import IDENTITY, ROWS_MAX, Raw, field_name, row_count, rows_name
from sandbox.demarches.procedures import ChampDef, Procedure
from sandbox.demarches.store import BROUILLON, EN_CONSTRUCTION, Dossier

_STYLE = """
body{font-family:Marianne,Arial,sans-serif;max-width:48rem;margin:0 auto;padding:1rem;
color:#161616;line-height:1.5}
label,legend{display:block;font-weight:bold;margin-top:1rem}
.hint{display:block;font-weight:normal;color:#555;font-size:.9rem}
input[type=text],input[type=email],input[type=tel],input[type=date],
input[type=datetime-local],select,textarea{display:block;width:100%;max-width:32rem;
padding:.4rem;border:1px solid #3a3a3a;font:inherit}
.choice label{display:inline;font-weight:normal;margin:0 1rem 0 .3rem}
fieldset{border:1px solid #ddd;margin:1rem 0;padding:.5rem 1rem}
.error{color:#ce0500;font-weight:bold}
.summary{border:2px solid #ce0500;padding:.5rem 1rem}
button{font:inherit;padding:.4rem 1rem;margin-top:1rem}
:focus{outline:3px solid #0a76f6;outline-offset:2px}
table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:.3rem;vertical-align:top;
text-align:left}code{word-break:break-all}
"""
TYPE_HINTS = {  # DS's "possible_values" texts
    "text": "Un texte court",
    "textarea": "Un texte long",
    "decimal_number": "Un nombre décimal",
    "integer_number": "Un nombre entier",
    "email": "Une adresse électronique",
    "phone": "Un numéro de téléphone",
    "civilite": '"M." pour Monsieur, "Mme" pour Madame',
    "yes_no": '"true" pour Oui, "false" pour Non',
    "checkbox": '"true" pour coché, "false" pour décoché',
    "pays": "Un code pays ISO 3166-2",
    "departements": "Un numéro de département",
    "communes": "Un tableau contenant le code postal et le code INSEE de la commune",
    "address": "Une adresse EXACTEMENT formatée telle que le label retourné par la Base"
    " Adresse Nationale",
    "date": "Date au format ISO8601",
    "datetime": "Datetime au format ISO8601",
    "drop_down_list": "Un choix parmi ceux sélectionnés à la création de la procédure",
    "multiple_drop_down_list": "Un ou plusieurs choix parmi ceux sélectionnés à la création"
    " de la procédure",
    "repetition": "Un tableau de dictionnaires avec les valeurs possibles pour chaque champ de"
    " la répétition.",
}
EXAMPLES: dict[str, object] = {  # DS's examples
    "text": "Texte court",
    "textarea": "Lorem ipsum dolor sit amet.",
    "decimal_number": 49.3,
    "integer_number": 42,
    "email": "adresse@mail.com",
    "phone": "0612345678",
    "yes_no": "true",
    "checkbox": "true",
    "civilite": "M.",
    "pays": "FR",
    "departements": "56",
    "communes": ["75011", "75056"],
    "address": "20 Avenue de Ségur 75007 Paris",
    "date": "2023-02-01",
    "datetime": "2023-02-01T10:30",
}


def layout(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)} · démarches-simplifiées (bac à sable)</title>"
        f"<style>{_STYLE}</style></head><body>"
        "<header><p>démarches-simplifiées — bac à sable</p></header>"
        f'<main id="contenu">{body}</main></body></html>'
    )


def _hint_id(name: str) -> str:
    return f"{name}-aide"


def _error_id(name: str) -> str:
    return f"{name}-erreur"


def _described(name: str, hint: bool, errors: dict[str, str]) -> str:
    ids = ([_hint_id(name)] if hint else []) + ([_error_id(name)] if name in errors else [])
    invalid = ' aria-invalid="true"' if name in errors else ""
    return (f' aria-describedby="{" ".join(ids)}"' if ids else "") + invalid


def _error(name: str, errors: dict[str, str]) -> str:
    if name not in errors:
        return ""
    return f'<p class="error" id="{_error_id(name)}">{escape(errors[name])}</p>'


def _options(pairs: list[tuple[str, str]], chosen: str) -> str:
    out = ['<option value="">Choisir une option</option>']
    for value, text in pairs:
        selected = " selected" if value == chosen else ""
        out.append(f'<option value="{escape(value)}"{selected}>{escape(text)}</option>')
    return "".join(out)


def _radios(name: str, pairs: list[tuple[str, str]], chosen: str) -> str:
    out = []
    for index, (value, text) in enumerate(pairs):
        checked = " checked" if value == chosen else ""
        out.append(
            f'<span class="choice"><input type="radio" id="{name}-{index}" name="{name}"'
            f' value="{escape(value)}"{checked}><label for="{name}-{index}">{escape(text)}'
            "</label></span>"
        )
    return "".join(out)


def _group(name: str, legend: str, hint: str | None, inner: str, errors: dict[str, str]) -> str:
    hint_html = f'<span class="hint" id="{_hint_id(name)}">{escape(hint)}</span>' if hint else ""
    return (
        f'<fieldset id="{name}"{_described(name, bool(hint), errors)}>'
        f"<legend>{escape(legend)}{hint_html}</legend>{_error(name, errors)}{inner}</fieldset>"
    )


def _required(champ: ChampDef) -> str:
    return " (obligatoire)" if champ.required else ""


def champ_input(champ: ChampDef, name: str, given: list[str], errors: dict[str, str]) -> str:
    value = given[0] if given else ""
    label = champ.label + _required(champ)
    kind = champ.type
    if kind == "yes_no":
        pairs = [("true", "Oui"), ("false", "Non")]
        return _group(name, label, champ.description, _radios(name, pairs, value), errors)
    if kind == "civilite":
        pairs = [("Mme", "Madame"), ("M.", "Monsieur")]
        return _group(name, label, champ.description, _radios(name, pairs, value), errors)
    if kind == "multiple_drop_down_list":
        boxes = []
        for index, option in enumerate(champ.options):
            checked = " checked" if option in given else ""
            boxes.append(
                f'<span class="choice"><input type="checkbox" id="{name}-{index}" name="{name}"'
                f' value="{escape(option)}"{checked}><label for="{name}-{index}">'
                f"{escape(option)}</label></span>"
            )
        return _group(name, label, champ.description, "".join(boxes), errors)
    hint = champ.description
    hint_html = f'<span class="hint" id="{_hint_id(name)}">{escape(hint)}</span>' if hint else ""
    aria = _described(name, bool(hint), errors)
    required = " required" if champ.required and kind != "checkbox" else ""
    if kind == "checkbox":
        checked = " checked" if value == "true" else ""
        return (
            f'<p><input type="checkbox" id="{name}" name="{name}" value="true"{checked}{aria}>'
            f' <label for="{name}" style="display:inline">{escape(label)}</label>{hint_html}</p>'
            f"{_error(name, errors)}"
        )
    head = f'<label for="{name}">{escape(label)}{hint_html}</label>{_error(name, errors)}'
    attrs = f'id="{name}" name="{name}"{aria}{required}'
    if kind == "textarea":
        return f'{head}<textarea {attrs} rows="4">{escape(value)}</textarea>'
    if kind in ("drop_down_list", "pays", "departements", "communes"):
        if kind == "drop_down_list":
            pairs = [(o, o) for o in champ.options]
        elif kind == "pays":
            pairs = sorted(geo.COUNTRIES.items(), key=lambda p: p[1])
        elif kind == "departements":
            pairs = [(c, f"{c} – {n}") for c, n in geo.DEPARTEMENTS.items()]
        else:
            pairs = [
                (f"{p}|{c.code}", f"{c.name} ({p})") for c in geo.COMMUNES for p in c.postal_codes
            ]
        return f"{head}<select {attrs}>{_options(pairs, value)}</select>"
    input_type = {"email": "email", "phone": "tel", "date": "date", "datetime": "datetime-local"}
    mode = {"integer_number": ' inputmode="numeric"', "decimal_number": ' inputmode="decimal"'}
    autocomplete = ' autocomplete="street-address"' if kind == "address" else ""
    return (
        f'{head}<input type="{input_type.get(kind, "text")}" {attrs}{mode.get(kind, "")}'
        f'{autocomplete} value="{escape(value)}">'
    )


def _repetition(champ: ChampDef, raw: Raw, errors: dict[str, str]) -> str:
    rows = []
    count = row_count(raw, champ)
    for index in range(count):
        inner = "".join(
            champ_input(
                child, field_name(child, index), raw.get(field_name(child, index), []), errors
            )
            for child in champ.children
        )
        remove = (
            f'<button type="submit" name="_action" value="supprimer:{champ.id}:{index}">'
            f"Supprimer la ligne {index + 1}</button>"
        )
        rows.append(f"<fieldset><legend>Ligne {index + 1}</legend>{inner}{remove}</fieldset>")
    name = rows_name(champ)
    hint = f'<p class="hint">{escape(champ.description)}</p>' if champ.description else ""
    add = (
        f'<button type="submit" name="_action" value="ajouter:{champ.id}">'
        f"Ajouter une ligne à « {escape(champ.label)} »</button>"
    )
    return (
        f'<fieldset id="{name}"><legend>{escape(champ.label + _required(champ))}</legend>{hint}'
        f'{_error(name, errors)}<input type="hidden" name="{name}" value="{count}">'
        f"{''.join(rows)}{add}</fieldset>"
    )


def _summary(procedure: Procedure, errors: dict[str, str]) -> str:
    if not errors:
        return ""
    labels = {"identite_genre": "Civilité", "identite_nom": "Nom", "identite_prenom": "Prénom"}
    for champ in procedure.champs:
        labels[champ.key] = labels[rows_name(champ)] = champ.label
        for index in range(ROWS_MAX):
            for child in champ.children:
                labels[field_name(child, index)] = (
                    f"{champ.label}, ligne {index + 1} : {child.label}"
                )
    items = "".join(
        f'<li><a href="#{name}">{escape(labels.get(name, name))} : {escape(message)}</a></li>'
        for name, message in errors.items()
    )
    count = len(errors)
    title = "Une erreur empêche" if count == 1 else f"{count} erreurs empêchent"
    return (
        f'<div class="summary" role="alert"><h2>{title} le dépôt du dossier</h2>'
        f"<ul>{items}</ul></div>"
    )


def dossier_form(
    procedure: Procedure, dossier: Dossier, raw: Raw, errors: dict[str, str], action: str
) -> str:
    genre, nom, prenom = ((raw.get(n) or [""])[0] for n in IDENTITY)
    identity = _group(
        "identite_genre",
        "Civilité (obligatoire)",
        None,
        _radios("identite_genre", [("Mme", "Madame"), ("M.", "Monsieur")], genre),
        errors,
    )
    for name, label, value in (("identite_nom", "Nom", nom), ("identite_prenom", "Prénom", prenom)):
        identity += (
            f'<label for="{name}">{label} (obligatoire)</label>{_error(name, errors)}'
            f'<input type="text" id="{name}" name="{name}" value="{escape(value)}" required'
            f"{_described(name, False, errors)}>"
        )
    parts = []
    for champ in procedure.champs:
        if champ.type == "header_section":
            parts.append(f"<h2>{escape(champ.label)}</h2>")
        elif champ.type == "repetition":
            parts.append(_repetition(champ, raw, errors))
        else:
            parts.append(champ_input(champ, champ.key, raw.get(champ.key, []), errors))
    if dossier.state == BROUILLON:
        intro = (
            f"<p>Dossier nº {dossier.number} (brouillon). Les champs déjà remplis l'ont été pour "
            "vous : vérifiez-les, corrigez-les si besoin, puis déposez le dossier.</p>"
        )
        button = "Déposer le dossier"
    else:
        intro = (
            f"<p>Dossier nº {dossier.number} (en construction) : vous pouvez le modifier tant "
            "que l'administration ne l'a pas pris en instruction.</p>"
        )
        button = "Enregistrer les modifications"
    body = (
        f"<h1>{escape(procedure.title)}</h1>"
        f"{intro}"
        f"{_summary(procedure, errors)}"
        f'<form method="post" action="{escape(action)}" novalidate>'
        f"<h2>Identité du demandeur</h2>{identity}{''.join(parts)}"
        f'<p><button type="submit" name="_action" value="deposer">{button}</button></p>'
        "</form>"
    )
    title = ("Erreur — " if errors else "") + procedure.title
    return layout(title, body)


def deposited(procedure: Procedure, dossier: Dossier) -> str:
    modify = f"/commencer/{procedure.path}?prefill_token={dossier.prefill_token}"
    body = (
        f"<h1>Votre dossier nº {dossier.number} a bien été déposé</h1>"
        f"<p>Démarche : {escape(procedure.title)}.</p>"
        "<p>Il est maintenant « en construction » : l'administration peut l'examiner.</p>"
        + (
            f'<p><a href="{escape(modify)}">Modifier le dossier</a></p>'
            if dossier.state == EN_CONSTRUCTION
            else ""
        )
    )
    return layout(f"Dossier nº {dossier.number} déposé", body)


def start(procedure: Procedure, action: str) -> str:
    body = (
        f"<h1>{escape(procedure.title)}</h1><p>{escape(procedure.organisation)}</p>"
        f'<form method="post" action="{escape(action)}">'
        '<button type="submit">Commencer la démarche</button></form>'
    )
    return layout(procedure.title, body)


def message(title: str, text: str) -> str:
    return layout(title, f"<h1>{escape(title)}</h1><p>{escape(text)}</p>")


def _example(champ: ChampDef) -> object:
    if champ.type in ("drop_down_list",):
        return champ.options[0]
    if champ.type == "multiple_drop_down_list":
        return list(champ.options[:2])
    if champ.type == "repetition":
        row = {c.key: _example(c) for c in champ.children if c.prefillable}
        return [row, row]
    return EXAMPLES.get(champ.type, "")


def prefill_example(procedure: Procedure) -> dict[str, object]:
    """A POST body naming every prefillable champ with DS's example value."""
    out: dict[str, object] = {
        "identite_prenom": "Jean",
        "identite_nom": "Dupont",
        "identite_genre": "M.",
    }
    for champ in procedure.champs:
        if champ.prefillable:
            out[champ.key] = _example(champ)
    return out


def _possible(champ: ChampDef) -> str:
    text = escape(TYPE_HINTS.get(champ.type, ""))
    if champ.options:
        text += "<ul>" + "".join(f"<li>{escape(o)}</li>" for o in champ.options) + "</ul>"
    if champ.children:
        text += (
            "<ul>"
            + "".join(
                f"<li><code>{child.key}</code> ({escape(child.label)}, {child.type}) : "
                f"{_possible(child)}</li>"
                for child in champ.children
            )
            + "</ul>"
        )
    return text


def preremplir(procedure: Procedure, base_url: str) -> str:
    rows = [
        "<tr><td><code>identite_prenom</code></td><td>Prénom (identité)</td><td>—</td>"
        '<td>Un prénom</td><td><code>"Jean"</code></td></tr>',
        "<tr><td><code>identite_nom</code></td><td>Nom (identité)</td><td>—</td>"
        '<td>Un nom</td><td><code>"Dupont"</code></td></tr>',
        "<tr><td><code>identite_genre</code></td><td>Genre (identité)</td><td>—</td>"
        '<td>"M." pour Monsieur, "Mme" pour Madame</td><td><code>"M."</code></td></tr>',
    ]
    for champ in procedure.champs:
        if not champ.prefillable:
            continue
        example = escape(json.dumps(_example(champ), ensure_ascii=False))
        rows.append(
            f"<tr><td><code>{champ.key}</code></td><td>{escape(champ.label)}</td>"
            f"<td>{champ.type}</td><td>{_possible(champ)}</td><td><code>{example}</code></td></tr>"
        )
    post_url = f"{base_url}/api/public/v1/demarches/{procedure.number}/dossiers"
    body_json = escape(json.dumps(prefill_example(procedure), ensure_ascii=False, indent=2))
    body = (
        f"<h1>Préremplir « {escape(procedure.title)} »</h1>"
        "<p>Chaque champ se préremplit par sa clé. Une valeur que la démarche n'accepte pas "
        "est ignorée : le champ reste vide pour l'usager.</p>"
        '<table><caption>Champs préremplissables</caption><thead><tr><th scope="col">Clé'
        '</th><th scope="col">Libellé</th><th scope="col">Type</th><th scope="col">Valeurs'
        '</th><th scope="col">Exemple</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
        "<h2>Requête de préremplissage (POST)</h2>"
        f"<pre><code>curl --request POST '{escape(post_url)}' \\\n"
        "  --header 'Content-Type: application/json' \\\n"
        f"  --data '{body_json}'</code></pre>"
        "<h2>Lien de préremplissage (GET)</h2>"
        f"<p><code>{escape(base_url)}/commencer/{escape(procedure.path)}?champ_…=…</code></p>"
        "<h2>Description JSON de la démarche</h2>"
        f'<p><a href="/preremplir/{escape(procedure.path)}/schema">'
        f"{escape(base_url)}/preremplir/{escape(procedure.path)}/schema</a></p>"
    )
    return layout(f"Préremplir {procedure.title}", body)
