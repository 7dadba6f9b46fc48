"""imagesearch.images: every kind of image file becomes 8-bit RGB, or a clear ImageLoadError.

All images are made on the fly with Pillow/numpy in tmp_path; nothing is mocked.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from imagesearch.images import MAX_PIXELS, ImageLoadError, load_array, load_rgb
from imagesearch.storage import ImageSearchError

WHITE = (255, 255, 255)


def rgb_array(image: Image.Image) -> np.ndarray:
    assert isinstance(image, Image.Image)
    assert image.mode == "RGB"
    array = np.asarray(image)
    assert array.dtype == np.uint8 and array.ndim == 3 and array.shape[2] == 3
    return array


def stored_mode(path) -> str:
    with Image.open(path) as image:
        return image.mode


def assert_close(pixel, expected, tolerance=3):
    assert np.all(np.abs(np.asarray(pixel, dtype=int) - np.asarray(expected, dtype=int)) <= tolerance), (
        f"{tuple(int(v) for v in pixel)} is not close to {expected}"
    )


def write_png(path: Path, width: int, height: int, *, bit_depth: int = 1, colour_type: int = 0) -> Path:
    """A real, valid PNG of all-zero pixels, streamed row by row so that huge sizes stay cheap.

    A 1-bit 20000x20000 gray PNG is ~50 MB of pixels but only a few tens of KB on disk: the
    shape of a decompression bomb.
    """

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[colour_type]
    row = b"\x00" * (1 + (width * channels * bit_depth + 7) // 8)  # filter byte + pixels
    compressor = zlib.compressobj(9)
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b""))
    return path


# --- every mode becomes RGB -------------------------------------------------------------


def test_plain_rgb_png_is_returned_unchanged(tmp_path):
    pixels = np.random.default_rng(0).integers(0, 256, (17, 23, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(tmp_path / "x.png")
    image = load_rgb(tmp_path / "x.png")
    assert image.size == (23, 17)
    np.testing.assert_array_equal(rgb_array(image), pixels)


def test_grayscale_becomes_gray_rgb(tmp_path):
    gray = np.tile(np.arange(0, 250, 10, dtype=np.uint8), (6, 1))  # 6 x 25
    Image.fromarray(gray, mode="L").save(tmp_path / "gray.png")
    array = rgb_array(load_rgb(tmp_path / "gray.png"))
    assert array.shape == (6, 25, 3)
    for channel in range(3):
        np.testing.assert_array_equal(array[..., channel], gray)


def test_grayscale_jpeg(tmp_path):
    Image.new("L", (20, 10), 200).save(tmp_path / "gray.jpg")
    array = rgb_array(load_rgb(tmp_path / "gray.jpg"))
    assert array.shape == (10, 20, 3)
    assert_close(array.mean(axis=(0, 1)), (200, 200, 200))


def test_cmyk_jpeg_becomes_rgb_with_the_right_colours(tmp_path):
    cmyk = Image.new("CMYK", (40, 30), (0, 255, 255, 0))  # pure red in ink
    cmyk.paste((255, 0, 0, 0), (20, 0, 40, 30))  # right half: cyan
    cmyk.save(tmp_path / "print.jpg", quality=95)
    assert stored_mode(tmp_path / "print.jpg") == "CMYK"
    array = rgb_array(load_rgb(tmp_path / "print.jpg"))
    assert array.shape == (30, 40, 3)
    assert_close(array[15, 5], (255, 0, 0), tolerance=12)
    assert_close(array[15, 35], (0, 255, 255), tolerance=12)


def test_palette_image_without_transparency(tmp_path):
    image = Image.new("P", (8, 4))
    image.putpalette([10, 20, 30, 200, 100, 50] + [0] * (256 * 3 - 6))
    image.paste(1, (4, 0, 8, 4))
    image.save(tmp_path / "pal.png")
    assert stored_mode(tmp_path / "pal.png") == "P"
    array = rgb_array(load_rgb(tmp_path / "pal.png"))
    assert array.shape == (4, 8, 3)
    assert tuple(array[0, 0]) == (10, 20, 30)
    assert tuple(array[3, 7]) == (200, 100, 50)


@pytest.mark.parametrize("suffix", [".png", ".gif"])
def test_palette_transparency_becomes_white(tmp_path, suffix):
    image = Image.new("P", (8, 4))
    image.putpalette([10, 20, 30, 200, 100, 50] + [0] * (256 * 3 - 6))
    image.paste(1, (4, 0, 8, 4))
    path = tmp_path / f"pal{suffix}"
    image.save(path, transparency=0)  # colour 0 (the left half) is transparent
    assert stored_mode(path) == "P"
    array = rgb_array(load_rgb(path))
    assert tuple(array[0, 0]) == WHITE, "a transparent palette pixel must become white, not its colour"
    assert tuple(array[3, 7]) == (200, 100, 50)


def test_rgba_transparent_becomes_white_and_opaque_colour_is_kept(tmp_path):
    pixels = np.zeros((10, 20, 4), dtype=np.uint8)
    pixels[:, :10] = (0, 0, 0, 0)  # fully transparent black
    pixels[:, 10:] = (30, 160, 90, 255)  # opaque green
    pixels[0, 19] = (0, 0, 0, 128)  # half-transparent black -> mid gray
    Image.fromarray(pixels, mode="RGBA").save(tmp_path / "alpha.png")
    array = rgb_array(load_rgb(tmp_path / "alpha.png"))
    assert array.shape == (10, 20, 3)
    assert tuple(array[5, 2]) == WHITE
    assert tuple(array[5, 15]) == (30, 160, 90)
    assert_close(array[0, 19], (127, 127, 127), tolerance=2)


@pytest.mark.parametrize("mode, colour", [("L", 200), ("RGB", (200, 100, 50))])
def test_transparent_colour_key_becomes_white(tmp_path, mode, colour):
    """PNG's tRNS chunk on gray or RGB images: one colour value means "transparent"."""
    key = 0 if mode == "L" else (0, 0, 0)
    image = Image.new(mode, (8, 4), key)
    image.paste(colour, (4, 0, 8, 4))
    image.save(tmp_path / "key.png", transparency=key)
    with Image.open(tmp_path / "key.png") as stored:
        assert stored.mode == mode and "transparency" in stored.info
    array = rgb_array(load_rgb(tmp_path / "key.png"))
    assert tuple(array[1, 1]) == WHITE
    expected = (colour,) * 3 if mode == "L" else colour
    assert tuple(array[1, 6]) == expected


