"""File previews (storage.getFilePreview), rendered with Pillow.

An image is resized (one side given keeps the ratio; both crop to fill, around `gravity`), then
given opacity, background, border, rounded corners and rotation, and written as jpg, png, gif, webp
or avif (heic cannot be written here); without `output`, in the original's format. A file that is
not an image, or is too large to render, gets an icon of its type, as in Appwrite. A bucket with
transformations off refuses previews to everyone but keys.
"""

from __future__ import annotations

import io
from pathlib import Path

from ...uploads import Media
from ..errors import AppwriteError, invalid_argument
from ..image_params import hex_color, within
from ..registry import Call, handles
from .buckets import open_bucket
from .files import file_for_reading
from .stored_files import read_content

# Images larger than this get the generic image icon as their preview (Appwrite's preview limit).
PREVIEW_LIMIT = 20 * 1024 * 1024
PREVIEW_MAX_PIXELS = 50_000_000
PREVIEW_INPUTS = frozenset(
    {"image/jpeg", "image/png", "image/gif", "image/webp", "image/avif", "image/bmp", "image/tiff"}
)
OUTPUTS = {
    "jpg": ("JPEG", "image/jpeg"),
    "jpeg": ("JPEG", "image/jpeg"),
    "png": ("PNG", "image/png"),
    "gif": ("GIF", "image/gif"),
    "webp": ("WEBP", "image/webp"),
    "avif": ("AVIF", "image/avif"),
}
GRAVITY = {
    "center": (0.5, 0.5),
    "top-left": (0.0, 0.0),
    "top": (0.5, 0.0),
    "top-right": (1.0, 0.0),
    "left": (0.0, 0.5),
    "right": (1.0, 0.5),
    "bottom-left": (0.0, 1.0),
    "bottom": (0.5, 1.0),
    "bottom-right": (1.0, 1.0),
}


# --- previews ---------------------------------------------------------------------------------------


@handles("storage.getFilePreview")
def get_file_preview(call: Call) -> Media:
    params = call.params
    for name, low, high in (
        ("width", 0, 4000),
        ("height", 0, 4000),
        ("quality", -1, 100),
        ("borderWidth", 0, 100),
        ("borderRadius", 0, 4000),
        ("opacity", 0, 1),
        ("rotation", -360, 360),
    ):
        within(params, name, low, high)
    border_color = hex_color(params, "borderColor")
    background = hex_color(params, "background")
    output = (params.get("output") or "").lower()
    if output and output not in OUTPUTS:
        raise invalid_argument(
            f"Invalid `output` param: {output} images cannot be written here; use one of {', '.join(OUTPUTS)}"
        )
    bucket = open_bucket(call, params["bucketId"])
    if not bucket.transformations and not call.auth.bypasses_permissions:
        raise AppwriteError(
            "storage_bucket_transformations_disabled",
            f"Image transformations are disabled for bucket '{bucket.id}'.",
            403,
        )
    record = file_for_reading(call, bucket)
    from PIL import Image

    mime_type = record["mime_type"]
    extension = Path(record["name"]).suffix.lower().lstrip(".")
    image = None
    if mime_type in PREVIEW_INPUTS and record["size_original"] <= PREVIEW_LIMIT:
        source = read_content(call, bucket.id, record)
        try:
            opened = Image.open(io.BytesIO(source))
            if opened.width * opened.height > PREVIEW_MAX_PIXELS:
                opened = None
            else:
                opened.load()
        except Exception as error:
            raise AppwriteError(
                "storage_file_type_unsupported", f"The file '{record['id']}' cannot be read as an image: {error}"
            ) from None
        image = opened
    if image is None:
        # Not an image (or too large to render): an icon of its type, on Appwrite's grey background.
        image = file_icon(mime_type if mime_type not in PREVIEW_INPUTS else "image/*", extension)
        background = background or (0xEC, 0xEF, 0xF1)
        extension = "png"
    if not output:
        output = (
            extension
            if extension in OUTPUTS
            else next((key for key, (_, kind) in OUTPUTS.items() if kind == mime_type), "jpg")
        )
    data = render(image, params, output, border_color, background)
    stem = Path(record["name"]).stem or record["id"]
    return Media(data, OUTPUTS[output][1], f"{stem}.{output}")


