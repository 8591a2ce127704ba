"""Read and write Atari-HEAD trials in their published layout.

Atari-HEAD (Zhang et al., "Atari-HEAD: Atari Human Eye-Tracking and Demonstration Dataset",
AAAI 2020; Zenodo record 3451402, CC BY 4.0) stores each trial as two files with one stem,
for example ``593_RZ_5037271_Aug-05-15-35-12``:

* ``STEM.txt``: a header ``frame_id,episode_id,score,duration(ms),unclipped_reward,action,
  gaze_positions`` and one row per frame. ``frame_id`` is ``<subject>_<session>_<n>``; the
  gaze is a trailing ``x0,y0,x1,y1,...`` list of screen pixels on the 160x210 screen, or
  ``null`` when the tracker saw nothing. Other fields may also be ``null``.
* ``STEM.tar.bz2``: a folder ``STEM/`` of 160x210 RGB PNGs named ``<frame_id>.png``.

:class:`AtariHeadTrial` parses the label file eagerly (it is small) and the archive lazily:
the member list is checked on first use (no absolute paths, ``..`` parts, links or device
files) and each PNG is decoded when it is first requested. Nothing is extracted to disk.
Rows that cannot be parsed are skipped and listed in :class:`TrialReport` with their line
number and reason; frames that have a PNG but no label row, rows with ``null`` gaze, gaze
samples off the screen and rows without a PNG are kept and counted there.

:func:`write_trial` writes a trial in the same layout, atomically, for attention the user
records in the dashboard.
"""

from __future__ import annotations

import io
import logging
import os
import re
import tarfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np
from PIL import Image

from data.atomic import atomic_path
from data.download import UnsafeArchiveError, check_tar_member

log = logging.getLogger(__name__)

HEADER = (
    "frame_id",
    "episode_id",
    "score",
    "duration(ms)",
    "unclipped_reward",
    "action",
    "gaze_positions",
)
FIXED_FIELDS = 6  # columns before the gaze list
SCREEN_SHAPE = (210, 160, 3)  # rows, columns, RGB
_FRAME_ID = re.compile(r"^(?P<prefix>[A-Za-z0-9]+_[A-Za-z0-9]+)_(?P<number>\d+)$")


class TrialError(ValueError):
    """Raised for a trial that cannot be read at all: missing files, bad header, unsafe archive."""


class FrameNotFoundError(KeyError):
    """Raised when a frame id has no PNG in the archive (or is not in the trial)."""

    def __str__(self) -> str:  # KeyError quotes its argument; show the message as written
        return str(self.args[0])


@dataclass(frozen=True)
class FrameLabel:
    """One parsed label row.

    Attributes:
        frame_id: ``<subject>_<session>_<n>``.
        number: the trailing ``n``, the frame's position in the trial.
        episode_id, score, duration_ms, unclipped_reward, action: the row's fields, ``None``
            where the file has ``null``. ``action`` is an ``ale_py.Action`` id (0..17).
        gaze_xy: ``[N, 2]`` float screen pixels as recorded, off-screen samples included;
            ``None`` for ``null`` gaze.
        line: 1-based line number in the label file.
    """

    frame_id: str
    number: int
    episode_id: int | None
    score: int | None
    duration_ms: int | None
    unclipped_reward: int | None
    action: int | None
    gaze_xy: np.ndarray | None
    line: int


