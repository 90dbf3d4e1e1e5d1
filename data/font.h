#pragma once
// A built-in 5x7 bitmap font for printable ASCII (32-126), drawn in 6x8 cells (one column and one
// row of spacing), so that titles and labels can be rendered without a font library. The glyphs
// are this project's own (data/font.cpp, one readable row pattern per line).
#include <cstdint>

namespace strata::data::font {

inline constexpr int kGlyphWidth = 5;
inline constexpr int kGlyphHeight = 7;
inline constexpr int kCellWidth = 6;   // advance per character at scale 1
inline constexpr int kCellHeight = 8;  // line height at scale 1

// The 7 rows of the glyph for `ch`, top first; in each row bit 4 is the leftmost column. A
// character outside 32-126 gets a hollow box.
const uint8_t* glyph(char ch);

// True when pixel (x, y) of the glyph (0 <= x < 5, 0 <= y < 7) is set.
inline bool glyph_pixel(char ch, int x, int y) { return (glyph(ch)[y] >> (kGlyphWidth - 1 - x)) & 1; }

}  // namespace strata::data::font
