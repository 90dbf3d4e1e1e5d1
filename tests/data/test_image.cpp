// Image I/O: round trips through every writer, mode conversions, tensor conversion, and one test per
// way a file can be bad (each must be an IOError naming the file and the reason). Files are made in
// a temporary directory: PNG / JPEG through our encoders (stb_image_write), BMP and GIF byte by
// byte, and damaged copies of them.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "data/image.h"
#include "support/expect_error.h"
#include "tensor/ops.h"

namespace fs = std::filesystem;
using namespace strata;
using namespace strata::data;

namespace {

class ImageFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("strata_test_image_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path file(const std::string& name) const { return dir_ / name; }
  static void write(const fs::path& p, const std::vector<uint8_t>& bytes) {
    std::ofstream out(p, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
  }
  static std::vector<uint8_t> read(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
  fs::path dir_;
};

// A test pattern whose every pixel differs: r = 10 x + y, g = 3 y, b = x ^ y (+ alpha 255 - x).
Image pattern(int h, int w, int c) {
  Image img(h, w, c);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const int v[4] = {(10 * x + y) & 255, (3 * y) & 255, (x ^ y) & 255, (255 - x) & 255};
      for (int k = 0; k < c; ++k) img.at(y, x, k) = uint8_t(v[k]);
    }
  img.kind = c == 1 ? ImageKind::BW : ImageKind::Image;  // what load_image gives back
  return img;
}

void put_le16(std::vector<uint8_t>& b, uint32_t v) {
  b.push_back(uint8_t(v));
  b.push_back(uint8_t(v >> 8));
}
void put_le32(std::vector<uint8_t>& b, uint32_t v) {
  put_le16(b, v & 0xFFFF);
  put_le16(b, v >> 16);
}

// A 24-bit bottom-up BMP of an RGB image.
std::vector<uint8_t> make_bmp(const Image& img) {
  const uint32_t row = uint32_t((img.w * 3 + 3) & ~3);
  std::vector<uint8_t> b = {'B', 'M'};
  put_le32(b, 54 + row * uint32_t(img.h));
  put_le32(b, 0);
  put_le32(b, 54);
  put_le32(b, 40);
  put_le32(b, uint32_t(img.w));
  put_le32(b, uint32_t(img.h));
  put_le16(b, 1);
  put_le16(b, 24);
  for (int i = 0; i < 6; ++i) put_le32(b, 0);
  for (int y = img.h - 1; y >= 0; --y) {
    for (int x = 0; x < img.w; ++x) {
      b.push_back(img.at(y, x, 2));
      b.push_back(img.at(y, x, 1));
      b.push_back(img.at(y, x, 0));
    }
    for (uint32_t p = uint32_t(img.w) * 3; p < row; ++p) b.push_back(0);
  }
  return b;
}

// A 1x1 GIF whose pixel is palette entry 1 = (200, 100, 50), followed by a second frame of entry 0
// that load_image must ignore (first frame only).
std::vector<uint8_t> make_gif(uint16_t w = 1, uint16_t h = 1) {
  std::vector<uint8_t> b = {'G', 'I', 'F', '8', '9', 'a'};
  put_le16(b, w);
  put_le16(b, h);
  b.insert(b.end(), {0x80, 0x00, 0x00});          // global colour table of 2 entries
  b.insert(b.end(), {10, 20, 30, 200, 100, 50});  // entries 0 and 1
  auto frame = [&](uint8_t code_bits) {
    b.insert(b.end(), {0x2C, 0, 0, 0, 0, 1, 0, 1, 0, 0});  // image descriptor 1x1 at (0, 0)
    // LZW, minimum code size 2: clear (4), the index, end (5), packed LSB first in 3-bit codes.
    b.insert(b.end(), {0x02, 0x02, code_bits, 0x01, 0x00});
  };
  frame(0x4C);  // codes 4, 1, 5 -> 100 | 001 << 3 | 101 << 6 = 0b1'0100'1100
  frame(0x44);  // codes 4, 0, 5
  b.push_back(0x3B);
  return b;
}

}  // namespace

TEST_F(ImageFiles, PngRoundTripsEveryChannelCount) {
  for (int c : {1, 3, 4}) {
    const Image img = pattern(7, 11, c);
    const fs::path p = file("rt" + std::to_string(c) + ".png");
    save_png(img, p);
    EXPECT_EQ(load_image(p, ImageMode::Unchanged), img) << c;
  }
}

TEST_F(ImageFiles, ModesConvertChannels) {
  const Image gray = pattern(4, 5, 1);
  save_png(gray, file("g.png"));
  const Image rgb = load_image(file("g.png"));  // RGB is the default
  ASSERT_EQ(rgb.c, 3);
  for (int k = 0; k < 3; ++k) EXPECT_EQ(rgb.at(2, 3, k), gray.at(2, 3, 0));

  const Image col = pattern(4, 5, 3);
  save_png(col, file("c.png"));
  const Image g = load_image(file("c.png"), ImageMode::Gray);
  ASSERT_EQ(g.c, 1);
  const uint8_t* p = col.px(3, 4);
  EXPECT_EQ(g.at(3, 4, 0), (77 * p[0] + 150 * p[1] + 29 * p[2]) >> 8);

  const Image rgba = pattern(4, 5, 4);
  save_png(rgba, file("a.png"));
  const Image dropped = load_image(file("a.png"), ImageMode::RGB);
  EXPECT_EQ(dropped, convert_channels(rgba, 3));
  EXPECT_EQ(convert_channels(gray, 4).at(1, 1, 3), 255);
  EXPECT_EQ(convert_channels(gray, 4).at(1, 1, 1), gray.at(1, 1, 0));
}

TEST_F(ImageFiles, JpegRoundTripIsClose) {
  Image img(32, 48, 3);
  for (int y = 0; y < 32; ++y)
    for (int x = 0; x < 48; ++x) {
      img.at(y, x, 0) = uint8_t(4 * x);
      img.at(y, x, 1) = uint8_t(6 * y);
      img.at(y, x, 2) = 128;
    }
  save_jpeg(img, file("a.jpg"), 95);
  const Image back = load_image(file("a.jpg"));
  ASSERT_EQ(back.h, 32);
  ASSERT_EQ(back.w, 48);
  double err = 0;
  for (size_t i = 0; i < img.data.size(); ++i) err += std::abs(int(img.data[i]) - int(back.data[i]));
  EXPECT_LT(err / double(img.data.size()), 3.0);
}

// Gray and unchanged modes of a colour JPEG (libjpeg's colour conversion when the build has it,
// stb's otherwise): luma of the RGB decode within rounding, the file's own 3 channels.
TEST_F(ImageFiles, JpegGrayAndUnchangedModes) {
  Image img(24, 40, 3);
  for (int y = 0; y < 24; ++y)
    for (int x = 0; x < 40; ++x) {
      img.at(y, x, 0) = uint8_t(5 * x);
      img.at(y, x, 1) = uint8_t(9 * y);
      img.at(y, x, 2) = uint8_t(200 - 3 * x);
    }
  save_jpeg(img, file("c.jpg"), 95);
  const Image rgb = load_image(file("c.jpg"), ImageMode::RGB);
  const Image gray = load_image(file("c.jpg"), ImageMode::Gray);
  const Image own = load_image(file("c.jpg"), ImageMode::Unchanged);
  ASSERT_EQ(gray.c, 1);
  EXPECT_EQ(gray.kind, ImageKind::BW);
  ASSERT_EQ(own.c, 3);
  EXPECT_EQ(own.data, rgb.data);
  double err = 0;
  for (int y = 0; y < 24; ++y)
    for (int x = 0; x < 40; ++x) {
      const double luma = 0.299 * rgb.at(y, x, 0) + 0.587 * rgb.at(y, x, 1) + 0.114 * rgb.at(y, x, 2);
      err += std::abs(luma - gray.at(y, x, 0));
    }
  EXPECT_LT(err / (24.0 * 40.0), 2.0);
}

TEST_F(ImageFiles, BmpAndGifFirstFrame) {
  const Image img = pattern(3, 5, 3);
  write(file("a.bmp"), make_bmp(img));
  EXPECT_EQ(load_image(file("a.bmp")), img);

  write(file("a.gif"), make_gif());
  const Image g = load_image(file("a.gif"));
  ASSERT_EQ(g.h, 1);
  ASSERT_EQ(g.w, 1);
  EXPECT_EQ(g.at(0, 0, 0), 200);
  EXPECT_EQ(g.at(0, 0, 1), 100);
  EXPECT_EQ(g.at(0, 0, 2), 50);
}

TEST_F(ImageFiles, TensorConversions) {
  const Image img = pattern(3, 4, 3);
  TensorImage t = image_to_tensor(img);
  EXPECT_EQ(t.shape(), Shape({3, 3, 4}));
  EXPECT_EQ(t.dtype(), DType::U8);
  EXPECT_TRUE(is_a<TensorImage>(t));
  // [C, H, W]: channel 1 of pixel (y = 2, x = 3).
  EXPECT_EQ(t.data<uint8_t>()[1 * 12 + 2 * 4 + 3], img.at(2, 3, 1));
  ASSERT_NE(meta_as<ImageMeta>(t), nullptr);
  EXPECT_EQ(meta_as<ImageMeta>(t)->img_size, (ImageSize{3, 4}));
  EXPECT_EQ(tensor_to_image(t), img);

  TensorImageBW bw = image_to_tensor_bw(img);
  EXPECT_EQ(bw.shape(), Shape({1, 3, 4}));
  EXPECT_TRUE(is_a<TensorImageBW>(bw));
  EXPECT_EQ(tensor_to_image(bw), convert_channels(img, 1));

  Image m = pattern(3, 4, 1);
  m.kind = ImageKind::Mask;
  TensorMask tm = mask_to_tensor(m);
  EXPECT_EQ(tm.shape(), Shape({3, 4}));
  EXPECT_TRUE(is_a<TensorMask>(tm));
  EXPECT_EQ(tensor_to_image(tm), m);

  // Floats are 0-1 intensities; a non-contiguous (transposed) tensor converts by value.
  Tensor f = tensor({0.0f, 0.5f, 1.0f, 2.0f, -1.0f, 0.25f}, {1, 2, 3});
  const Image fi = tensor_to_image(f);
  EXPECT_EQ(fi.data, (std::vector<uint8_t>{0, 128, 255, 255, 0, 64}));
  Tensor tr = t.transpose(1, 2);  // [3, 4, 3]
  const Image ti = tensor_to_image(tr);
  EXPECT_EQ(ti.at(3, 2, 1), img.at(2, 3, 1));

  EXPECT_STRATA_ERROR(tensor_to_image(zeros({2, 3, 3})), ShapeError, {"tensor_to_image", "[2, 3, 3]"});
  EXPECT_STRATA_ERROR(mask_to_tensor(img), ValueError, {"mask_to_tensor", "3"});
}

// ---- bad files ----

TEST_F(ImageFiles, MissingAndEmpty) {
  EXPECT_STRATA_ERROR(load_image(file("nope.png")), IOError, {"nope.png", "not found"});
  write(file("empty.png"), {});
  EXPECT_STRATA_ERROR(load_image(file("empty.png")), IOError, {"empty.png", "empty file"});
  EXPECT_STRATA_ERROR(load_image(dir_), IOError, {"directory"});
}

TEST_F(ImageFiles, UnknownFormat) {
  write(file("text.png"), {'h', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r', 'l', 'd', '\n'});
  EXPECT_STRATA_ERROR(load_image(file("text.png")), IOError, {"text.png", "unrecognized image format"});
}

TEST_F(ImageFiles, TruncatedPng) {
  save_png(pattern(40, 40, 3), file("a.png"));
  const auto bytes = read(file("a.png"));
  for (size_t keep : {size_t(20), size_t(40), bytes.size() / 2, bytes.size() - 5}) {
    write(file("cut.png"), std::vector<uint8_t>(bytes.begin(), bytes.begin() + long(keep)));
    EXPECT_STRATA_ERROR(load_image(file("cut.png")), IOError, {"cut.png", "truncated"}) << keep;
  }
}

TEST_F(ImageFiles, CorruptPng) {
  save_png(pattern(40, 40, 3), file("a.png"));
  auto bytes = read(file("a.png"));
  bytes[bytes.size() / 2] ^= 0x5A;  // inside IDAT: the chunk CRC no longer matches
  write(file("bad.png"), bytes);
  EXPECT_STRATA_ERROR(load_image(file("bad.png")), IOError, {"bad.png", "CRC mismatch", "IDAT"});
}

TEST_F(ImageFiles, TruncatedAndCorruptJpeg) {
  save_jpeg(pattern(64, 64, 3), file("a.jpg"));
  const auto bytes = read(file("a.jpg"));
  write(file("cut.jpg"), std::vector<uint8_t>(bytes.begin(), bytes.begin() + long(bytes.size() * 2 / 3)));
  EXPECT_STRATA_ERROR(load_image(file("cut.jpg")), IOError, {"cut.jpg", "truncated JPEG"});
  write(file("head.jpg"), std::vector<uint8_t>(bytes.begin(), bytes.begin() + 30));
  EXPECT_STRATA_ERROR(load_image(file("head.jpg")), IOError, {"head.jpg", "JPEG"});
}

namespace {
// Rewrites the IHDR width and height of a PNG (and the chunk's CRC, so only the size is wrong).
std::vector<uint8_t> with_png_size(std::vector<uint8_t> b, uint32_t w, uint32_t h);
}  // namespace

TEST_F(ImageFiles, ZeroAndHugeDimensionsRejectedFromTheHeader) {
  save_png(pattern(4, 4, 3), file("a.png"));
  const auto bytes = read(file("a.png"));
  write(file("zero.png"), with_png_size(bytes, 0, 4));
  EXPECT_STRATA_ERROR(load_image(file("zero.png")), IOError, {"zero.png", "zero-sized"});
  write(file("wide.png"), with_png_size(bytes, 40000, 4));
  EXPECT_STRATA_ERROR(load_image(file("wide.png")), IOError, {"wide.png", "40000x4", "exceed"});
  write(file("big.png"), with_png_size(bytes, 20000, 20000));  // each side fine, 4e8 pixels not
  EXPECT_STRATA_ERROR(load_image(file("big.png")), IOError, {"big.png", "20000x20000", "exceed"});

  write(file("zero.gif"), make_gif(0, 1));
  EXPECT_STRATA_ERROR(load_image(file("zero.gif")), IOError, {"zero.gif", "zero-sized"});
  auto bmp = make_bmp(pattern(2, 2, 3));
  bmp[18] = 0x00;
  bmp[19] = 0x00;
  bmp[20] = 0x01;  // width 65536
  write(file("wide.bmp"), bmp);
  EXPECT_STRATA_ERROR(load_image(file("wide.bmp")), IOError, {"wide.bmp", "exceed"});
}

TEST_F(ImageFiles, SaveErrors) {
  EXPECT_STRATA_ERROR(save_png(pattern(2, 2, 3), dir_ / "no_such_dir" / "x.png"), IOError, {"x.png"});
  EXPECT_STRATA_ERROR(save_png(Image(), file("e.png")), ValueError, {"empty image"});
  EXPECT_STRATA_ERROR(save_jpeg(pattern(2, 2, 3), file("q.jpg"), 0), ValueError, {"quality"});
  EXPECT_STRATA_ERROR(Image(2, 2, 2), ValueError, {"1, 3 or 4"});
}

namespace {
uint32_t crc_of(const uint8_t* p, size_t n) {
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; ++i) {
    c ^= p[i];
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
  }
  return ~c;
}
void put_be32(uint8_t* p, uint32_t v) {
  p[0] = uint8_t(v >> 24);
  p[1] = uint8_t(v >> 16);
  p[2] = uint8_t(v >> 8);
  p[3] = uint8_t(v);
}
std::vector<uint8_t> with_png_size(std::vector<uint8_t> b, uint32_t w, uint32_t h) {
  put_be32(&b[16], w);
  put_be32(&b[20], h);
  put_be32(&b[29], crc_of(&b[12], 17));  // CRC over "IHDR" + 13 data bytes
  return b;
}
}  // namespace