@dataclass
class TrialReport:
    """What the reader skipped or found incomplete, for the user to see.

    Attributes:
        bad_rows: ``(line, reason)`` for each label row that was skipped.
        null_gaze: frame ids whose gaze is ``null``.
        off_screen_samples: gaze samples outside the 160x210 screen (kept in ``gaze_xy``,
            dropped by the heat maps).
        frames_without_label: frame ids with a PNG but no label row (kept, without gaze).
        labels_without_png: frame ids with a label row but no PNG.
        duplicate_rows: ``(line, frame_id)`` of label rows whose frame id appeared before;
            the first row wins.
        other_members: archive members that are not frame PNGs (ignored).
    """

    bad_rows: list[tuple[int, str]] = field(default_factory=list)
    null_gaze: list[str] = field(default_factory=list)
    off_screen_samples: int = 0
    frames_without_label: list[str] = field(default_factory=list)
    labels_without_png: list[str] = field(default_factory=list)
    duplicate_rows: list[tuple[int, str]] = field(default_factory=list)
    other_members: list[str] = field(default_factory=list)

    def summary(self) -> list[str]:
        """Return one plain sentence per kind of problem found; empty when the trial is clean."""
        lines = []
        if self.bad_rows:
            first = "; ".join(f"line {line}: {reason}" for line, reason in self.bad_rows[:3])
            lines.append(f"{len(self.bad_rows)} label rows skipped ({first})")
        if self.duplicate_rows:
            lines.append(f"{len(self.duplicate_rows)} repeated frame ids skipped (first row kept)")
        if self.null_gaze:
            lines.append(f"{len(self.null_gaze)} frames have null gaze")
        if self.off_screen_samples:
            lines.append(f"{self.off_screen_samples} gaze samples fall off the 160x210 screen")
        if self.frames_without_label:
            lines.append(f"{len(self.frames_without_label)} frames have a PNG but no label row")
        if self.labels_without_png:
            lines.append(f"{len(self.labels_without_png)} label rows have no PNG in the archive")
        if self.other_members:
            lines.append(f"{len(self.other_members)} archive members are not frame PNGs")
        return lines


def _optional_int(text: str, name: str) -> int | None:
    if text == "null" or text == "":
        return None
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{name} {text!r} is not a number") from None
    if not np.isfinite(value) or value != int(value):
        raise ValueError(f"{name} {text!r} is not an integer")
    return int(value)


def parse_label_row(text: str, line: int) -> FrameLabel:
    """Parse one label row.

    Raises:
        ValueError: wrong column count, a malformed frame id, or a non-numeric field. The
            message names the field and its text.
    """
    fields = text.rstrip("\r\n").split(",")
    if len(fields) < FIXED_FIELDS + 1:
        raise ValueError(
            f"has {len(fields)} columns; a row needs at least {FIXED_FIELDS + 1} "
            "(six fields and the gaze list or null)"
        )
    frame_id = fields[0].strip()
    match = _FRAME_ID.match(frame_id)
    if not match:
        raise ValueError(f"frame_id {frame_id!r} is not of the form <subject>_<session>_<n>")
    numbers = [
        _optional_int(value.strip(), name)
        for value, name in zip(fields[1:6], HEADER[1:6], strict=True)
    ]
    gaze_fields = [value.strip() for value in fields[FIXED_FIELDS:]]
    if gaze_fields == ["null"]:
        gaze = None
    else:
        if len(gaze_fields) % 2:
            raise ValueError(
                f"gaze list has {len(gaze_fields)} values; it needs x,y pairs (an even count)"
            )
        try:
            flat = np.array([float(v) for v in gaze_fields], dtype=np.float64)
        except ValueError:
            bad = next(v for v in gaze_fields if not _is_float(v))
            raise ValueError(f"gaze value {bad!r} is not a number") from None
        if not np.isfinite(flat).all():
            raise ValueError("gaze list has NaN or infinite values")
        gaze = flat.reshape(-1, 2)
    return FrameLabel(frame_id, int(match["number"]), *numbers, gaze_xy=gaze, line=line)


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def read_labels(path: str | os.PathLike[str]) -> tuple[dict[str, FrameLabel], TrialReport]:
    """Parse a label file into rows by frame id, and a report of what was skipped.

    Raises:
        TrialError: the file is missing, empty, not text, or its header is not Atari-HEAD's.
    """
    path = Path(path)
    if not path.is_file():
        raise TrialError(f"label file {path} not found")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise TrialError(f"label file {path} is not UTF-8 text ({error})") from error
    lines = text.splitlines()
    if not lines:
        raise TrialError(f"label file {path} is empty")
    header = tuple(h.strip() for h in lines[0].split(","))
    if header != HEADER:
        raise TrialError(
            f"label file {path} has header {','.join(header)!r}; an Atari-HEAD label file "
            f"starts with {','.join(HEADER)!r}"
        )
    labels: dict[str, FrameLabel] = {}
    report = TrialReport()
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        try:
            label = parse_label_row(line, number)
        except ValueError as error:
            report.bad_rows.append((number, str(error)))
            continue
        if label.frame_id in labels:
            report.duplicate_rows.append((number, label.frame_id))
            continue
        labels[label.frame_id] = label
        if label.gaze_xy is None:
            report.null_gaze.append(label.frame_id)
        else:
            x, y = label.gaze_xy[:, 0], label.gaze_xy[:, 1]
            report.off_screen_samples += int(((x < 0) | (x >= 160) | (y < 0) | (y >= 210)).sum())
    if report.bad_rows:
        log.warning("%s: skipped %d malformed rows", path, len(report.bad_rows))
    return labels, report


