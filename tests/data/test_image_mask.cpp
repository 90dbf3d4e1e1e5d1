// load_mask on palette PNGs: the test encodes indexed PNGs itself (every filter type, bit depths
// 1-8) and checks the indices come back; stb's own decode of the same file (palette expanded to
// RGB) cross-checks the unfiltering. Broken palette files must be IOErrors naming the file.
#include <gtest/gtest.h>
#include <zlib.h>

#include <unistd.h>

#include <array>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "data/image.h"
#include "support/expect_error.h"

namespace fs = std::filesystem;
using namespace strata;
using namespace strata::data;

namespace {

void put_be32(std::vector<uint8_t>& b, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) b.push_back(uint8_t(v >> s));
}

void chunk(std::vector<uint8_t>& png, const char* type, const std::vector<uint8_t>& data) {
  put_be32(png, uint32_t(data.size()));
  const size_t start = png.size();
  png.insert(png.end(), type, type + 4);
  png.insert(png.end(), data.begin(), data.end());
  put_be32(png, uint32_t(crc32(0, png.data() + start, uInt(png.size() - start))));
}

int paeth(int a, int b, int c) {
  const int p = a + b - c, pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
  return pa <= pb && pa <= pc ? a : (pb <= pc ? b : c);
}

// An indexed PNG of `idx` (h x w indices < 2^depth) with `ncolours` palette entries; row y uses
// filter type y % 5 (or `filter_override` when >= 0).
std::vector<uint8_t> palette_png(const Image& idx, int depth, int ncolours, int filter_override = -1,
                                 bool interlace = false) {
  std::vector<uint8_t> png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  std::vector<uint8_t> ihdr;
  put_be32(ihdr, uint32_t(idx.w));
  put_be32(ihdr, uint32_t(idx.h));
  ihdr.insert(ihdr.end(), {uint8_t(depth), 3, 0, 0, uint8_t(interlace ? 1 : 0)});
  chunk(png, "IHDR", ihdr);
  std::vector<uint8_t> plte;
  for (int i = 0; i < ncolours; ++i) plte.insert(plte.end(), {uint8_t(i * 7), uint8_t(255 - i), uint8_t(i * 13)});
  chunk(png, "PLTE", plte);
  // Passes: the whole image, or Adam7's seven (x0, y0, dx, dy) sub-images.
  std::vector<std::array<int, 4>> passes = {{0, 0, 1, 1}};
  if (interlace)
    passes = {{0, 0, 8, 8}, {4, 0, 8, 8}, {0, 4, 4, 8}, {2, 0, 4, 4}, {0, 2, 2, 4}, {1, 0, 2, 2}, {0, 1, 1, 2}};
  std::vector<uint8_t> raw;
  int row_no = 0;
  for (const auto& [x0, y0, dx, dy] : passes) {
    const int pw = idx.w > x0 ? (idx.w - x0 + dx - 1) / dx : 0, ph = idx.h > y0 ? (idx.h - y0 + dy - 1) / dy : 0;
    if (pw == 0 || ph == 0) continue;
    const size_t stride = (size_t(pw) * size_t(depth) + 7) / 8;
    std::vector<uint8_t> prev(stride, 0);
    for (int py = 0; py < ph; ++py) {
      std::vector<uint8_t> line(stride, 0);
      for (int px = 0; px < pw; ++px) {
        const int per = 8 / depth;
        line[size_t(px / per)] |= uint8_t(idx.at(y0 + py * dy, x0 + px * dx, 0) << (8 - depth * (px % per + 1)));
      }
      const int f = filter_override >= 0 ? filter_override : row_no++ % 5;
      raw.push_back(uint8_t(f));
      for (size_t i = 0; i < stride; ++i) {
        const int a = i ? line[i - 1] : 0, b = prev[i], c = i ? prev[i - 1] : 0;
        const int pred = f == 0 ? 0 : f == 1 ? a : f == 2 ? b : f == 3 ? (a + b) / 2 : paeth(a, b, c);
        raw.push_back(uint8_t(line[i] - pred));
      }
      prev = line;
    }
  }
  uLongf n = compressBound(uLong(raw.size()));
  std::vector<uint8_t> z(n);
  compress(z.data(), &n, raw.data(), uLong(raw.size()));
  z.resize(n);
  chunk(png, "IDAT", z);
  chunk(png, "IEND", {});
  return png;
}

