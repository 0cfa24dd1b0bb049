"""Recognising a customer's "stop messaging me", in the languages our customers write.

Deliberately exact: the whole message (trimmed, case- and punctuation-insensitive) must be an
opt-out phrase, so "stop, what is the price?" is a question, not an opt-out. Template quick-reply
buttons whose payload says STOP are opt-outs too (fixture 7).
"""

from __future__ import annotations

import re
import unicodedata

OPT_OUT_PHRASES = frozenset(
    {
        # English
        "stop",
        "stop all",
        "unsubscribe",
        "opt out",
        "optout",
        "cancel",
        "end",
        "quit",
        "stop messaging me",
        "stop sending messages",
        "dont message me",
        "do not message me",
        # Hindi (Devanagari) and Hinglish
        "बंद करो",
        "बंद",
        "मैसेज मत भेजो",
        "मत भेजो",
        "band karo",
        "band kro",
        "message mat bhejo",
        "msg mat bhejo",
        "mat bhejo",
        # Spanish, Portuguese, French, German
        "parar",
        "baja",
        "cancelar",
        "sair",
        "arret",
        "arreter",
        "stopp",
    }
)
_PUNCTUATION = re.compile(r"[^\w\s]", re.UNICODE)
_SPACES = re.compile(r"\s+")
_BUTTON_PAYLOAD = re.compile(r"(^|[_\-\s])(stop|unsubscribe|opt[_\-\s]?out)([_\-\s]|$)", re.I)


def _normalise(text: str) -> str:
    # NFKD then drop combining marks for Latin scripts only: "arrêt" → "arret", while
    # Devanagari vowel signs (also combining marks) must stay.
    decomposed = unicodedata.normalize("NFKD", text)
    kept = "".join(
        ch
        for ch in decomposed
        if not (unicodedata.combining(ch) and "LATIN" in unicodedata.name(ch, ""))
        and not (unicodedata.combining(ch) and ord(ch) < 0x0370)
    )
    kept = unicodedata.normalize("NFC", kept).replace("'", "").replace("’", "")
    return _SPACES.sub(" ", _PUNCTUATION.sub(" ", kept)).strip().lower()


def is_opt_out_text(text: str | None) -> bool:
    return bool(text) and _normalise(text or "") in OPT_OUT_PHRASES


def is_opt_out_button(payload: str | None) -> bool:
    return bool(payload) and bool(_BUTTON_PAYLOAD.search(payload or ""))