class AtariHeadTrial:
    """One Atari-HEAD trial: labels parsed on open, frames decoded on request.

    Args:
        label_path: the trial's ``.txt`` file.
        archive_path: its ``.tar.bz2``; by default the file with the same stem beside it.

    Raises:
        TrialError: the label file is unreadable, or the archive is missing or unsafe.
    """

    def __init__(
        self, label_path: str | os.PathLike[str], archive_path: str | os.PathLike[str] | None = None
    ) -> None:
        self.label_path = Path(label_path)
        if self.label_path.suffix != ".txt":
            raise TrialError(
                f"{self.label_path} is not a label file; pass the trial's .txt (its .tar.bz2 "
                "must sit beside it with the same name)"
            )
        if not self.label_path.is_file():
            raise TrialError(
                f"label file {self.label_path} not found; pass the path of a trial's .txt "
                "(fetch one with `glimpse data fetch atari-head`)"
            )
        self.archive_path = (
            Path(archive_path) if archive_path else self.label_path.with_suffix(".tar.bz2")
        )
        if not self.archive_path.is_file():
            raise TrialError(
                f"frames archive {self.archive_path} not found; it must sit beside "
                f"{self.label_path.name} with the same stem"
            )
        self.name = self.label_path.stem
        self.labels, self.report = read_labels(self.label_path)
        self._pngs: dict[str, bytes] | None = None
        self._decoded: dict[str, np.ndarray] = {}
        self._frame_ids: list[str] | None = None

    # -- archive ------------------------------------------------------------------------

    def _load_archive(self) -> dict[str, bytes]:
        if self._pngs is not None:
            return self._pngs
        # One streaming pass: bz2 cannot seek cheaply, so members are checked and read in
        # order. Nothing is written to disk, and an unsafe member rejects the whole archive
        # before any frame becomes visible.
        root = Path("/archive-root")  # a virtual root for the path checks
        pngs: dict[str, bytes] = {}
        others: list[str] = []
        try:
            with tarfile.open(self.archive_path, "r|*") as tar:
                for member in tar:
                    check_tar_member(member, root)
                    if not member.isfile():
                        continue
                    name = PurePosixPath(member.name).name
                    frame_id, ext = os.path.splitext(name)
                    if ext.lower() != ".png" or not _FRAME_ID.match(frame_id):
                        others.append(member.name)
                        continue
                    handle = tar.extractfile(member)
                    if handle is None:
                        raise TrialError(f"archive member {member.name!r} could not be read")
                    pngs[frame_id] = handle.read()
        except UnsafeArchiveError as error:
            raise TrialError(f"{self.archive_path} was rejected: {error}") from error
        except (tarfile.TarError, EOFError, OSError) as error:
            raise TrialError(
                f"{self.archive_path} is not a readable .tar.bz2 ({error}); fetch it again"
            ) from error
        self._pngs = pngs
        self.report.other_members = others
        self.report.frames_without_label = sorted(
            (f for f in pngs if f not in self.labels), key=_frame_number
        )
        self.report.labels_without_png = sorted(
            (f for f in self.labels if f not in pngs), key=_frame_number
        )
        return pngs

    @property
    def frame_ids(self) -> list[str]:
        """Every frame id with a PNG, ordered by frame number."""
        if self._frame_ids is None:
            self._frame_ids = sorted(self._load_archive(), key=_frame_number)
        return self._frame_ids

    @property
    def labelled_frame_ids(self) -> list[str]:
        """Frame ids that have both a PNG and a label row, ordered by frame number."""
        pngs = self._load_archive()
        return [f for f in self.frame_ids if f in self.labels and f in pngs]

    def __len__(self) -> int:
        return len(self.frame_ids)

    def frame(self, frame_id: str) -> np.ndarray:
        """Return the 210x160x3 ``uint8`` RGB screen of ``frame_id``.

        Raises:
            FrameNotFoundError: the frame has no PNG in the archive.
            TrialError: the PNG cannot be decoded or is not 160x210.
        """
        if frame_id in self._decoded:
            return self._decoded[frame_id]
        pngs = self._load_archive()
        if frame_id not in pngs:
            hint = (
                " (it has a label row, but its PNG is missing)" if frame_id in self.labels else ""
            )
            raise FrameNotFoundError(
                f"frame {frame_id!r} has no PNG in {self.archive_path.name}{hint}; pick one of "
                f"the {len(pngs)} frames in the archive"
            )
        try:
            image = Image.open(io.BytesIO(pngs[frame_id]))
            rgb = np.asarray(image.convert("RGB"), dtype=np.uint8)
        except (OSError, ValueError) as error:
            raise TrialError(f"PNG of frame {frame_id!r} cannot be decoded ({error})") from error
        if rgb.shape != SCREEN_SHAPE:
            raise TrialError(
                f"frame {frame_id!r} is {rgb.shape[1]}x{rgb.shape[0]} pixels; Atari-HEAD frames "
                "are 160x210"
            )
        self._decoded[frame_id] = rgb
        return rgb

    def label(self, frame_id: str) -> FrameLabel | None:
        """Return the label row of ``frame_id``, or ``None`` when it has none."""
        return self.labels.get(frame_id)

    def gaze(self, frame_id: str) -> np.ndarray | None:
        """Return the recorded gaze of ``frame_id`` (``[N, 2]``), or ``None`` (no row, ``null``)."""
        label = self.labels.get(frame_id)
        return None if label is None else label.gaze_xy

    def previous_ids(self, frame_id: str, count: int) -> list[str]:
        """Return ``count`` frame ids ending at ``frame_id``; the first frame pads the start."""
        ids = self.frame_ids
        try:
            index = ids.index(frame_id)
        except ValueError:
            raise FrameNotFoundError(f"frame {frame_id!r} is not in trial {self.name}") from None
        return [ids[max(0, index - k)] for k in range(count - 1, -1, -1)]


