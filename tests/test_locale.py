"""The translation catalogues are complete, compiled and in step with the code.

Fails on a missing language, an untranslated or fuzzy entry, a wrong plural header, a
``.mo`` that does not hold what its ``.po`` says, and a string marked for translation in
the code or templates that the catalogues do not carry (run ``make messages``).
"""

from __future__ import annotations

import ast
import gettext
import shutil
import struct
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.core.management import call_command

PACKAGE = Path(__file__).resolve().parent.parent / "django_cas_ng"
LOCALE = PACKAGE / "locale"

#: Language -> (nplurals, {n: expected plural index}) probing the Plural-Forms formula.
PLURALS: dict[str, tuple[int, dict[int, int]]] = {
    "ca": (2, {0: 1, 1: 0, 2: 1}),
    "de": (2, {0: 1, 1: 0, 2: 1}),
    "es": (2, {0: 1, 1: 0, 2: 1}),
    "fr": (2, {0: 0, 1: 0, 2: 1}),
    "it": (2, {0: 1, 1: 0, 2: 1}),
    "ja": (1, {0: 0, 1: 0, 2: 0}),
    "nl": (2, {0: 1, 1: 0, 2: 1}),
    "pl": (3, {1: 0, 2: 1, 5: 2, 12: 2, 22: 1, 25: 2}),
    "pt_BR": (2, {0: 0, 1: 0, 2: 1}),
    "ru": (3, {1: 0, 2: 1, 5: 2, 11: 2, 21: 0, 22: 1}),
    "uk": (3, {1: 0, 2: 1, 5: 2, 11: 2, 21: 0, 22: 1}),
    "zh_Hans": (1, {0: 0, 1: 0, 2: 0}),
}
REQUIRED = sorted(PLURALS)


@dataclass
class Entry:
    """One message of a ``.po`` file."""

    msgid: str = ""
    context: str | None = None
    plural: str | None = None
    translations: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)

    @property
    def key(self) -> str:
        return self.msgid if self.context is None else f"{self.context}\x04{self.msgid}"


def parse_po(path: Path) -> list[Entry]:
    """Read a ``.po`` file: flags, context, singular and plural ids and translations.

    Obsolete (``#~``) entries are skipped, as msgfmt skips them.
    """
    entries: list[Entry] = []
    entry, target = Entry(), ("", 0)

    def flush() -> None:
        nonlocal entry, target
        if target[0]:
            entries.append(entry)
        entry, target = Entry(), ("", 0)

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        keyword, _, rest = line.partition(" ")
        starts_entry = line[:1] == "#" or keyword in ("msgid", "msgctxt")
        if not line or (target[0] == "msgstr" and starts_entry):
            flush()
        if line.startswith("#,"):
            entry.flags.update(flag.strip() for flag in line[2:].split(","))
        if not line or line.startswith("#"):
            continue
        if line.startswith('"'):
            _store(entry, target, ast.literal_eval(line), fresh=False)
            continue
        target = ("msgstr", int(keyword[7:-1])) if keyword.startswith("msgstr[") else (keyword, 0)
        _store(entry, target, ast.literal_eval(rest), fresh=True)
    flush()
    return entries


def _store(entry: Entry, target: tuple[str, int], text: str, fresh: bool) -> None:
    name, index = target
    if name == "msgid":
        entry.msgid = ("" if fresh else entry.msgid) + text
    elif name == "msgctxt":
        entry.context = ("" if fresh else entry.context or "") + text
    elif name == "msgid_plural":
        entry.plural = ("" if fresh else entry.plural or "") + text
    elif name == "msgstr":
        entry.translations[index] = ("" if fresh else entry.translations[index]) + text
    else:
        raise ValueError(f"unknown keyword {name!r}")


def read_mo(path: Path) -> dict[str, list[str]]:
    """Read a compiled catalogue: original key (context and plural included) -> translations."""
    data = path.read_bytes()
    magic = struct.unpack("<I", data[:4])[0]
    order = "<" if magic == 0x950412DE else ">"
    _, count, originals, translations = struct.unpack(order + "4I", data[4:20])
    catalogue: dict[str, list[str]] = {}
    for n in range(count):
        olen, ooff = struct.unpack(order + "2I", data[originals + 8 * n : originals + 8 * n + 8])
        tlen, toff = struct.unpack(
            order + "2I", data[translations + 8 * n : translations + 8 * n + 8]
        )
        original = data[ooff : ooff + olen].decode().split("\x00")[0]
        catalogue[original] = data[toff : toff + tlen].decode().split("\x00")
    return catalogue


