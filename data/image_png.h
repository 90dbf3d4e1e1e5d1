#pragma once
// A small PNG reader for palette (indexed, colour type 3) PNGs, used by load_mask: stb_image expands
// the palette to colours, but a segmentation mask's palette index *is* the class code. Internal to
// data/image.cpp; kept apart because it is a whole decoder (chunks, CRC, inflate, filters, bit
// unpacking) with its own failure modes.
#include <cstddef>
#include <cstdint>
#include <string>

#include "data/image.h"

namespace strata::data::detail {

// True when the bytes start with a PNG signature and an IHDR whose colour type is 3 (palette).
bool is_palette_png(const uint8_t* bytes, size_t size);

// Checks a PNG's chunk structure before stb decodes it (stb reads the chunks without checking
// their CRCs or that the file ends with IEND): every chunk fits in the file with a matching CRC,
// IHDR comes first with dimensions that are non-zero and within the limits of image.h, and IEND is
// present. Throws IOError naming `name` and what is wrong.
void check_png_structure(const uint8_t* bytes, size_t size, const std::string& name);

// Decodes a palette PNG (bit depth 1, 2, 4 or 8; plain or Adam7-interlaced) into a 1-channel
// image of indices. Throws IOError naming `name` for any defect: bad CRC, truncated chunks, missing IHDR /
// IDAT / IEND, corrupt zlib data, bad filter types, too little or too much pixel data, an index
// outside the PLTE, dimensions over the limits of image.h.
Image decode_palette_png(const uint8_t* bytes, size_t size, const std::string& name);

}  // namespace strata::data::detail
