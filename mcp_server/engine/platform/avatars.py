"""Handlers for the avatars service: images drawn here, codes rendered here, and images fetched from the web.

Every answer is a PNG (Media), at the width and height asked for:

- getInitials: up to two initials (of `name`, else of the signed-in user's name or email) punched
  out of a background color, as Appwrite draws them: the color is `background`, or one of Appwrite's
  five theme colors picked from the initials, so a name keeps its color. With no name to take
  initials from (a guest, a key), a person's silhouette on a neutral gray.
- getFlag, getBrowser, getCreditCard: Appwrite answers with artwork it ships; none ships with this
  engine, so it draws a badge instead: the country's code and English name (from CLDR) on a
  rectangle, the browser's name on a disc, the card brand's name on a card, each in a color
  derived from the code. Codes are the catalog's; names of browsers and card brands are Appwrite's.
- getQR: a QR code (segno) with `margin` modules of quiet zone, scaled to `size` pixels square;
  `download` marks the answer as an attachment named qr.png.
- getImage: the image at `url`, fetched (5 s, 10 MB at most, redirects followed), then scaled to
  cover width x height and cropped to it around its center (Appwrite's crop). A width or height
  of 0 follows the image's proportions; both 0 keep its size.
- getFavicon: the page at `url` is fetched and its largest `<link rel="icon">` that Pillow can
  read (not SVG) is fetched, else the site's /favicon.ico (also when the page itself answers with
  an HTTP error); the icon comes back 56 x 56 like Appwrite's.
- getScreenshot: it takes a headless browser, which the embedded engine does not include:
  general_not_implemented, pointing to an Appwrite server.

Widths and heights are 0 to 2000 (0 as in Appwrite: from the other side, or the natural size);
quality is 0 to 100 and, PNG being lossless, sets how hard the PNG is compressed (Imagick's tens
digit: the zlib level). Remote fetches go to public addresses only, as in Appwrite (outbound.py; the
engine option allow_private_urls lets them reach loopback and private ones too). A URL that leads
to an address not allowed, or a host that cannot be reached, fails with avatar_remote_url_failed
(one text for a refused connection, a timeout and an unknown host); an answer that is not an image
with avatar_image_not_found (avatar_icon_not_found for favicons).
"""

from __future__ import annotations

import base64
import binascii
import colorsys
import hashlib
import io
import re
from functools import lru_cache
from html.parser import HTMLParser
from typing import Any
from urllib.parse import unquote_to_bytes, urljoin, urlsplit

from ...uploads import Media
from ..errors import AppwriteError, invalid_argument
from ..identity.identities import find_user
from ..image_params import hex_color, rgb, within
from ..links import check_url
from ..outbound import Answer, Failed
from ..registry import Call, handles
from .locale import country_names

MAX_SIDE = 2000
QR_SIZES = (1, 1000)
QR_MARGINS = (0, 10)
MAX_QR_TEXT = 512
MAX_NAME = 128
FETCH_TIMEOUT = 5.0
MAX_FETCH_BYTES = 10 * 1024 * 1024
MAX_REDIRECTS = 5
MAX_PIXELS = 50_000_000
FAVICON_SIDE = 56
MAX_ICON_TRIES = 4
USER_AGENT = "Mozilla/5.0 (compatible; baas-mcp avatars)"

# Appwrite's initials backgrounds, picked by the last digit of the initials' character codes.
THEMES = ("#FD366E", "#FE9567", "#7C67FE", "#68A3FE", "#85DBD8")
PLACEHOLDER_BACKGROUND = "#9AA0A6"

