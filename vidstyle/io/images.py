"""Float images for VFX hand-off: half-float EXR, 16-bit TIFF/PNG and 8-bit formats, in and out.

Pixels are (H, W, C) float32, C = 1 (grey), 3 (RGB) or 4 (RGBA), 0..1 for integer formats; EXR keeps
its scene-linear values as stored (half floats read back bit-exact). OpenCV's wheel cannot write EXR,
so EXR goes through the OpenEXR bindings; integer formats go through OpenCV (16 bits where the format
has them). Writes are atomic.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from vidstyle.errors import UserInputError
from vidstyle.io.atomic import atomic_output

SIXTEEN_BIT = (".png", ".tif", ".tiff")
_EXR_LAYOUT = {1: "Y", 3: "RGB", 4: "RGBA"}


def _channels_last(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        image = image[:, :, None]
    if image.ndim != 3 or image.shape[2] not in (1, 3, 4):
        raise UserInputError(f"image must be (H, W) or (H, W, 1|3|4), got {image.shape}")
    return image


def _read_exr(path: Path) -> np.ndarray:
    import OpenEXR

    with OpenEXR.File(str(path)) as exr:
        channels = exr.channels()
        for name in ("RGBA", "RGB", "Y"):
            if name in channels:
                return _channels_last(np.asarray(channels[name].pixels, dtype=np.float32))
        if {"R", "G", "B"} <= channels.keys():
            names = ["R", "G", "B"] + (["A"] if "A" in channels else [])
            return np.stack([np.asarray(channels[n].pixels, np.float32) for n in names], axis=2)
    raise UserInputError(f"{path}: no RGB, RGBA or Y channels in this EXR (has {', '.join(channels)})")


def read_image_float(path: str | Path) -> np.ndarray:
    """(H, W, C) float32; integer formats scaled to 0..1, EXR as stored."""
    path = Path(path)
    if not path.is_file():
        raise UserInputError(f"image not found: {path}")
    if path.suffix.lower() == ".exr":
        return _read_exr(path)
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise UserInputError(f"cannot read image {path}")
    image = _channels_last(image)
    scale = {np.dtype(np.uint8): 255.0, np.dtype(np.uint16): 65535.0}.get(image.dtype, 1.0)
    image = image.astype(np.float32) / np.float32(scale)
    if image.shape[2] == 3:
        return image[:, :, ::-1].copy()
    if image.shape[2] == 4:
        return image[:, :, [2, 1, 0, 3]].copy()
    return image


def write_image_float(path: str | Path, image: np.ndarray) -> None:
    """Write (H, W, C) float: ``.exr`` half float, ``.png``/``.tif`` 16 bits, others 8 bits (clipped)."""
    path = Path(path)
    image = _channels_last(np.asarray(image))
    suffix = path.suffix.lower()
    with atomic_output(path) as tmp:
        if suffix == ".exr":
            import OpenEXR

            pixels = np.ascontiguousarray(image.astype(np.float16))
            name = _EXR_LAYOUT[pixels.shape[2]]
            header = {"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage}
            with OpenEXR.File(header, {name: pixels if name != "Y" else pixels[:, :, 0]}) as exr:
                exr.write(str(tmp))
            return
        top = 65535.0 if suffix in SIXTEEN_BIT else 255.0
        dtype = np.uint16 if suffix in SIXTEEN_BIT else np.uint8
        data = np.round(np.clip(image, 0.0, 1.0) * top).astype(dtype)
        if data.shape[2] == 3:
            data = data[:, :, ::-1]
        elif data.shape[2] == 4:
            data = data[:, :, [2, 1, 0, 3]]
        if not cv2.imwrite(str(tmp), np.ascontiguousarray(data)):
            raise UserInputError(f"cannot write {suffix} image {path}")