def test_gray_with_alpha(tmp_path):
    pixels = np.zeros((6, 10, 2), dtype=np.uint8)
    pixels[:, :5] = (0, 0)  # transparent
    pixels[:, 5:] = (60, 255)  # opaque dark gray
    Image.fromarray(pixels, mode="LA").save(tmp_path / "la.png")
    assert stored_mode(tmp_path / "la.png") == "LA"
    array = rgb_array(load_rgb(tmp_path / "la.png"))
    assert tuple(array[3, 1]) == WHITE
    assert tuple(array[3, 8]) == (60, 60, 60)


def test_16_bit_grayscale_is_scaled_not_clipped(tmp_path):
    gradient = np.linspace(0, 65535, 64).round().astype(np.uint16)
    Image.fromarray(np.tile(gradient, (5, 1))).save(tmp_path / "deep.png")
    assert stored_mode(tmp_path / "deep.png") in ("I;16", "I")
    array = rgb_array(load_rgb(tmp_path / "deep.png"))
    assert array.shape == (5, 64, 3)
    row = array[2, :, 0].astype(int)
    np.testing.assert_array_equal(array[..., 0], array[..., 1])
    np.testing.assert_array_equal(array[..., 0], array[..., 2])
    assert np.all(np.diff(row) > 0), "the gradient must keep its order (no clipping to 255)"
    assert row[0] <= 2 and row[-1] >= 253
    assert abs(row[32] - 130) <= 3  # linear: the middle stays in the middle


def test_exif_orientation_is_applied(tmp_path):
    stored = np.zeros((40, 60, 3), dtype=np.uint8)
    stored[:, :30] = (255, 0, 0)  # left half red
    stored[:, 30:] = (0, 0, 255)  # right half blue
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90 degrees clockwise to display
    Image.fromarray(stored).save(tmp_path / "phone.jpg", exif=exif, quality=95)
    with Image.open(tmp_path / "phone.jpg") as raw:
        assert raw.size == (60, 40)
    image = load_rgb(tmp_path / "phone.jpg")
    assert image.size == (40, 60), "width and height are swapped once the photo is upright"
    array = rgb_array(image)
    # turned clockwise, the stored left (red) half is on top and the right (blue) half below
    assert_close(array[5, 20], (255, 0, 0), tolerance=8)
    assert_close(array[-5, 20], (0, 0, 255), tolerance=8)