def render(
    image,
    params: dict,
    output: str,
    border_color: tuple[int, int, int] | None,
    background: tuple[int, int, int] | None,
) -> bytes:
    """The preview's bytes: resized and cropped, then opacity, background, border, corners, rotation."""
    from PIL import Image, ImageChops, ImageDraw, ImageOps

    image = image.convert("RGBA")
    width, height = params.get("width") or 0, params.get("height") or 0
    if width or height:
        if not width:
            width = max(1, int(height * image.width / image.height))
        if not height:
            height = max(1, int(width * image.height / image.width))
        image = ImageOps.fit(
            image, (width, height), Image.Resampling.LANCZOS, centering=GRAVITY[params.get("gravity") or "center"]
        )
    opacity = params.get("opacity")
    if opacity is not None and opacity < 1:
        image.putalpha(image.getchannel("A").point(lambda alpha: int(alpha * opacity)))
    if background is not None:
        canvas = Image.new("RGBA", image.size, (*background, 255))
        image = Image.alpha_composite(canvas, image)
    border = params.get("borderWidth") or 0
    if border:
        image = ImageOps.expand(image, border=border, fill=(*(border_color or (0, 0, 0)), 255))
    radius = params.get("borderRadius") or 0
    if radius:
        mask = Image.new("L", image.size, 0)
        ImageDraw.Draw(mask).rounded_rectangle((0, 0, image.width - 1, image.height - 1), radius=radius, fill=255)
        image.putalpha(ImageChops.multiply(image.getchannel("A"), mask))
    rotation = (params.get("rotation") or 0) % 360
    if rotation:
        image = image.rotate(-rotation, Image.Resampling.BICUBIC, expand=True, fillcolor=(0, 0, 0, 0))
    kind = OUTPUTS[output][0]
    quality = params.get("quality")
    quality = 90 if quality is None or quality < 0 else quality
    options: dict = {}
    if kind == "JPEG":
        flat = Image.new("RGB", image.size, background or (255, 255, 255))
        flat.paste(image, mask=image.getchannel("A"))
        image = flat
        options = {"quality": quality}
    elif kind in ("WEBP", "AVIF"):
        options = {"quality": quality}
    buffer = io.BytesIO()
    image.save(buffer, kind, **options)
    return buffer.getvalue()


ICON_COLORS = {
    "image": (67, 160, 71),
    "video": (229, 57, 53),
    "audio": (142, 36, 170),
    "text": (30, 136, 229),
    "application/pdf": (211, 47, 47),
}


def file_icon(mime_type: str, extension: str):
    """A 256x256 icon of a page with a folded corner, labelled with the file's extension or kind."""
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("RGBA", (256, 256), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.polygon([(56, 24), (164, 24), (200, 60), (200, 232), (56, 232)], fill=(255, 255, 255, 255))
    draw.line([(56, 24), (164, 24), (200, 60), (200, 232), (56, 232), (56, 24)], fill=(120, 144, 156, 255), width=4)
    draw.polygon([(164, 24), (164, 60), (200, 60)], fill=(207, 216, 220, 255))
    color = ICON_COLORS.get(mime_type) or ICON_COLORS.get(mime_type.split("/")[0], (96, 125, 139))
    label = (extension or mime_type.split("/")[-1] or "file").upper()[:4]
    draw.rectangle((40, 140, 180, 196), fill=(*color, 255))
    try:
        font = ImageFont.load_default(size=36)
    except TypeError:  # Pillow without FreeType
        font = ImageFont.load_default()
    try:
        draw.text((110, 168), label, fill=(255, 255, 255, 255), font=font, anchor="mm")
    except ValueError:  # a bitmap font has no anchors
        draw.text((56, 160), label, fill=(255, 255, 255, 255), font=font)
    return image
