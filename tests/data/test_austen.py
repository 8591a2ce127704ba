"""The Austen corpus: normalisation, the held-out split, the shipped excerpt and the download."""

from __future__ import annotations

import functools
import hashlib
import http.server
import threading

import pytest

from data import sources
from data.austen import (
    GUTENBERG_IDS,
    NOVELS,
    CorpusError,
    fetch,
    load_corpus,
    load_sample,
    normalize_text,
    sample_passages,
    split_heldout,
    strip_gutenberg,
)
from data.download import ChecksumError
from tests.conftest import shared_path


def test_normalize_joins_wrapped_lines():
    raw = "CHAPTER I\n\n\nIt is a truth\nuniversally   acknowledged.\r\n\r\nSecond\tpara\x0c.\n"
    assert normalize_text(raw) == "CHAPTER I\nIt is a truth universally acknowledged.\nSecond para."


def test_split_cuts_at_paragraph_boundary():
    text = "\n".join(f"paragraph {i} " + "x" * 20 for i in range(10))
    train, validation = split_heldout(text, 0.25)
    assert train + "\n" + validation == text
    assert validation.startswith("paragraph ")
    assert 0.15 < len(validation) / len(text) < 0.3


def test_split_rejects_bad_fraction():
    with pytest.raises(ValueError, match=r"\(0, 1\)"):
        split_heldout("abc", 1.5)


def test_strip_gutenberg():
    body = "\nIt is a truth.\n"
    wrapped = (
        "The Project Gutenberg eBook of X\n*** START OF THE PROJECT GUTENBERG EBOOK X ***"
        f"{body}*** END OF THE PROJECT GUTENBERG EBOOK X ***\nlicence"
    )
    assert strip_gutenberg(wrapped) == body
    assert strip_gutenberg(body) == body


def test_sample_and_passages():
    sample = load_sample()
    assert len(sample) > 10_000
    passages = sample_passages(count=4, max_chars=300)
    assert len(passages) == 4
    assert all(120 <= len(p) <= 300 for p in passages)


def test_empty_folder_names_the_fix(tmp_path):
    with pytest.raises(CorpusError, match="glimpse data fetch austen"):
        load_corpus(tmp_path)


def test_real_corpus_split():
    root = shared_path("austen")
    corpus = load_corpus(root)
    assert set(corpus.train) == set(NOVELS)
    train_chars = sum(len(t) for t in corpus.train_text())
    validation_chars = sum(len(t) for t in corpus.validation_text())
    assert 0.09 < validation_chars / (train_chars + validation_chars) < 0.11
    # the held-out block is the end of each novel
    emma = normalize_text((root / "emma.txt").read_text(encoding="utf-8"))
    assert emma.endswith(corpus.validation["emma"])


@pytest.fixture
def gutenberg_mirror(tmp_path):
    """A local HTTP server laid out like the Gutenberg cache: ``ID/pgID.txt``."""
    root = tmp_path / "mirror"
    checksums = {}
    for name, book in GUTENBERG_IDS.items():
        folder = root / str(book)
        folder.mkdir(parents=True)
        body = f"\n{name.upper()}\n\n" + "\n\n".join(f"Paragraph {i} of {name}." for i in range(30))
        text = (
            f"The Project Gutenberg eBook of {name}\n"
            f"*** START OF THE PROJECT GUTENBERG EBOOK {name} ***"
            f"{body}\n*** END OF THE PROJECT GUTENBERG EBOOK {name} ***\n"
        )
        (folder / f"pg{book}.txt").write_text(text, encoding="utf-8")
        checksums[f"{name}.txt"] = hashlib.sha256(text.encode("utf-8")).hexdigest()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", checksums
    server.shutdown()


def test_fetch_from_local_mirror(tmp_path, gutenberg_mirror):
    url, checksums = gutenberg_mirror
    dest = fetch(tmp_path / "austen", base_url=url, checksums=checksums)
    corpus = load_corpus(dest)
    assert set(corpus.train) == set(NOVELS)
    assert corpus.train["emma"].startswith("EMMA\nParagraph 0 of emma.")
    assert "Gutenberg" not in corpus.train["emma"]


def test_fetch_rejects_wrong_checksum(tmp_path, gutenberg_mirror):
    url, checksums = gutenberg_mirror
    wrong = dict(checksums, **{"emma.txt": "0" * 64})
    with pytest.raises(ChecksumError):
        fetch(tmp_path / "austen", base_url=url, checksums=wrong)
    assert not (tmp_path / "austen" / "emma.txt").exists()


def test_fetch_rejects_non_gutenberg_file(tmp_path, gutenberg_mirror):
    url, _ = gutenberg_mirror
    book = GUTENBERG_IDS["emma"]
    served = tmp_path / "mirror" / str(book) / f"pg{book}.txt"  # the fixture serves tmp_path/mirror
    served.write_text("<html>not found</html>", encoding="utf-8")
    with pytest.raises(CorpusError, match="not a Project Gutenberg plain-text book"):
        fetch(tmp_path / "austen", base_url=url)
    assert not (tmp_path / "austen" / "emma.txt").exists()


def test_source_registered():
    assert "austen" in sources.sources()
