"""Small Atari-HEAD trials written by hand in the published layout, for reader tests."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import numpy as np
from PIL import Image

HEADER = "frame_id,episode_id,score,duration(ms),unclipped_reward,action,gaze_positions"


def png(value: int) -> bytes:
    """Return a 160x210 RGB PNG filled with ``value``."""
    buffer = io.BytesIO()
    Image.fromarray(np.full((210, 160, 3), value, dtype=np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def write_archive(path: Path, folder: str, members: dict[str, bytes], extra=()) -> None:
    """Write a .tar.bz2 with ``folder/NAME`` members, plus raw ``TarInfo`` extras."""
    with tarfile.open(path, "w:bz2") as tar:
        directory = tarfile.TarInfo(folder)
        directory.type = tarfile.DIRTYPE
        tar.addfile(directory)
        for name, payload in members.items():
            info = tarfile.TarInfo(f"{folder}/{name}")
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
        for info, payload in extra:
            tar.addfile(info, io.BytesIO(payload) if payload is not None else None)


def messy_trial(root: Path, name: str = "1_AB_123_Jan-01-00-00-00") -> Path:
    """Write a trial with every quirk the reader must survive; return its label file."""
    rows = [
        HEADER,
        "AB_123_1,0,0,50,0,0,10.5,20.5,11,21",  # fine
        "AB_123_2,0,0,60,0,3,null",  # null gaze
        "AB_123_3,0,10,70,10,4,-5,30,170,40,80,100",  # two samples off screen
        "AB_123_4,0,10,1606",  # too few columns
        "AB_123_5,0,ten,70,0,2,1,1",  # non-numeric score
        "AB_123_6,0,10,70,0,2,1,2,3",  # odd gaze count
        "AB_123_7,0,10,70,0,2,5,6",  # label row without a PNG
        "AB_123_1,0,0,50,0,0,1,1",  # repeated frame id
        "AB_123_9,0,10,70,0,2,5,x",  # non-numeric gaze
    ]
    label = root / f"{name}.txt"
    label.write_text("\n".join(rows) + "\n", encoding="utf-8")
    # PNGs for frames 1, 2, 3 and 8 (8 has no label row), plus a stray text file.
    members = {f"AB_123_{n}.png": png(n * 20) for n in (1, 2, 3, 8)}
    members["notes.txt"] = b"not a frame"
    write_archive(root / f"{name}.tar.bz2", name, members)
    return label