# The names Appwrite gives its browser and credit card codes (its API spec's enum keys).
BROWSERS = {
    "aa": "Avant Browser",
    "an": "Android WebView Beta",
    "ch": "Google Chrome",
    "ci": "Google Chrome (iOS)",
    "cm": "Google Chrome (Mobile)",
    "cr": "Chromium",
    "ff": "Mozilla Firefox",
    "sf": "Safari",
    "mf": "Mobile Safari",
    "ps": "Microsoft Edge",
    "oi": "Microsoft Edge (iOS)",
    "om": "Opera Mini",
    "op": "Opera",
    "on": "Opera (Next)",
}
CREDIT_CARDS = {
    "amex": "American Express",
    "argencard": "Argencard",
    "cabal": "Cabal",
    "cencosud": "Cencosud",
    "diners": "Diners Club",
    "discover": "Discover",
    "elo": "Elo",
    "hipercard": "Hipercard",
    "jcb": "JCB",
    "mastercard": "Mastercard",
    "naranja": "Naranja",
    "targeta-shopping": "Tarjeta Shopping",
    "unionpay": "Union Pay",
    "visa": "Visa",
    "mir": "MIR",
    "maestro": "Maestro",
    "rupay": "Rupay",
}

# The size of a drawn image when width and height are both 0 (and its proportions when one is).
FLAG_SIZE = (100, 75)
BROWSER_SIZE = (100, 100)
CARD_SIZE = (100, 63)  # ISO/IEC 7810 ID-1: 85.60 x 53.98 mm
INITIALS_SIZE = (500, 500)


# ---------------------------------------------------------------------------------------------
# parameters


def dimensions(params: dict, natural: tuple[int, int]) -> tuple[int, int]:
    """width x height from the params (0 to 2000); 0 follows the natural proportions, both 0 the natural size."""
    width = within(params, "width", 0, MAX_SIDE)
    height = within(params, "height", 0, MAX_SIDE)
    return scaled(width, height, natural)


def scaled(width: int, height: int, natural: tuple[int, int]) -> tuple[int, int]:
    if not width and not height:
        return natural
    if not width:
        width = max(1, round(height * natural[0] / natural[1]))
    if not height:
        height = max(1, round(width * natural[1] / natural[0]))
    return width, height


def compression(params: dict) -> int:
    """The zlib level for `quality` (omitted: -1, Pillow's default level)."""
    quality = params.get("quality", -1)
    if quality == -1:
        return 6
    if not 0 <= quality <= 100:
        raise invalid_argument(f"Invalid `quality` param: expected a whole number from 0 to 100, got {quality}")
    return min(quality // 10, 9)


# ---------------------------------------------------------------------------------------------
# drawing


def png(image: Any, filename: str, level: int = 6, download: bool = False) -> Media:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=level)
    return Media(buffer.getvalue(), "image/png", filename, download)


@lru_cache(maxsize=128)
def font(size: int) -> Any:
    """Pillow's own scalable font (it ships with Pillow, so nothing is looked up on the system)."""
    from PIL import ImageFont

    return ImageFont.load_default(size=max(1, size))


def color_of(text: str) -> tuple[int, int, int]:
    """A color of medium lightness picked by a hash of `text`: the same code, the same color."""
    digest = hashlib.sha256(text.encode()).digest()
    hue = int.from_bytes(digest[:2], "big") / 65536
    red, green, blue = colorsys.hls_to_rgb(hue, 0.40, 0.55)
    return round(red * 255), round(green * 255), round(blue * 255)


def ink_for(background: tuple[int, int, int]) -> tuple[int, int, int]:
    """White or near-black, whichever reads better on `background`."""
    red, green, blue = background
    luminance = 0.299 * red + 0.587 * green + 0.114 * blue
    return (255, 255, 255) if luminance < 160 else (24, 24, 24)


def wrappings(text: str, max_lines: int) -> list[list[str]]:
    """`text` on 1 to max_lines lines, breaking at spaces into lines of similar length."""
    words = text.split()
    options = [[text]]
    for count in range(2, min(max_lines, len(words)) + 1):
        target = len(text) / count
        lines: list[str] = []
        current = ""
        for index, word in enumerate(words):
            remaining_words = len(words) - index
            remaining_lines = count - len(lines)
            candidate = f"{current} {word}".strip()
            if current and (len(candidate) > target * 1.15 or remaining_words < remaining_lines):
                lines.append(current)
                current = word
            else:
                current = candidate
        lines.append(current)
        if len(lines) == count:
            options.append(lines)
    return options


