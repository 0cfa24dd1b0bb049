"""Small, deterministic text helpers shared by the stages, the rules and the offline provider.

Everything here is pure and cheap: it runs on every turn, on the reply's critical path.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from urllib.parse import urlsplit

# Unicode blocks of the scripts customers of a WhatsApp business realistically write in. The
# name is the ISO 15924 code, so it slots straight into a BCP-47 tag (``hi-Deva``).
_SCRIPT_RANGES: tuple[tuple[int, int, str], ...] = (
    (0x0041, 0x024F, "Latn"),
    (0x1E00, 0x1EFF, "Latn"),
    (0x0370, 0x03FF, "Grek"),
    (0x0400, 0x04FF, "Cyrl"),
    (0x0590, 0x05FF, "Hebr"),
    (0x0600, 0x06FF, "Arab"),
    (0x0750, 0x077F, "Arab"),
    (0x0900, 0x097F, "Deva"),
    (0x0980, 0x09FF, "Beng"),
    (0x0A00, 0x0A7F, "Guru"),
    (0x0A80, 0x0AFF, "Gujr"),
    (0x0B00, 0x0B7F, "Orya"),
    (0x0B80, 0x0BFF, "Taml"),
    (0x0C00, 0x0C7F, "Telu"),
    (0x0C80, 0x0CFF, "Knda"),
    (0x0D00, 0x0D7F, "Mlym"),
    (0x0E00, 0x0E7F, "Thai"),
    (0x3040, 0x30FF, "Jpan"),
    (0x4E00, 0x9FFF, "Hani"),
    (0xAC00, 0xD7AF, "Hang"),
)

# Quoted spans are excluded from the script check: quoting a product name or a knowledge-base
# sentence verbatim in its own language is legitimate inside a reply in another script.
_QUOTED = re.compile(r"“[^”]*”|\"[^\"]*\"|«[^»]*»")


def char_script(ch: str) -> str | None:
    """The ISO 15924 script of one letter, or ``None`` for digits, punctuation and emoji."""
    if not ch.isalpha():
        return None
    code = ord(ch)
    for low, high, name in _SCRIPT_RANGES:
        if low <= code <= high:
            return name
    return "Zyyy"


def script_counts(text: str, *, skip_quoted: bool = False) -> Counter[str]:
    if skip_quoted:
        text = _QUOTED.sub(" ", text)
    counts: Counter[str] = Counter()
    for ch in text:
        script = char_script(ch)
        if script is not None:
            counts[script] += 1
    return counts


def dominant_script(text: str, *, skip_quoted: bool = False) -> str | None:
    """The script most letters are in; ``None`` when there are no letters (emoji, numbers)."""
    counts = script_counts(text, skip_quoted=skip_quoted)
    if not counts:
        return None
    return counts.most_common(1)[0][0]


# Romanised Hindi function words: two or more of them in a Latin-script message mark Hinglish.
# Kept to words that are not also common English words ("to", "is", "me" are excluded).
_HINGLISH_WORDS = (
    "hai hain kya kyu kyun kaise kab kahan kaha kaun kitna kitne kitni nahi nahin mujhe "
    "muje aap aapka aapki apna mera meri mere bhai yaar karo karna kar raha rahi batao "
    "bataye chahiye chahie lena dena acha accha theek thik haan ji bhi abhi jaldi wala "
    "wali hoga hogi sakta sakte sakti paisa paise kal aaj baat samjha samajh krna kro "
    "bhejo"
)
_HINGLISH_MARKERS = frozenset(_HINGLISH_WORDS.split())

_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?", re.UNICODE)


def words(text: str) -> list[str]:
    return _WORD.findall(text)


def word_count(text: str) -> int:
    """Whitespace-separated tokens with a letter or digit (emoji-only tokens do not count)."""
    return sum(1 for token in text.split() if any(c.isalnum() for c in token))


def is_hinglish(text: str) -> bool:
    tokens = [w.lower() for w in words(text)]
    hits = sum(1 for w in tokens if w in _HINGLISH_MARKERS)
    return hits >= 2 or (hits == 1 and len(tokens) <= 3)


_LATIN_LANGUAGES = frozenset(
    {"en", "es", "pt", "fr", "de", "it", "nl", "id", "ms", "sw", "tr", "pl", "ro", "vi", "tl"}
)
_SCRIPT_LANGUAGE = {
    "Deva": "hi",
    "Arab": "ar",
    "Beng": "bn",
    "Guru": "pa",
    "Gujr": "gu",
    "Orya": "or",
    "Taml": "ta",
    "Telu": "te",
    "Knda": "kn",
    "Mlym": "ml",
    "Cyrl": "ru",
    "Grek": "el",
    "Hebr": "he",
    "Thai": "th",
    "Jpan": "ja",
    "Hani": "zh",
    "Hang": "ko",
}


def guess_language(text: str, default: str = "en") -> str:
    """A BCP-47 guess from the script alone: ``hi-Deva``, ``hi-Latn`` (Hinglish), ``en``…

    Deliberately crude: it is the offline provider's answer and the Eyes fallback's, and the
    script (which is what the reply rules check) is right even when the language is not.
    """
    script = dominant_script(text)
    if script is None:
        return default
    if script == "Latn":
        if is_hinglish(text):
            return "hi-Latn"
        # Latin script alone cannot tell English from Spanish: keep the organisation's language
        # when it is written in Latin letters, else assume English.
        primary = default.split("-")[0]
        return primary if primary in _LATIN_LANGUAGES else "en"
    language = _SCRIPT_LANGUAGE.get(script, "und")
    return f"{language}-{script}"


def expected_reply_script(customer_text: str) -> str | None:
    """The script a reply to ``customer_text`` must be written in, or ``None`` if any will do.

    Hinglish is Latin script, so a Hinglish message gets a Latin reply, never Devanagari.
    """
    return dominant_script(customer_text)


def is_emoji_only(text: str) -> bool:
    """True for a message with symbols/emoji and no letters or digits (👍, 🙏🔥, ❤️)."""
    stripped = "".join(text.split())
    if not stripped:
        return False
    return not any(ch.isalnum() for ch in stripped)


def estimate_tokens(text: str) -> int:
    """A provider-independent token estimate used to budget prompts.

    About four characters per token for Latin text (the usual rule of thumb for Gemini and GPT
    tokenisers); non-ASCII characters (Devanagari, emoji) tokenise far less efficiently, so they
    count double. Over-estimating is the safe side of a budget.
    """
    if not text:
        return 0
    non_ascii = sum(1 for ch in text if ord(ch) > 127)
    ascii_chars = len(text) - non_ascii
    return math.ceil(ascii_chars / 4 + non_ascii / 2)


def clip(text: str, limit: int, *, ellipsis: str = "…") -> str:
    """Shorten ``text`` to at most ``limit`` characters, at a word boundary when there is one.

    Used to salvage an over-long model field instead of failing the whole turn (the original
    system dropped the reply when a plan was one character over its limit).
    """
    text = text.strip()
    if len(text) <= limit:
        return text
    if limit <= len(ellipsis):
        return text[:limit]
    cut = text[: limit - len(ellipsis)]
    space = cut.rfind(" ")
    if space >= limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:-") + ellipsis


def clip_words(text: str, max_words: int) -> str:
    """Keep whole sentences while the word count fits; fall back to cutting words."""
    if word_count(text) <= max_words:
        return text
    sentences = split_sentences(text)
    kept: list[str] = []
    total = 0
    for sentence in sentences:
        n = word_count(sentence)
        if total + n > max_words:
            break
        kept.append(sentence)
        total += n
    if kept:
        return " ".join(kept)
    tokens = text.split()
    return " ".join(tokens[:max_words])


_SENTENCE_END = re.compile(r"(?<=[.!?।])\s+")


def split_sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text.strip()) if s.strip()]


def question_count(text: str) -> int:
    """Questions asked: runs of ``?`` (or the full-width ``？``) count once each."""
    return len(re.findall(r"[?？]+", _QUOTED.sub(" ", text)))


# --- URLs -------------------------------------------------------------------------------------

_URL = re.compile(
    r"(?:https?://|www\.)[^\s<>\"'”“)\]]+"
    r"|\b(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:com|net|org|io|in|co|ai|app|biz|info|me|"
    r"us|uk|dev|shop|store|online|site|xyz|link|ly|gl|to)\b(?:/[^\s<>\"'”“)\]]*)?",
    re.IGNORECASE,
)


def find_urls(text: str) -> list[str]:
    """URLs and bare domains (``example.com/pay``) in a text, trailing punctuation removed."""
    return [m.group(0).rstrip(".,;:!?") for m in _URL.finditer(text)]


def url_host(url: str) -> str:
    candidate = url if "://" in url else f"https://{url}"
    host = urlsplit(candidate).hostname or ""
    return host.lower().removeprefix("www.")


def host_allowed(host: str, domains: list[str]) -> bool:
    """Exact domain or a subdomain of it: ``pay.example.com`` is inside ``example.com``."""
    host = host.lower().removeprefix("www.")
    for domain in domains:
        domain = domain.lower().strip().removeprefix("www.").lstrip(".")
        if domain and (host == domain or host.endswith("." + domain)):
            return True
    return False


# --- numbers ----------------------------------------------------------------------------------

_CURRENCY_SYMBOLS = "₹$€£¥₩₽₺₦₱৳₨"
_CURRENCY_WORDS = (
    r"rs\.?|inr|usd|eur|gbp|aed|sar|rupees?|rupaye|rupay|dollars?|euros?|pounds?|"
    r"रुपये|रुपए|रुपया|रु\.?"
)
# A number: digits with thousands separators (western 1,499 or Indian 1,49,999) and decimals.
_NUMBER = r"\d+(?:[,\u066c]\d{2,3})*(?:\.\d+)?"
_NUMBER_RE = re.compile(_NUMBER)
_MONEY_RE = re.compile(
    rf"(?:[{_CURRENCY_SYMBOLS}]\s?{_NUMBER}|{_NUMBER}\s?(?:[{_CURRENCY_SYMBOLS}%]|"
    rf"(?:{_CURRENCY_WORDS})\b|/-)|(?:{_CURRENCY_WORDS})\s?{_NUMBER})",
    re.IGNORECASE,
)


def _ascii_digits(text: str) -> str:
    """Devanagari, Arabic-Indic and other decimal digits → ASCII, so ९९९ matches 999."""
    out = []
    for ch in text:
        if ch.isdigit() and not ch.isascii():
            try:
                out.append(str(unicodedata.digit(ch)))
                continue
            except ValueError:
                pass
        out.append(ch)
    return "".join(out)


def _normalise_number(raw: str) -> str:
    value = raw.replace(",", "").replace("\u066c", "")
    if "." in value:
        value = value.rstrip("0").rstrip(".")
    return value.lstrip("0") or "0"


def numbers_in(text: str) -> set[str]:
    """Every number in the text, normalised (``1,499.00`` → ``1499``)."""
    return {_normalise_number(m) for m in _NUMBER_RE.findall(_ascii_digits(text))}


def money_amounts(text: str) -> set[str]:
    """Numbers written as money or a percentage (``₹999``, ``Rs 1,499``, ``20%``, ``500/-``)."""
    found: set[str] = set()
    for match in _MONEY_RE.finditer(_ascii_digits(text)):
        found |= numbers_in(match.group(0))
    return found