def _frame_number(frame_id: str) -> int:
    match = _FRAME_ID.match(frame_id)
    return int(match["number"]) if match else -1


def find_trials(folder: str | os.PathLike[str]) -> list[Path]:
    """Return the label files under ``folder`` (recursively) that have an archive beside them."""
    root = Path(folder)
    return sorted(p for p in root.rglob("*.txt") if p.with_suffix(".tar.bz2").is_file())


def _format_number(value: float) -> str:
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"


def write_trial(
    folder: str | os.PathLike[str],
    name: str,
    frames: Sequence[np.ndarray],
    gaze: Sequence[np.ndarray | None],
    *,
    subject: str = "USER",
    session: str = "0",
    actions: Sequence[int | None] | None = None,
    scores: Sequence[int | None] | None = None,
    durations_ms: Sequence[int | None] | None = None,
    episode_id: int = 0,
) -> Path:
    """Write frames and gaze as an Atari-HEAD trial ``folder/name.{txt,tar.bz2}``, atomically.

    The archive is written first and the label file last, each through a temporary file that
    replaces the target only when complete, so a reader never sees a label file without its
    frames and an interrupted write keeps any previous trial of that name.

    Args:
        frames: 210x160x3 ``uint8`` screens, in order; frame ``i`` is numbered ``i + 1``.
        gaze: ``[N, 2]`` screen-pixel samples per frame, or ``None`` for ``null``.
        subject, session: letters and digits used in frame ids ``<subject>_<session>_<n>``.

    Returns:
        The path of the label file.

    Raises:
        ValueError: mismatched lengths, a frame that is not 210x160x3, or an id part that is
            not alphanumeric.
    """
    if len(frames) != len(gaze):
        raise ValueError(f"{len(frames)} frames but {len(gaze)} gaze entries; pass one per frame")
    if not frames:
        raise ValueError("a trial needs at least one frame")
    for part, label in ((subject, "subject"), (session, "session")):
        if not re.fullmatch(r"[A-Za-z0-9]+", part):
            raise ValueError(f"{label} {part!r} must be letters and digits only")
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
        raise ValueError(f"trial name {name!r} may use letters, digits, '_', '.', '-' only")
    n = len(frames)
    actions = list(actions) if actions is not None else [None] * n
    scores = list(scores) if scores is not None else [None] * n
    durations_ms = list(durations_ms) if durations_ms is not None else [None] * n
    if not (len(actions) == len(scores) == len(durations_ms) == n):
        raise ValueError("actions, scores and durations_ms need one entry per frame")

    folder = Path(folder)
    rows = [",".join(HEADER)]
    archive = folder / f"{name}.tar.bz2"
    with atomic_path(archive) as tmp, tarfile.open(tmp, "w:bz2") as tar:
        directory = tarfile.TarInfo(name)
        directory.type = tarfile.DIRTYPE
        directory.mode = 0o755
        tar.addfile(directory)
        for index, (screen, samples) in enumerate(zip(frames, gaze, strict=True)):
            screen = np.asarray(screen)
            if screen.shape != SCREEN_SHAPE or screen.dtype != np.uint8:
                raise ValueError(
                    f"frame {index} has shape {screen.shape} and dtype {screen.dtype}; expected "
                    "a 210x160x3 uint8 screen"
                )
            frame_id = f"{subject}_{session}_{index + 1}"
            buffer = io.BytesIO()
            Image.fromarray(screen, "RGB").save(buffer, format="PNG")
            info = tarfile.TarInfo(f"{name}/{frame_id}.png")
            info.size = buffer.tell()
            info.mode = 0o644
            buffer.seek(0)
            tar.addfile(info, buffer)
            if samples is None or len(samples) == 0:
                gaze_text = "null"
            else:
                points = np.asarray(samples, dtype=np.float64).reshape(-1, 2)
                gaze_text = ",".join(_format_number(v) for v in points.ravel())
            fields = [frame_id, episode_id, scores[index], durations_ms[index], 0, actions[index]]
            rows.append(",".join("null" if v is None else str(v) for v in fields) + "," + gaze_text)
    label_path = folder / f"{name}.txt"
    with atomic_path(label_path) as tmp:
        tmp.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return label_path