def fitted(text: str, box: tuple[float, float], max_lines: int = 1) -> tuple[list[str], Any]:
    """The lines and largest font that fit `text` in a box of (width, height) pixels."""
    probe = font(100)
    ascent, descent = probe.getmetrics()
    best: tuple[int, list[str]] = (0, [text])
    for lines in wrappings(text, max_lines):
        widest = max(probe.getlength(line) for line in lines) or 1
        size = int(min(box[0] * 100 / widest, box[1] * 100 / ((ascent + descent) * len(lines))))
        if size > best[0]:
            best = (size, lines)
    return best[1], font(max(1, best[0]))


def write(draw: Any, text: str, box: tuple[float, float, float, float], fill: Any, max_lines: int = 1) -> None:
    """`text` as large as fits in box (left, top, right, bottom), centered, wrapped onto up to max_lines lines."""
    left, top, right, bottom = box
    lines, chosen = fitted(text, (right - left, bottom - top), max_lines)
    ascent, descent = chosen.getmetrics()
    line_height = ascent + descent
    y = (top + bottom) / 2 - line_height * len(lines) / 2
    for line in lines:
        draw.text(((left + right) / 2, y), line, font=chosen, fill=fill, anchor="ma")
        y += line_height


def badge(size: tuple[int, int], color: tuple[int, int, int], shape: str) -> tuple[Any, Any]:
    """A transparent image with a shape (rect, disc or card) filled with `color`, and its drawing context."""
    from PIL import Image, ImageDraw

    width, height = size
    image = Image.new("RGBA", size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    if shape == "disc":
        draw.ellipse((0, 0, width - 1, height - 1), fill=color)
    elif shape == "card":
        draw.rounded_rectangle((0, 0, width - 1, height - 1), radius=max(1, min(width, height) // 8), fill=color)
    else:
        draw.rectangle((0, 0, width - 1, height - 1), fill=color)
    return image, draw


def flag_badge(code: str, name: str, size: tuple[int, int]) -> Any:
    width, height = size
    color = color_of(code)
    image, draw = badge(size, color, "rect")
    ink = ink_for(color)
    pad_x, pad_y = width * 0.08, height * 0.08
    split = height * 0.58
    write(draw, code, (pad_x, pad_y, width - pad_x, split), ink)
    write(draw, name, (pad_x, split, width - pad_x, height - pad_y), ink, max_lines=2)
    return image


def browser_badge(code: str, name: str, size: tuple[int, int]) -> Any:
    width, height = size
    color = color_of(f"browser:{code}")
    image, draw = badge(size, color, "disc")
    # The square inside the disc, a little inset.
    inset_x, inset_y = width * 0.18, height * 0.18
    write(draw, name, (inset_x, inset_y, width - inset_x, height - inset_y), ink_for(color), max_lines=3)
    return image


def card_badge(code: str, name: str, size: tuple[int, int]) -> Any:
    width, height = size
    color = color_of(f"card:{code}")
    image, draw = badge(size, color, "card")
    chip = (width * 0.09, height * 0.22, width * 0.25, height * 0.44)
    draw.rounded_rectangle(chip, radius=max(1, round(min(width, height) * 0.03)), fill=(214, 180, 92))
    pad = width * 0.08
    write(draw, name, (pad, height * 0.52, width - pad, height * 0.86), ink_for(color), max_lines=2)
    return image


# ---------------------------------------------------------------------------------------------
# initials


def initials_of(name: str) -> str:
    """Up to two initials: the first letters or digits of the first two words (or `_`-separated parts)."""
    words = name.upper().split()
    if len(words) == 1:
        words = words[0].split("_")
    letters = [word[0] for word in words if word and word[0].isalnum()]
    return "".join(letters[:2])


def theme_color(initials: str) -> str:
    """Appwrite's pick: the last digit of the sum of the initials' code points, wrapped to the five themes."""
    digit = int(str(sum(ord(letter) for letter in initials))[-1])
    return THEMES[digit % len(THEMES)]


def signed_in_name(call: Call) -> str:
    if not call.auth.user_id:
        return ""
    record = find_user(call.project.connection, call.auth.user_id)
    if record is None:
        return ""
    return record["name"] or record["email"] or ""


def initials_image(initials: str, size: tuple[int, int], background: tuple[int, int, int]) -> Any:
    """The initials, or a silhouette when there are none, cut out of the background (Appwrite's look)."""
    from PIL import Image, ImageDraw

    width, height = size
    image = Image.new("RGBA", size, (*background, 255))
    draw = ImageDraw.Draw(image)
    hole = (0, 0, 0, 0)
    side = min(width, height)
    if initials:
        size_px = max(1, side // 2)
        draw.text((width / 2, height / 2 + size_px * 0.35), initials, font=font(size_px), fill=hole, anchor="ms")
    else:
        cx = width / 2
        head = side * 0.18
        draw.ellipse(
            (cx - head, height * 0.40 - side * 0.16 - head, cx + head, height * 0.40 - side * 0.16 + head), hole
        )
        shoulders = side * 0.34
        top = height * 0.40 + side * 0.10
        draw.ellipse((cx - shoulders, top, cx + shoulders, top + shoulders * 1.6), hole)
    return image


@handles("avatars.getInitials")
def get_initials(call: Call) -> Media:
    params = call.params
    name = params.get("name") or ""
    if len(name) > MAX_NAME:
        raise invalid_argument(f"Invalid `name` param: expected at most {MAX_NAME} characters")
    background = hex_color(params, "background")
    size = dimensions(params, INITIALS_SIZE)
    initials = initials_of(name.strip() or signed_in_name(call))
    if background is None:
        background = rgb(theme_color(initials) if initials else PLACEHOLDER_BACKGROUND)
    return png(initials_image(initials, size, background), "initials.png")


# ---------------------------------------------------------------------------------------------
# flags, browsers, credit cards


def not_found(kind: str, code: str) -> AppwriteError:
    return AppwriteError("avatar_not_found", f"There is no {kind} icon with the code {code!r}.")


def drawn_icon(call: Call, code: str, name: str | None, kind: str, draw: Any, natural: tuple[int, int]) -> Media:
    """A badge drawn for `code` (named `name`, None when there is no such code) at the size asked."""
    if name is None:
        raise not_found(kind, call.params["code"])
    image = draw(code, name, dimensions(call.params, natural))
    return png(image, f"{kind.replace(' ', '-')}-{code.lower()}.png", compression(call.params))


@handles("avatars.getFlag")
def get_flag(call: Call) -> Media:
    code = str(call.params["code"]).upper()
    return drawn_icon(call, code, country_names().get(code), "flag", flag_badge, FLAG_SIZE)


@handles("avatars.getBrowser")
def get_browser(call: Call) -> Media:
    code = str(call.params["code"]).lower()
    return drawn_icon(call, code, BROWSERS.get(code), "browser", browser_badge, BROWSER_SIZE)


@handles("avatars.getCreditCard")
def get_credit_card(call: Call) -> Media:
    code = str(call.params["code"]).lower()
    return drawn_icon(call, code, CREDIT_CARDS.get(code), "credit card", card_badge, CARD_SIZE)


# ---------------------------------------------------------------------------------------------
# QR codes


@handles("avatars.getQR")
def get_qr(call: Call) -> Media:
    import segno  # imported here: only QR codes need it
    from PIL import Image

    text = call.params.get("text")
    if not isinstance(text, str) or not 1 <= len(text) <= MAX_QR_TEXT:
        raise invalid_argument(f"Invalid `text` param: expected 1 to {MAX_QR_TEXT} characters of text")
    size = within(call.params, "size", *QR_SIZES)
    margin = within(call.params, "margin", *QR_MARGINS)
    code = segno.make(text, micro=False)
    modules = io.BytesIO()
    code.save(modules, kind="png", scale=1, border=margin)
    image = Image.open(modules).convert("L").resize((size, size), Image.Resampling.NEAREST)
    return png(image, "qr.png", 9, download=bool(call.params.get("download")))


# ---------------------------------------------------------------------------------------------
# remote images


class FetchFailed(Exception):
    """A remote fetch that did not bring back a body: why, and the HTTP status when the server answered."""

    def __init__(self, reason: str, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


def fetch(call: Call, url: str) -> Answer:
    """GET `url` (redirects followed) within FETCH_TIMEOUT seconds and MAX_FETCH_BYTES bytes, where the
    call's requests may go (public addresses only, unless the engine allows private ones)."""
    if url.startswith("data:"):
        return from_data_url(url)
    try:
        answer = call.outbound.get(
            url,
            timeout=FETCH_TIMEOUT,
            max_bytes=MAX_FETCH_BYTES,
            max_redirects=MAX_REDIRECTS,
            headers={"User-Agent": USER_AGENT, "Accept": "image/*,text/html;q=0.9,*/*;q=0.8"},
        )
    except Failed as failure:
        raise FetchFailed(str(failure)) from None
    if answer.status >= 400:
        raise FetchFailed(f"the server answered HTTP {answer.status}", answer.status)
    return answer


def from_data_url(url: str) -> Answer:
    header, comma, payload = url[5:].partition(",")
    if not comma:
        raise FetchFailed("the data: URL has no content")
    try:
        data = base64.b64decode(payload) if header.endswith(";base64") else unquote_to_bytes(payload)
    except (binascii.Error, ValueError):
        raise FetchFailed("the data: URL's content is not valid base64") from None
    return Answer(200, header.split(";")[0], data, url)


def remote_url_failed(url: str, failure: FetchFailed, what: str) -> AppwriteError:
    return AppwriteError("avatar_remote_url_failed", f"Could not fetch {what} at {url}: {failure.reason}.")


def decoded(data: bytes) -> Any | None:
    """The image in `data` (its first frame), or None when Pillow cannot read it."""
    from PIL import Image, UnidentifiedImageError

    try:
        image = Image.open(io.BytesIO(data))
        if image.width * image.height > MAX_PIXELS:
            return None
        image.seek(0)
        image.load()
    except (UnidentifiedImageError, OSError, ValueError, EOFError, Image.DecompressionBombError):
        return None
    return image.convert("RGBA")


def cropped(image: Any, width: int, height: int) -> Any:
    """Scaled to cover width x height and cropped around the center (0: from the image's proportions)."""
    from PIL import Image, ImageOps

    size = scaled(width, height, image.size)
    if size == image.size:
        return image
    return ImageOps.fit(image, size, Image.Resampling.LANCZOS)


def described(content_type: str) -> str:
    kind = content_type.split(";")[0].strip()
    return f" (it answered {kind})" if kind else ""


@handles("avatars.getImage")
def get_image(call: Call) -> Media:
    url = check_url(call.params.get("url"))
    width = within(call.params, "width", 0, MAX_SIDE)
    height = within(call.params, "height", 0, MAX_SIDE)
    try:
        fetched = fetch(call, url)
    except FetchFailed as failure:
        if failure.status is not None:
            raise AppwriteError(
                "avatar_image_not_found", f"The image at {url} was not found: {failure.reason}."
            ) from None
        raise remote_url_failed(url, failure, "the image") from None
    image = decoded(fetched.body)
    if image is None:
        raise AppwriteError(
            "avatar_image_not_found",
            f"{url} is not an image that can be read{described(fetched.content_type)}: expected PNG, JPEG, GIF, "
            "WebP, BMP, ICO or another raster format.",
        )
    return png(cropped(image, width, height), "image.png")


# ---------------------------------------------------------------------------------------------
# favicons


class IconLinks(HTMLParser):
    """The page's <base href> and its <link rel="icon"> (any rel with the token icon): (href, sizes, type)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.base = ""
        self.icons: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "base" and values.get("href") and not self.base:
            self.base = values["href"]
        elif tag == "link" and "icon" in values.get("rel", "").lower().split() and values.get("href"):
            self.icons.append((values["href"].strip(), values.get("sizes", ""), values.get("type", "")))


def area(sizes: str) -> int:
    """The largest area among `sizes` like "16x16 32x32" (0 when none is given)."""
    best = 0
    for size in sizes.lower().split():
        width, _, height = size.partition("x")
        if width.isdigit() and height.isdigit():
            best = max(best, int(width) * int(height))
    return best


def icon_links(page: Answer) -> list[str]:
    """The icons a page links to, largest first; SVG is left out (it cannot be rasterized here)."""
    charset = re.search(r"charset=([\w-]+)", page.content_type or "")
    try:
        text = page.body.decode(charset.group(1) if charset else "utf-8", errors="replace")
    except LookupError:
        text = page.body.decode("utf-8", errors="replace")
    parser = IconLinks()
    try:
        parser.feed(text)
        parser.close()
    except AssertionError:  # html.parser gives up on some malformed markup: keep what it found
        pass
    base = urljoin(page.url, parser.base) if parser.base else page.url
    links = []
    for href, sizes, kind in parser.icons:
        absolute = urljoin(base, href)
        if urlsplit(absolute).scheme not in ("http", "https", "data"):
            continue
        if (
            "svg" in kind.lower()
            or urlsplit(absolute).path.lower().endswith(".svg")
            or absolute[:14] == "data:image/svg"
        ):
            continue
        links.append((area(sizes), absolute))
    return [href for _, href in sorted(links, key=lambda link: -link[0])]


def shown(href: str) -> str:
    return "a data: URL" if href.startswith("data:") else href


@handles("avatars.getFavicon")
def get_favicon(call: Call) -> Media:
    url = check_url(call.params.get("url"))
    tried = []
    try:
        page = fetch(call, url)
        links = icon_links(page)
        origin = urlsplit(page.url)
    except FetchFailed as failure:
        if failure.status is None:
            raise remote_url_failed(url, failure, "the page") from None
        # The page is missing or refused, but the site may still have an icon.
        tried.append(f"the page itself ({failure.reason})")
        links = []
        origin = urlsplit(url)
    fallback = f"{origin.scheme}://{origin.netloc}/favicon.ico"
    candidates = [*dict.fromkeys(links[: MAX_ICON_TRIES - 1])]
    for href in [*candidates, *([fallback] if fallback not in candidates else [])]:
        try:
            icon = fetch(call, href)
        except FetchFailed as failure:
            tried.append(f"{shown(href)} ({failure.reason})")
            continue
        image = decoded(icon.body)
        if image is not None:
            return png(cropped(image, FAVICON_SIDE, FAVICON_SIDE), "favicon.png")
        tried.append(f"{shown(href)} (not an image{described(icon.content_type)})")
    raise AppwriteError("avatar_icon_not_found", f"No favicon found for {url}: tried {'; '.join(tried)}.")


# ---------------------------------------------------------------------------------------------
# screenshots


@handles("avatars.getScreenshot")
def get_screenshot(call: Call) -> Media:
    url = check_url(call.params.get("url"))
    raise AppwriteError(
        "general_not_implemented",
        f"avatars.getScreenshot needs a headless browser to load and capture {url}, and the baas-mcp embedded "
        "engine does not include one; an Appwrite server takes screenshots: run this operation on one through "
        "the HTTP backend (baas-mcp serve --endpoint URL --api-key KEY --project ID)",
    )
