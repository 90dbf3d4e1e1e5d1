#pragma once
// Internal to data/image.cpp: JPEG decoding through libjpeg-turbo when the build found it
// (STRATA_HAVE_LIBJPEG). Its SIMD IDCT and colour conversion decode about twice as fast as stb's,
// and JPEG decoding is most of a photo data set's loading time (bench_dataloader's jpeg224 cases).
#include <cstddef>
#include <cstdint>
#include <string>

#include "data/image.h"

namespace strata::data::detail {

// True when this build decodes JPEG with libjpeg-turbo.
bool libjpeg_available();

// Decodes a JPEG into `out` with `channels` = 1 (gray) or 3 (RGB). Returns false with libjpeg's
// message in `error` for data it cannot decode (corrupt, truncated, CMYK); never throws through
// libjpeg's frames.
bool decode_jpeg_libjpeg(const uint8_t* bytes, size_t size, int channels, Image& out, std::string& error);

}  // namespace strata::data::detail
