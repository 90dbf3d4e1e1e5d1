// Palette PNG decoding (see image_png.h). Follows the PNG specification (ISO/IEC 15948): chunks are
// length, type, data, CRC-32 (over type and data); IDAT payloads concatenate into one zlib stream
// whose inflated bytes are scanlines, each a filter-type byte followed by ceil(w * depth / 8)
// bytes; indices narrower than a byte are packed most significant bits first.
#include "data/image_png.h"

#include <zlib.h>

#include <cstdlib>
#include <cstring>
#include <vector>

#include "tensor/error.h"

namespace strata::data::detail {

namespace {

constexpr uint8_t kSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};

uint32_t be32(const uint8_t* p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}

int paeth(int a, int b, int c) {
  const int p = a + b - c;
  const int pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
  if (pa <= pb && pa <= pc) return a;
  if (pb <= pc) return b;
  return c;
}

}  // namespace

void check_png_structure(const uint8_t* b, size_t n, const std::string& name) {
  STRATA_CHECK(n >= 8 && std::memcmp(b, kSignature, 8) == 0, IOError, "image {}: not a PNG file", name);
  size_t pos = 8;
  bool first = true;
  while (true) {
    STRATA_CHECK(n - pos >= 12, IOError, "image {}: truncated PNG (file ends at byte {} before the IEND chunk)", name,
                 n);
    const uint32_t len = be32(b + pos);
    const std::string tname(reinterpret_cast<const char*>(b + pos + 4), 4);
    STRATA_CHECK(len <= 0x7FFFFFFFu && n - pos - 12 >= len, IOError,
                 "image {}: truncated PNG (chunk '{}' at byte {} declares {} bytes, {} remain)", name, tname, pos, len,
                 n - pos - 12);
    const uint8_t* data = b + pos + 8;
    const uint32_t computed = static_cast<uint32_t>(crc32(crc32(0L, Z_NULL, 0), b + pos + 4, len + 4));
    STRATA_CHECK(be32(data + len) == computed, IOError, "image {}: corrupt PNG (CRC mismatch in chunk '{}' at byte {})",
                 name, tname, pos);
    if (first) {
      STRATA_CHECK(tname == "IHDR" && len == 13, IOError, "image {}: corrupt PNG (first chunk is '{}', not IHDR)", name,
                   tname);
      const uint32_t w = be32(data), h = be32(data + 4);
      if (w == 0 || h == 0) STRATA_THROW(IOError, "image {}: zero-sized image ({}x{})", name, w, h);
      if (int64_t(w) > kMaxImageSide || int64_t(h) > kMaxImageSide || int64_t(w) * int64_t(h) > kMaxImagePixels)
        STRATA_THROW(IOError, "image {}: dimensions {}x{} exceed the limit ({} per side, {} pixels)", name, w, h,
                     kMaxImageSide, kMaxImagePixels);
      first = false;
    }
    if (tname == "IEND") return;
    pos += 12 + size_t(len);
  }
}

bool is_palette_png(const uint8_t* b, size_t n) {
  // signature (8) + IHDR length (4) + "IHDR" (4) + w, h (8) + depth (1) + colour type (1)
  return n >= 26 && std::memcmp(b, kSignature, 8) == 0 && std::memcmp(b + 12, "IHDR", 4) == 0 && b[25] == 3;
}

