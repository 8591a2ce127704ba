"""The Jane Austen novels: read them from a folder, split off a held-out block of each, and the
excerpt that ships with Glimpse.

The corpus is six public-domain novels as UTF-8 plain text, one file per novel with the names
below. Lines inside a paragraph are hard-wrapped at about 70 characters. :func:`normalize_text`
joins them, so a paragraph becomes one line and paragraphs are separated by one newline.

Validation split: the last ``HELDOUT_FRACTION`` of each novel (cut at the first paragraph
boundary after that point) is held out, so every novel contributes both training text and
unseen later chapters with new events, while the style and the characters' names stay in
the training distribution.
"""

from __future__ import annotations

import logging
import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from data import sources
from data.download import fetch_file

log = logging.getLogger(__name__)

NOVELS = (
    "emma",
    "mansfieldpark",
    "northangerabbey",
    "persuasion",
    "prideprejudice",
    "sensesensibility",
)
TITLES = {
    "emma": "Emma",
    "mansfieldpark": "Mansfield Park",
    "northangerabbey": "Northanger Abbey",
    "persuasion": "Persuasion",
    "prideprejudice": "Pride and Prejudice",
    "sensesensibility": "Sense and Sensibility",
}
HELDOUT_FRACTION = 0.1
SAMPLE_PATH = Path(__file__).resolve().parent / "samples" / "austen_excerpt.txt"

# Project Gutenberg ebook numbers of the six novels; their plain-text files carry a licence
# header and footer, which :func:`strip_gutenberg` removes before use.
GUTENBERG_BASE_URL = "https://www.gutenberg.org/cache/epub/"
GUTENBERG_IDS = {
    "emma": 158,
    "mansfieldpark": 141,
    "northangerabbey": 121,
    "persuasion": 105,
    "prideprejudice": 1342,
    "sensesensibility": 161,
}

_GUTENBERG_START = re.compile(r"\*\*\* ?START OF (THE|THIS) PROJECT GUTENBERG EBOOK[^*]*\*\*\*")
_GUTENBERG_END = re.compile(r"\*\*\* ?END OF (THE|THIS) PROJECT GUTENBERG EBOOK[^*]*\*\*\*")


class CorpusError(ValueError):
    """Raised for a missing or unreadable corpus file; the message names the fix."""


@dataclass(frozen=True)
class CorpusSplit:
    """Training and validation text of each novel, keyed by novel name, after normalisation."""

    train: dict[str, str]
    validation: dict[str, str]

    def train_text(self) -> list[str]:
        """Return the training text of each novel, in the order of ``NOVELS``."""
        return [self.train[name] for name in NOVELS if name in self.train]

    def validation_text(self) -> list[str]:
        """Return the validation text of each novel, in the order of ``NOVELS``."""
        return [self.validation[name] for name in NOVELS if name in self.validation]