def default_trial(game: str) -> Path | None:
    """Return the first trial of ``game`` fetched by ``glimpse data fetch atari-head``, if any."""
    from data.sources import data_dir

    folder = data_dir() / "atari-head" / game
    trials = find_trials(folder) if folder.is_dir() else []
    return trials[0] if trials else None


def export_excerpt(
    trial: AtariHeadTrial, folder: str | os.PathLike[str], first: int = 0, count: int = 200
) -> Path:
    """Copy ``count`` consecutive frames of ``trial`` into a new trial of the same layout.

    The PNG bytes and label rows are copied unchanged, so the excerpt reads like the original;
    frames without a label row stay without one. The files are written atomically.

    Returns:
        The label file of the excerpt, ``folder/<trial name>.txt``.
    """
    ids = trial.frame_ids[first : first + count]
    if not ids:
        raise ValueError(f"trial {trial.name} has no frames from index {first}")
    pngs = trial._load_archive()
    folder = Path(folder)
    archive = folder / f"{trial.name}.tar.bz2"
    with atomic_path(archive) as tmp, tarfile.open(tmp, "w:bz2") as tar:
        directory = tarfile.TarInfo(trial.name)
        directory.type = tarfile.DIRTYPE
        directory.mode = 0o755
        tar.addfile(directory)
        for frame_id in ids:
            info = tarfile.TarInfo(f"{trial.name}/{frame_id}.png")
            info.size = len(pngs[frame_id])
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(pngs[frame_id]))
    source_lines = trial.label_path.read_text(encoding="utf-8").splitlines()
    rows = [source_lines[0]]
    rows += [source_lines[trial.labels[f].line - 1] for f in ids if f in trial.labels]
    label_path = folder / f"{trial.name}.txt"
    with atomic_path(label_path) as tmp:
        tmp.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return label_path