def headers(entries: list[Entry]) -> dict[str, str]:
    header = next(entry for entry in entries if entry.msgid == "" and entry.context is None)
    pairs = (line.partition(":") for line in header.translations[0].splitlines() if line)
    return {name.strip(): value.strip() for name, _, value in pairs}


def catalogue(language: str) -> list[Entry]:
    return parse_po(LOCALE / language / "LC_MESSAGES" / "django.po")


def messages(language: str) -> list[Entry]:
    return [entry for entry in catalogue(language) if entry.key]


def test_every_required_language_is_shipped() -> None:
    shipped = {path.parent.parent.name for path in LOCALE.glob("*/LC_MESSAGES/django.po")}
    assert set(REQUIRED) <= shipped, f"missing catalogues: {sorted(set(REQUIRED) - shipped)}"


def test_no_catalogue_beyond_the_checked_ones() -> None:
    """A new language is added to ``PLURALS`` here, so its plural header is checked too."""
    shipped = {path.parent.parent.name for path in LOCALE.glob("*/LC_MESSAGES/django.po")}
    assert shipped <= set(REQUIRED)


@pytest.mark.parametrize("language", REQUIRED)
def test_every_entry_is_translated_and_not_fuzzy(language: str) -> None:
    nplurals = PLURALS[language][0]
    problems = []
    for entry in catalogue(language):
        if "fuzzy" in entry.flags:
            problems.append(f"fuzzy: {entry.msgid!r}")
        expected = range(nplurals) if entry.plural is not None else range(1)
        if entry.key and any(not entry.translations.get(i) for i in expected):
            problems.append(f"untranslated: {entry.msgid!r}")
    assert not problems, f"{language}: " + "; ".join(problems)


@pytest.mark.parametrize("language", REQUIRED)
def test_header_names_the_language_and_its_plural_forms(language: str) -> None:
    header = headers(catalogue(language))
    assert header["Language"] == language
    assert header["Content-Type"] == "text/plain; charset=UTF-8"
    nplurals, probes = PLURALS[language]
    forms = header["Plural-Forms"]
    assert forms.startswith(f"nplurals={nplurals};")
    plural = gettext.c2py(forms.partition("plural=")[2].rstrip(";"))
    assert {n: plural(n) for n in probes} == probes


@pytest.mark.parametrize("language", REQUIRED)
def test_compiled_catalogue_matches_its_source(language: str) -> None:
    """The committed ``.mo`` holds exactly the ``.po``'s translations: nothing stale."""
    compiled = read_mo(LOCALE / language / "LC_MESSAGES" / "django.mo")
    expected = {
        entry.key: [entry.translations[i] for i in sorted(entry.translations)]
        for entry in catalogue(language)
    }
    # msgfmt leaves the extraction date out of the compiled header.
    expected[""] = [
        "".join(
            line
            for line in expected[""][0].splitlines(keepends=True)
            if not line.startswith("POT-Creation-Date:")
        )
    ]
    assert compiled == expected, f"{language}: run `make messages` to recompile"


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="GNU gettext (msgfmt) not installed")
@pytest.mark.parametrize("language", REQUIRED)
def test_msgfmt_accepts_the_catalogue(language: str) -> None:
    """Placeholders match (``%s`` in, ``%s`` out) and the header is complete."""
    source = LOCALE / language / "LC_MESSAGES" / "django.po"
    result = subprocess.run(
        ["msgfmt", "--check", "-o", "/dev/null", str(source)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="GNU gettext (xgettext) not installed")
def test_catalogues_carry_every_string_marked_in_the_code(tmp_path: Path, monkeypatch) -> None:
    """Extract the package's strings afresh and compare with each catalogue's ids."""
    copy = tmp_path / "django_cas_ng"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "locale"))
    (copy / "locale").mkdir()
    monkeypatch.chdir(copy)
    call_command("makemessages", locale=["en"], add_location="never", verbosity=0)
    extracted = {entry.key for entry in parse_po(copy / "locale/en/LC_MESSAGES/django.po")}
    extracted.discard("")
    for language in REQUIRED:
        shipped = {entry.key for entry in messages(language)}
        assert shipped == extracted, (
            f"{language}: missing {sorted(extracted - shipped)}, stale {sorted(shipped - extracted)}"
            " (run `make messages`)"
        )