def normalize_text(text: str) -> str:
    """Join hard-wrapped lines into one line per paragraph and drop control characters.

    Carriage returns become newlines, tabs become spaces, other control characters (Unicode
    category Cc) are removed, runs of spaces collapse to one, a single newline inside a
    paragraph becomes a space, and blank lines between paragraphs become one newline.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    text = "".join(ch for ch in text if ch == "\n" or unicodedata.category(ch) != "Cc")
    paragraphs = re.split(r"\n\s*\n", text)
    joined = (re.sub(r"\s+", " ", paragraph).strip() for paragraph in paragraphs)
    return "\n".join(paragraph for paragraph in joined if paragraph)


def split_heldout(text: str, fraction: float = HELDOUT_FRACTION) -> tuple[str, str]:
    """Split normalised text into ``(train, validation)`` at the first paragraph boundary after
    ``(1 - fraction)`` of its characters.

    Raises:
        ValueError: ``fraction`` is not in (0, 1).
    """
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"held-out fraction must lie in (0, 1), got {fraction}")
    cut = int(len(text) * (1.0 - fraction))
    boundary = text.find("\n", cut)
    if boundary < 0:
        boundary = cut
    return text[:boundary], text[boundary:].lstrip("\n")


def read_novel(path: str | os.PathLike[str]) -> str:
    """Read one novel as normalised text, removing a Project Gutenberg header if present.

    Raises:
        CorpusError: the file is missing or is not UTF-8 text.
    """
    path = Path(path)
    if not path.exists():
        raise CorpusError(f"{path} not found")
    try:
        raw = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise CorpusError(f"{path} is not UTF-8 text ({error}); convert it to UTF-8") from error
    return normalize_text(strip_gutenberg(raw))


def load_corpus(root: str | os.PathLike[str], fraction: float = HELDOUT_FRACTION) -> CorpusSplit:
    """Load the six novels from ``root`` (``emma.txt``, ``persuasion.txt``, ...) and split each.

    Raises:
        CorpusError: ``root`` contains none of the novels. Missing single novels are logged and
            skipped, so a partial copy still trains.
    """
    root = Path(root)
    train, validation = {}, {}
    for name in NOVELS:
        path = root / f"{name}.txt"
        if not path.exists():
            log.warning("%s not found; training without %s", path, TITLES[name])
            continue
        train[name], validation[name] = split_heldout(read_novel(path), fraction)
    if not train:
        raise CorpusError(
            f"none of the Austen novels ({', '.join(f'{n}.txt' for n in NOVELS)}) is in {root}. "
            "Point to the folder that holds them, or download them with "
            "`glimpse data fetch austen`."
        )
    return CorpusSplit(train=train, validation=validation)


def strip_gutenberg(text: str) -> str:
    """Return the body of a Project Gutenberg file without its licence header and footer.

    Text without the Gutenberg markers is returned unchanged.
    """
    start = _GUTENBERG_START.search(text)
    end = _GUTENBERG_END.search(text)
    if start is None or end is None or end.start() < start.end():
        return text
    return text[start.end() : end.start()]


def load_sample() -> str:
    """Return the shipped excerpt (normalised), the text the dashboard offers as passages."""
    return normalize_text(SAMPLE_PATH.read_text(encoding="utf-8"))


def sample_passages(count: int = 6, max_chars: int = 400) -> list[str]:
    """Return up to ``count`` paragraphs of at least 120 characters from the shipped excerpt,
    in excerpt order, each cut to ``max_chars`` characters at a word boundary."""
    paragraphs = [p for p in load_sample().split("\n") if len(p) >= 120]
    passages = []
    for paragraph in paragraphs[:count]:
        if len(paragraph) > max_chars:
            paragraph = paragraph[:max_chars].rsplit(" ", 1)[0]
        passages.append(paragraph)
    return passages


def default_root() -> Path | None:
    """Return the folder of a fetched copy, or None when none was fetched."""
    root = sources.data_dir() / "austen"
    return root if any((root / f"{name}.txt").exists() for name in NOVELS) else None


def fetch(
    dest: str | os.PathLike[str],
    base_url: str | None = None,
    checksums: dict[str, str] | None = None,
) -> Path:
    """Download the six novels from Project Gutenberg into ``dest`` as ``NAME.txt``.

    Project Gutenberg regenerates its files when it updates their headers, so no checksum is
    pinned for them: each file is stored unverified (with a logged warning), then checked to
    be UTF-8 text with the Gutenberg start and end markers. ``checksums`` (SHA-256 per
    ``NAME.txt``) verifies the files against known values, which tests and mirrors use.

    Args:
        dest: folder to fill.
        base_url: mirror ending in ``/`` laid out as ``ID/pgID.txt``; defaults to Gutenberg.
        checksums: SHA-256 per file name, or None to store the files unverified.

    Returns:
        ``dest``, which :func:`load_corpus` then reads.

    Raises:
        CorpusError: a downloaded file is not a Gutenberg plain-text book.
    """
    dest = Path(dest)
    base = base_url or GUTENBERG_BASE_URL
    if not base.endswith("/"):
        base += "/"
    for name, book in GUTENBERG_IDS.items():
        target = dest / f"{name}.txt"
        expected = checksums.get(target.name) if checksums else None
        fetch_file(f"{base}{book}/pg{book}.txt", target, expected)
        raw = target.read_text(encoding="utf-8-sig", errors="replace")
        if _GUTENBERG_START.search(raw) is None:
            target.unlink()
            raise CorpusError(
                f"{base}{book}/pg{book}.txt is not a Project Gutenberg plain-text book (no START "
                "marker); check the mirror URL"
            )
    load_corpus(dest)
    return dest


sources.register(
    sources.Source(
        name="austen",
        description="six novels by Jane Austen from Project Gutenberg, 4 M characters",
        licence="public domain (Project Gutenberg)",
        fetch=fetch,
    )
)
