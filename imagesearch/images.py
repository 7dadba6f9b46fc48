"""Turning any image file into an RGB array, or a clear error that names the file.

Photo collections hold grayscale scans, CMYK JPEGs, palette GIFs, 16-bit PNGs, phone photos
rotated by an EXIF tag, and broken files. All of them must reach the CNN as plain 8-bit RGB,
and a broken one must be reported by name here, not crash deep inside TensorFlow.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .heif import heif_missing_reason
from .storage import ImageSearchError

# A file that claims more pixels than this is refused as a likely decompression bomb: a few KB
# of PNG can unpack to gigabytes. 100 M pixels is larger than any camera photo of today.
MAX_PIXELS = 100_000_000

RESAMPLING = {
    "bilinear": Image.Resampling.BILINEAR,
    "nearest": Image.Resampling.NEAREST,
    "bicubic": Image.Resampling.BICUBIC,
}


class ImageLoadError(ImageSearchError):
    """An image file that cannot be used; `path` and `reason` say which and why."""

    def __init__(self, path: str | os.PathLike, reason: str):
        self.path = Path(path)
        self.reason = reason
        super().__init__(
            f"cannot read image {self.path}: {reason}. "
            "Replace or remove the file, or index with on_error='skip'."
        )


def _to_rgb(image: Image.Image) -> Image.Image:
    """Convert any Pillow mode to 8-bit RGB; transparency is composited onto white."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16-bit (or 32-bit integer) gray: scale the used range to 8 bits instead of clipping.
        array = np.asarray(image, dtype=np.float64)
        top = 65535.0 if array.max(initial=0) > 255 else 255.0
        image = Image.fromarray(np.clip(array / top * 255.0 + 0.5, 0, 255).astype(np.uint8))
    elif image.mode == "F":
        array = np.asarray(image, dtype=np.float64)
        span = max(float(array.max(initial=0) - array.min(initial=0)), 1e-12)
        image = Image.fromarray(((array - array.min()) / span * 255.0).astype(np.uint8))
    if image.mode == "P":
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA") or (image.mode in ("RGB", "L") and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def load_rgb(path: str | os.PathLike, *, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """Open an image file as an upright 8-bit RGB Pillow image, or raise ImageLoadError."""
    path = Path(path)
    if not path.is_file():
        raise ImageLoadError(path, "no such file")
    if path.stat().st_size == 0:
        raise ImageLoadError(path, "the file is empty")
    missing = heif_missing_reason(path)  # HEIC: registers pillow-heif's opener, or says how to get it
    if missing:
        raise ImageLoadError(path, missing)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # our own limit below
            with Image.open(path) as image:
                width, height = image.size
                if width * height > max_pixels:
                    raise ImageLoadError(
                        path,
                        f"{width}x{height} pixels is more than the limit of "
                        f"{max_pixels} (a decompression bomb?)",
                    )
                image.load()
                image = ImageOps.exif_transpose(image)
                return _to_rgb(image)
    except ImageLoadError:
        raise
    except UnidentifiedImageError:
        raise ImageLoadError(path, "not an image file Pillow can read") from None
    except Image.DecompressionBombError as error:
        raise ImageLoadError(path, f"too many pixels (a decompression bomb?): {error}") from None
    except (OSError, SyntaxError, ValueError) as error:
        raise ImageLoadError(path, f"the file is truncated or corrupt ({error})") from None


def load_array(
    path: str | os.PathLike,
    size: tuple[int, int],
    *,
    resample: str = "bilinear",
    max_pixels: int = MAX_PIXELS,
) -> np.ndarray:
    """Load, fix and squash an image to `size` (width, height) as a uint8 HxWx3 array.

    The talk squashed every photo to 224x224 without keeping the aspect ratio; so do we, since
    the pretrained networks were fine-tuned on such inputs and it keeps the whole object.
    """
    if resample not in RESAMPLING:
        raise ValueError(f"resample must be one of {sorted(RESAMPLING)}, not {resample!r}")
    image = load_rgb(path, max_pixels=max_pixels)
    if image.size != tuple(size):
        image = image.resize(tuple(size), RESAMPLING[resample])
    return np.asarray(image, dtype=np.uint8)


def altered_copy(
    path: str | os.PathLike, out: str | os.PathLike, *, mirror: bool = False, crop: float = 1.0
) -> Path:
    """Write a mirrored and/or centre-cropped copy of an image to `out` (JPEG or PNG by name):
    a query that is not in the index, to show that search does not need the exact file.
    `crop` is the share of width and height kept (1.0: the whole image)."""
    if not 0 < crop <= 1:
        raise ValueError(f"crop must be in (0, 1], not {crop}")
    image = load_rgb(path)
    if crop < 1:
        width, height = image.size
        w, h = max(1, round(width * crop)), max(1, round(height * crop))
        left, top = (width - w) // 2, (height - h) // 2
        image = image.crop((left, top, left + w, top + h))
    if mirror:
        image = ImageOps.mirror(image)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    image.save(out, quality=95) if out.suffix.lower() in (".jpg", ".jpeg") else image.save(out)
    return out


def side_by_side(paths: list[str | os.PathLike], out: str | os.PathLike, *, size: int = 224) -> Path:
    """Images pasted left to right, each squashed to `size` x `size`, saved as a PNG at `out`.

    A stand-in for a photo of several objects where a data set has none (the embedded clip-art
    shows one object per image): the focus notebook searches with such collages, as the talk's
    "cat and bottle" photo. Written atomically, so a half-written collage is never searched.
    """
    from .storage import atomic_path

    out = Path(out)
    canvas = Image.new("RGB", (size * len(paths), size), "white")
    for i, path in enumerate(paths):
        canvas.paste(load_rgb(path).resize((size, size), RESAMPLING["bilinear"]), (i * size, 0))
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(out) as tmp:
        canvas.save(tmp, format="PNG")
    return out