def test_load_rgb_accepts_str_paths(tmp_path):
    Image.new("RGB", (3, 2), (1, 2, 3)).save(tmp_path / "s.png")
    assert load_rgb(str(tmp_path / "s.png")).size == (3, 2)


# --- bad files raise ImageLoadError naming the file ---------------------------------------


def check_error(info: pytest.ExceptionInfo, path: Path, *reason_words: str) -> None:
    error = info.value
    assert isinstance(error, ImageSearchError)
    assert error.path == path
    assert path.name in str(error)
    assert str(path) in str(error)
    assert error.reason and error.reason in str(error)
    for word in reason_words:
        assert word in error.reason.lower(), f"{word!r} not in reason {error.reason!r}"


def test_truncated_jpeg(tmp_path):
    pixels = np.random.default_rng(1).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(tmp_path / "whole.jpg", quality=90)
    data = (tmp_path / "whole.jpg").read_bytes()
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageLoadError) as info:
        load_rgb(broken)
    check_error(info, broken, "truncated")


def test_empty_file(tmp_path):
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    with pytest.raises(ImageLoadError) as info:
        load_rgb(empty)
    check_error(info, empty, "empty")


def test_text_file_named_jpg(tmp_path):
    fake = tmp_path / "notes.jpg"
    fake.write_text("this is not a picture\n" * 20)
    with pytest.raises(ImageLoadError) as info:
        load_rgb(fake)
    check_error(info, fake, "not an image")


def test_missing_file(tmp_path):
    missing = tmp_path / "gone.png"
    with pytest.raises(ImageLoadError) as info:
        load_rgb(missing)
    check_error(info, missing, "no such file")


def test_a_folder_is_not_an_image(tmp_path):
    folder = tmp_path / "folder.jpg"
    folder.mkdir()
    with pytest.raises(ImageLoadError) as info:
        load_rgb(folder)
    check_error(info, folder)


def test_max_pixels_boundary(tmp_path):
    Image.new("RGB", (30, 20), (9, 9, 9)).save(tmp_path / "small.png")
    assert load_rgb(tmp_path / "small.png", max_pixels=600).size == (30, 20)
    with pytest.raises(ImageLoadError) as info:
        load_rgb(tmp_path / "small.png", max_pixels=599)
    check_error(info, tmp_path / "small.png", "30x20", "599")


def test_decompression_bomb_over_our_limit(tmp_path):
    bomb = write_png(tmp_path / "bomb.png", 12000, 12000)  # 144 M pixels in a few KB
    assert bomb.stat().st_size < 100_000
    with pytest.warns(Image.DecompressionBombWarning), Image.open(bomb) as header_only:
        assert header_only.size == (12000, 12000)  # a real PNG of that size
    assert 12000 * 12000 > MAX_PIXELS
    with pytest.raises(ImageLoadError) as info:
        load_rgb(bomb)
    check_error(info, bomb, "12000x12000", "bomb")
    with pytest.raises(ImageLoadError) as info:
        load_rgb(bomb, max_pixels=1_000_000)
    check_error(info, bomb, "1000000")


def test_decompression_bomb_over_pillows_hard_limit(tmp_path):
    bomb = write_png(tmp_path / "huge.png", 20000, 20000)  # 400 M pixels: Pillow itself refuses
    assert bomb.stat().st_size < 200_000
    with pytest.raises(ImageLoadError) as info:
        load_rgb(bomb)
    check_error(info, bomb, "bomb")
    with pytest.raises(ImageLoadError):  # even when our own limit is raised
        load_rgb(bomb, max_pixels=10**12)


# --- load_array -------------------------------------------------------------------------------


@pytest.fixture
def two_colour_png(tmp_path):
    pixels = np.zeros((50, 80, 3), dtype=np.uint8)
    pixels[:, :40] = (200, 10, 10)
    pixels[:, 40:] = (10, 10, 200)
    Image.fromarray(pixels).save(tmp_path / "two.png")
    return tmp_path / "two.png"