Image decode_palette_png(const uint8_t* b, size_t n, const std::string& name) {
  STRATA_CHECK(n >= 8 && std::memcmp(b, kSignature, 8) == 0, IOError, "image {}: not a PNG file", name);
  size_t pos = 8;
  uint32_t w = 0, h = 0;
  int depth = 0;
  size_t palette_size = 0;
  bool seen_ihdr = false, seen_iend = false, interlaced = false;
  std::vector<uint8_t> idat;
  while (pos < n && !seen_iend) {
    STRATA_CHECK(n - pos >= 12, IOError, "image {}: truncated PNG (chunk header at byte {} cut short)", name, pos);
    const uint32_t len = be32(b + pos);
    const uint8_t* type = b + pos + 4;
    STRATA_CHECK(len <= 0x7FFFFFFFu && n - pos - 12 >= len, IOError,
                 "image {}: truncated PNG (chunk '{}' at byte {} declares {} bytes, {} remain)", name,
                 std::string(reinterpret_cast<const char*>(type), 4), pos, len, n - pos - 12);
    const uint8_t* data = b + pos + 8;
    const uint32_t crc = be32(data + len);
    const uint32_t computed = static_cast<uint32_t>(crc32(crc32(0L, Z_NULL, 0), type, len + 4));
    const std::string tname(reinterpret_cast<const char*>(type), 4);
    STRATA_CHECK(crc == computed, IOError, "image {}: corrupt PNG (CRC mismatch in chunk '{}' at byte {})", name, tname,
                 pos);
    if (tname == "IHDR") {
      STRATA_CHECK(len == 13, IOError, "image {}: corrupt PNG (IHDR of {} bytes)", name, len);
      w = be32(data);
      h = be32(data + 4);
      depth = data[8];
      STRATA_CHECK(data[9] == 3, IOError, "image {}: not a palette PNG (colour type {})", name, data[9]);
      STRATA_CHECK(depth == 1 || depth == 2 || depth == 4 || depth == 8, IOError,
                   "image {}: corrupt PNG (bit depth {} for a palette image)", name, depth);
      STRATA_CHECK(data[12] <= 1, IOError, "image {}: corrupt PNG (interlace method {})", name, data[12]);
      interlaced = data[12] == 1;
      if (w == 0 || h == 0) STRATA_THROW(IOError, "image {}: zero-sized image ({}x{})", name, w, h);
      if (int64_t(w) > kMaxImageSide || int64_t(h) > kMaxImageSide || int64_t(w) * int64_t(h) > kMaxImagePixels)
        STRATA_THROW(IOError, "image {}: dimensions {}x{} exceed the limit ({} per side, {} pixels)", name, w, h,
                     kMaxImageSide, kMaxImagePixels);
      seen_ihdr = true;
    } else if (tname == "PLTE") {
      STRATA_CHECK(len % 3 == 0 && len > 0 && len <= 768, IOError, "image {}: corrupt PNG (PLTE of {} bytes)", name,
                   len);
      palette_size = len / 3;
    } else if (tname == "IDAT") {
      STRATA_CHECK(seen_ihdr, IOError, "image {}: corrupt PNG (IDAT before IHDR)", name);
      idat.insert(idat.end(), data, data + len);
    } else if (tname == "IEND") {
      seen_iend = true;
    }
    pos += 12 + size_t(len);
  }
  STRATA_CHECK(seen_ihdr, IOError, "image {}: corrupt PNG (no IHDR chunk)", name);
  STRATA_CHECK(!idat.empty(), IOError, "image {}: truncated PNG (no image data)", name);
  STRATA_CHECK(seen_iend, IOError, "image {}: truncated PNG (no IEND chunk)", name);

  // The passes the data is stored in: one (the whole image) or Adam7's seven sub-images, each a run
  // of filtered scanlines; a pass with no pixels has no bytes at all.
  struct Pass {
    uint32_t x0, y0, dx, dy, w, h;
    size_t stride;
  };
  std::vector<Pass> passes;
  if (!interlaced) {
    passes.push_back({0, 0, 1, 1, w, h, 0});
  } else {
    static constexpr uint32_t kAdam7[7][4] = {{0, 0, 8, 8}, {4, 0, 8, 8}, {0, 4, 4, 8}, {2, 0, 4, 4},
                                              {0, 2, 2, 4}, {1, 0, 2, 2}, {0, 1, 1, 2}};
    for (const auto& a : kAdam7) {
      const uint32_t pw = w > a[0] ? (w - a[0] + a[2] - 1) / a[2] : 0;
      const uint32_t ph = h > a[1] ? (h - a[1] + a[3] - 1) / a[3] : 0;
      if (pw && ph) passes.push_back({a[0], a[1], a[2], a[3], pw, ph, 0});
    }
  }
  size_t expected = 0;
  for (Pass& p : passes) {
    p.stride = (size_t(p.w) * size_t(depth) + 7) / 8;
    expected += (p.stride + 1) * size_t(p.h);
  }
  std::vector<uint8_t> raw(expected);
  z_stream zs{};
  STRATA_CHECK(inflateInit(&zs) == Z_OK, IOError, "image {}: zlib initialization failed", name);
  zs.next_in = idat.data();
  zs.avail_in = static_cast<uInt>(idat.size());
  zs.next_out = raw.data();
  zs.avail_out = static_cast<uInt>(raw.size());
  const int rc = inflate(&zs, Z_FINISH);
  const size_t produced = raw.size() - zs.avail_out;
  inflateEnd(&zs);
  if (rc != Z_STREAM_END && zs.avail_out == 0)
    STRATA_THROW(IOError, "image {}: corrupt PNG (more pixel data than {}x{} needs)", name, w, h);
  STRATA_CHECK(rc == Z_STREAM_END, IOError, "image {}: corrupt PNG image data (zlib: {}; {} of {} bytes inflated)",
               name, zs.msg ? zs.msg : "incomplete stream", produced, expected);
  STRATA_CHECK(produced == expected, IOError, "image {}: truncated PNG image data ({} of {} bytes)", name, produced,
               expected);

  // Unfilter in place (filters work on bytes at a distance of 1 for depths <= 8), then unpack each
  // pass's indices into their places in the image.
  Image img{static_cast<int>(h), static_cast<int>(w), 1};
  const int per_byte = 8 / depth;
  const int mask = (1 << depth) - 1;
  uint8_t* line = raw.data();
  for (const Pass& p : passes) {
    std::vector<uint8_t> prev(p.stride, 0);
    for (uint32_t py = 0; py < p.h; ++py, line += p.stride + 1) {
      const int filter = line[0];
      uint8_t* cur = line + 1;
      for (size_t i = 0; i < p.stride; ++i) {
        const int a = i > 0 ? cur[i - 1] : 0, up = prev[i], c = i > 0 ? prev[i - 1] : 0;
        int v = cur[i];
        switch (filter) {
          case 0: break;
          case 1: v += a; break;
          case 2: v += up; break;
          case 3: v += (a + up) / 2; break;
          case 4: v += paeth(a, up, c); break;
          default: STRATA_THROW(IOError, "image {}: corrupt PNG (filter type {} on row {})", name, filter, py);
        }
        cur[i] = static_cast<uint8_t>(v);
      }
      std::memcpy(prev.data(), cur, p.stride);
      const uint32_t y = p.y0 + py * p.dy;
      uint8_t* out = img.row(int(y));
      for (uint32_t px = 0; px < p.w; ++px) {
        const uint8_t byte = cur[px / uint32_t(per_byte)];
        const int shift = 8 - depth * (int(px % uint32_t(per_byte)) + 1);
        const int idx = (byte >> shift) & mask;
        const uint32_t x = p.x0 + px * p.dx;
        if (palette_size > 0 && size_t(idx) >= palette_size)
          STRATA_THROW(IOError, "image {}: corrupt PNG (palette index {} at ({}, {}) beyond the {}-entry palette)",
                       name, idx, y, x, palette_size);
        out[x] = static_cast<uint8_t>(idx);
      }
    }
  }
  STRATA_CHECK(palette_size > 0, IOError, "image {}: corrupt PNG (palette image without PLTE)", name);
  return img;
}

}  // namespace strata::data::detail
