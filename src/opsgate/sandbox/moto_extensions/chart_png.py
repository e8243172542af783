"""A line chart as a PNG, drawn in pure Python (zlib for the compression, nothing else).

Enough to show what a metric did around an alarm: the series as lines, horizontal lines for
thresholds, vertical lines for moments (the state change). No text: the chart's title travels
with the upload. Pixels, not anti-aliased; every PNG is 8-bit RGB with filter 0 rows.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field

from opsgate.domain.alert_context import PNG_SIGNATURE

Color = tuple[int, int, int]
BACKGROUND: Color = (255, 255, 255)
AXIS: Color = (90, 90, 90)
SERIES: tuple[Color, ...] = ((31, 119, 180), (44, 160, 44), (148, 103, 189), (140, 86, 75))
THRESHOLD: Color = (214, 39, 40)
MOMENT: Color = (255, 127, 14)
MARGIN = 24


@dataclass
class LineChart:
    """Series of (t, value) points over [t_start, t_end]; horizontal lines at values, vertical at times."""

    width: int
    height: int
    t_start: float
    t_end: float
    series: list[Sequence[tuple[float, float]]] = field(default_factory=list)
    horizontal: list[float] = field(default_factory=list)
    vertical: list[float] = field(default_factory=list)

    def value_range(self) -> tuple[float, float]:
        values = [v for points in self.series for _, v in points] + self.horizontal + [0.0]
        low, high = min(values), max(values)
        if high == low:
            high = low + 1.0
        return low, high + (high - low) * 0.1  # headroom above the highest line

    def x(self, t: float) -> int:
        span = max(self.t_end - self.t_start, 1e-9)
        return MARGIN + round((t - self.t_start) / span * (self.width - 2 * MARGIN - 1))

    def y(self, value: float) -> int:
        low, high = self.value_range()
        return self.height - MARGIN - 1 - round((value - low) / (high - low) * (self.height - 2 * MARGIN - 1))

    def png(self) -> bytes:
        canvas = _Canvas(self.width, self.height)
        left, bottom = MARGIN, self.height - MARGIN - 1
        canvas.line(left, MARGIN, left, bottom, AXIS)
        canvas.line(left, bottom, self.width - MARGIN - 1, bottom, AXIS)
        for value in self.horizontal:
            canvas.line(left, self.y(value), self.width - MARGIN - 1, self.y(value), THRESHOLD, dash=6)
        for t in self.vertical:
            if self.t_start <= t <= self.t_end:
                canvas.line(self.x(t), MARGIN, self.x(t), bottom, MOMENT, dash=4)
        for index, points in enumerate(self.series):
            color = SERIES[index % len(SERIES)]
            pixels = [(self.x(t), self.y(v)) for t, v in points if self.t_start <= t <= self.t_end]
            for (x0, y0), (x1, y1) in zip(pixels, pixels[1:]):
                canvas.line(x0, y0, x1, y1, color)
            for x0, y0 in pixels:  # a lone point still shows
                canvas.dot(x0, y0, color)
        return canvas.png()


class _Canvas:
    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.pixels = bytearray(bytes(BACKGROUND) * (width * height))

    def set(self, x: int, y: int, color: Color) -> None:
        if 0 <= x < self.width and 0 <= y < self.height:
            offset = (y * self.width + x) * 3
            self.pixels[offset: offset + 3] = bytes(color)

    def dot(self, x: int, y: int, color: Color) -> None:
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                self.set(x + dx, y + dy, color)

    def line(self, x0: int, y0: int, x1: int, y1: int, color: Color, *, dash: int = 0) -> None:
        """Bresenham; `dash` draws that many pixels on, then as many off."""
        dx, dy = abs(x1 - x0), -abs(y1 - y0)
        sx, sy = (1 if x0 < x1 else -1), (1 if y0 < y1 else -1)
        error, step = dx + dy, 0
        while True:
            if not dash or (step // dash) % 2 == 0:
                self.set(x0, y0, color)
            if x0 == x1 and y0 == y1:
                return
            twice = 2 * error
            if twice >= dy:
                error += dy
                x0 += sx
            if twice <= dx:
                error += dx
                y0 += sy
            step += 1

    def png(self) -> bytes:
        row = self.width * 3
        raw = b"".join(b"\x00" + bytes(self.pixels[y * row:(y + 1) * row]) for y in range(self.height))
        header = struct.pack(">IIBBBBB", self.width, self.height, 8, 2, 0, 0, 0)  # 8-bit RGB
        return PNG_SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(raw, 6)) + _chunk(b"IEND", b"")


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