@pytest.mark.parametrize("resample", ["bilinear", "nearest", "bicubic"])
def test_load_array_squashes_to_size(two_colour_png, resample):
    array = load_array(two_colour_png, (224, 224), resample=resample)
    assert array.dtype == np.uint8 and array.shape == (224, 224, 3)
    assert_close(array[100, 5], (200, 10, 10), tolerance=2)
    assert_close(array[100, 220], (10, 10, 200), tolerance=2)


def test_nearest_keeps_only_original_colours_and_bilinear_blends(two_colour_png):
    nearest = load_array(two_colour_png, (224, 224), resample="nearest")
    colours = {tuple(c) for c in nearest.reshape(-1, 3)}
    assert colours == {(200, 10, 10), (10, 10, 200)}
    bilinear = load_array(two_colour_png, (224, 224), resample="bilinear")
    assert len({tuple(c) for c in bilinear.reshape(-1, 3)}) > 2, "bilinear blends at the edge"


def test_load_array_size_is_width_then_height(two_colour_png):
    array = load_array(two_colour_png, (30, 10))
    assert array.shape == (10, 30, 3)


def test_load_array_keeps_pixels_when_already_at_size(tmp_path):
    pixels = np.random.default_rng(2).integers(0, 256, (224, 224, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(tmp_path / "exact.png")
    np.testing.assert_array_equal(load_array(tmp_path / "exact.png", (224, 224)), pixels)


def test_load_array_fixes_modes_too(tmp_path):
    Image.new("LA", (10, 10), (0, 0)).save(tmp_path / "clear.png")
    array = load_array(tmp_path / "clear.png", (224, 224))
    assert array.shape == (224, 224, 3) and np.all(array == 255)


def test_load_array_rejects_unknown_resample(two_colour_png):
    with pytest.raises(ValueError, match="lanczos") as info:
        load_array(two_colour_png, (224, 224), resample="lanczos")
    assert "bilinear" in str(info.value) and "nearest" in str(info.value)


def test_load_array_rejects_unknown_resample_before_touching_the_file(tmp_path):
    with pytest.raises(ValueError):
        load_array(tmp_path / "does-not-exist.png", (224, 224), resample="box")


def test_load_array_passes_errors_through(tmp_path):
    (tmp_path / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    with pytest.raises(ImageLoadError) as info:
        load_array(tmp_path / "bad.png", (224, 224))
    assert "bad.png" in str(info.value)
    bomb = write_png(tmp_path / "bomb.png", 3000, 3000)
    with pytest.raises(ImageLoadError, match="bomb"):
        load_array(bomb, (224, 224), max_pixels=1000)


# --- altered_copy: queries that are not in the index --------------------------------------------


def test_altered_copy_mirrors_and_crops(tmp_path):
    from imagesearch.images import altered_copy

    pixels = np.zeros((40, 60, 3), np.uint8)
    pixels[:, :30] = (255, 0, 0)  # left half red, right half blue
    pixels[:, 30:] = (0, 0, 255)
    source = tmp_path / "source.png"
    Image.fromarray(pixels).save(source)

    mirrored = rgb_array(load_rgb(altered_copy(source, tmp_path / "out" / "mirrored.png", mirror=True)))
    assert mirrored.shape == (40, 60, 3)
    assert tuple(mirrored[0, 0]) == (0, 0, 255) and tuple(mirrored[0, -1]) == (255, 0, 0)

    cropped = rgb_array(load_rgb(altered_copy(source, tmp_path / "cropped.png", crop=0.5)))
    assert cropped.shape == (20, 30, 3)
    assert tuple(cropped[0, 0]) == (255, 0, 0) and tuple(cropped[0, -1]) == (0, 0, 255)

    jpeg = altered_copy(source, tmp_path / "copy.jpg", mirror=True, crop=0.9)
    assert load_rgb(jpeg).size == (54, 36)
    with pytest.raises(ValueError):
        altered_copy(source, tmp_path / "x.png", crop=0)
    with pytest.raises(ImageLoadError):
        altered_copy(tmp_path / "missing.png", tmp_path / "x.png")
