"""The Chinese catalogue: every message translated, none left fuzzy (Django skips fuzzy ones), and
the compiled .mo the app loads says what the .po says."""

import ast
import gettext
from pathlib import Path

LOCALE = Path(__file__).resolve().parents[2] / "locale" / "zh_Hans" / "LC_MESSAGES"


def _entries(domain: str) -> list[dict]:
    """The catalogue's entries (header and obsolete ones left out) as {field: text, "fuzzy": bool}."""
    entries = []
    for block in (LOCALE / f"{domain}.po").read_text(encoding="utf-8").split("\n\n"):
        entry: dict = {"fuzzy": False}
        field = None
        for line in block.splitlines():
            if line.startswith("#,"):
                entry["fuzzy"] = "fuzzy" in line
            elif line.startswith(("msgctxt ", "msgid ", "msgid_plural ", "msgstr")):
                field, _sep, quoted = line.partition(" ")
                entry[field] = ast.literal_eval(quoted)
            elif line.startswith('"') and field:
                entry[field] += ast.literal_eval(line)
        if entry.get("msgid"):
            entries.append(entry)
    return entries


def test_every_chinese_message_is_translated_and_compiled():
    entries = _entries("django")
    with (LOCALE / "django.mo").open("rb") as stream:
        compiled = gettext.GNUTranslations(stream)
    untranslated, fuzzy, stale = [], [], []
    for entry in entries:
        singular = entry.get("msgstr", entry.get("msgstr[0]", ""))
        if not singular:
            untranslated.append(entry["msgid"])
        elif entry["fuzzy"]:
            fuzzy.append(entry["msgid"])
        elif "msgid_plural" in entry:
            if compiled.ngettext(entry["msgid"], entry["msgid_plural"], 1) != singular:
                stale.append(entry["msgid"])
        elif "msgctxt" in entry:
            if compiled.pgettext(entry["msgctxt"], entry["msgid"]) != singular:
                stale.append(entry["msgid"])
        elif compiled.gettext(entry["msgid"]) != singular:
            stale.append(entry["msgid"])
    assert len(entries) > 100
    assert (untranslated, fuzzy, stale) == ([], [], [])