class PaletteMasks : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("strata_test_mask_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path write(const std::string& name, const std::vector<uint8_t>& bytes) {
    std::ofstream out(dir_ / name, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
    return dir_ / name;
  }
  fs::path dir_;
};

Image codes(int h, int w, int depth) {
  Image m(h, w, 1);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) m.at(y, x, 0) = uint8_t((x * 7 + y * 3 + x * y) % (1 << depth));
  m.kind = ImageKind::Mask;
  return m;
}

}  // namespace

TEST_F(PaletteMasks, IndicesSurviveEveryDepthAndFilter) {
  for (int depth : {1, 2, 4, 8}) {
    const int ncol = std::min(1 << depth, 256);
    const Image m = codes(11, 13, depth);  // 13 columns: partial last byte at depths < 8
    const fs::path p = write("m" + std::to_string(depth) + ".png", palette_png(m, depth, ncol));
    const Image got = load_mask(p);
    ASSERT_EQ(got.c, 1);
    EXPECT_EQ(got, m) << "depth " << depth;
    // stb expands the palette: its colours must be the palette entries of our indices.
    const Image rgb = load_image(p);
    for (int y = 0; y < m.h; ++y)
      for (int x = 0; x < m.w; ++x) {
        const int i = m.at(y, x, 0);
        ASSERT_EQ(rgb.at(y, x, 0), uint8_t(i * 7)) << depth << " " << y << " " << x;
        ASSERT_EQ(rgb.at(y, x, 1), uint8_t(255 - i));
      }
  }
}

TEST_F(PaletteMasks, Adam7Interlaced) {
  // Sizes that leave some passes empty (1x1, 3x2) and ones that fill all seven.
  for (auto [h, w] : {std::array{1, 1}, std::array{2, 3}, std::array{9, 11}, std::array{16, 17}})
    for (int depth : {2, 8}) {
      const Image m = codes(h, w, depth);
      const fs::path p = write("i.png", palette_png(m, depth, 1 << depth, -1, true));
      EXPECT_EQ(load_mask(p), m) << h << "x" << w << " depth " << depth;
      const Image rgb = load_image(p);  // stb de-interlaces too: same palette colours
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) ASSERT_EQ(rgb.at(y, x, 0), uint8_t(m.at(y, x, 0) * 7));
    }
}

TEST_F(PaletteMasks, NonPaletteMasksReadAsGray) {
  Image m = codes(5, 6, 5);
  save_png(m, dir_ / "gray.png");
  EXPECT_EQ(load_mask(dir_ / "gray.png"), m);
}

TEST_F(PaletteMasks, BrokenPaletteFiles) {
  const Image m = codes(6, 6, 4);
  auto png = palette_png(m, 4, 16);
  // Truncated in the middle of IDAT.
  const fs::path cut = write("cut.png", std::vector<uint8_t>(png.begin(), png.begin() + long(png.size() - 20)));
  EXPECT_STRATA_ERROR(load_mask(cut), IOError, {"cut.png", "truncated"});
  // Bit flip: CRC mismatch.
  auto flipped = png;
  flipped[flipped.size() - 16] ^= 1;
  EXPECT_STRATA_ERROR(load_mask(write("flip.png", flipped)), IOError, {"flip.png", "CRC"});
  // Index beyond a 3-entry palette.
  EXPECT_STRATA_ERROR(load_mask(write("idx.png", palette_png(m, 4, 3))), IOError, {"idx.png", "palette index"});
  // An unknown filter type (7) on the first row.
  auto bad_filter = palette_png(m, 8, 16, 7);
  EXPECT_STRATA_ERROR(load_mask(write("filter.png", bad_filter)), IOError, {"filter.png", "filter type 7"});
}
