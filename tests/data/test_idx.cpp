// Tests for the IDX reader (data/idx.h) and the MNIST directory loader (data/mnist.h).
//
// Every file is written byte by byte here (big-endian by hand, gzip through zlib), so the reader is
// checked against the format, not against a writer that could share its mistakes. The malformed
// cases pin down that each kind of damage throws IOError naming the file and saying what is wrong.
// The real Fashion-MNIST test split is checked when the Debian package is installed.
#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "data/idx.h"
#include "data/mnist.h"
#include "strata.h"

namespace strata::data {
namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<unsigned char>;

// A fresh directory per test, removed afterwards.
class IdxFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() / fmt::format("strata_idx_{}_{}", info->name(), ::getpid());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path write_plain(const std::string& name, const Bytes& bytes) {
    const fs::path p = dir_ / name;
    std::ofstream out(p, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    return p;
  }
  fs::path write_gzip(const std::string& name, const Bytes& bytes) {
    const fs::path p = dir_ / name;
    gzFile f = gzopen(p.c_str(), "wb9");
    EXPECT_NE(f, nullptr);
    if (!bytes.empty()) {
      EXPECT_EQ(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())), int(bytes.size()));
    }
    gzclose(f);
    return p;
  }
  static Bytes read_all(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return Bytes(std::istreambuf_iterator<char>(in), {});
  }

  fs::path dir_;
};

void put_u32(Bytes& b, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<unsigned char>(v >> s));
}

// Header for `type` with `dims`.
Bytes header(unsigned char type, const std::vector<uint32_t>& dims) {
  Bytes b = {0, 0, type, static_cast<unsigned char>(dims.size())};
  for (uint32_t d : dims) put_u32(b, d);
  return b;
}

Bytes u8_images(uint32_t n, uint32_t rows, uint32_t cols) {
  Bytes b = header(0x08, {n, rows, cols});
  for (uint32_t i = 0; i < n * rows * cols; ++i) b.push_back(static_cast<unsigned char>((i * 37 + 11) % 256));
  return b;
}

// Runs fn, expects IOError, and checks that the message contains every one of `parts`.
template <class F>
void expect_io_error(F&& fn, const std::vector<std::string>& parts) {
  try {
    fn();
    ADD_FAILURE() << "expected IOError, nothing was thrown";
  } catch (const IOError& e) {
    const std::string what = e.what();
    for (const auto& part : parts) EXPECT_NE(what.find(part), std::string::npos) << "'" << part << "' not in: " << what;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected IOError, got another exception: " << e.what();
  }
}

TEST_F(IdxFiles, PlainU8ImagesKeepShapeAndBytes) {
  const fs::path p = write_plain("img.idx", u8_images(2, 3, 2));
  Tensor t = read_idx(p);
  EXPECT_EQ(t.dtype(), DType::U8);
  EXPECT_EQ(t.shape(), Shape({2, 3, 2}));
  EXPECT_TRUE(t.is_contiguous());
  auto v = t.to_vector<uint8_t>();
  ASSERT_EQ(v.size(), 12u);
  for (uint32_t i = 0; i < 12; ++i) EXPECT_EQ(v[i], (i * 37 + 11) % 256) << "element " << i;
}

TEST_F(IdxFiles, GzipReadsTheSameAsPlain) {
  const Bytes bytes = u8_images(5, 28, 28);  // big enough that deflate really compresses
  Tensor plain = read_idx(write_plain("a.idx", bytes));
  Tensor gz = read_idx(write_gzip("a.idx.gz", bytes));
  EXPECT_EQ(gz.shape(), Shape({5, 28, 28}));
  EXPECT_EQ(gz.to_vector<uint8_t>(), plain.to_vector<uint8_t>());
  EXPECT_EQ(gz.to_vector<uint8_t>()[783], (783 * 37 + 11) % 256);
}

TEST_F(IdxFiles, GzipIsDetectedByContentNotName) {
  const Bytes bytes = u8_images(1, 2, 2);
  EXPECT_EQ(read_idx(write_gzip("compressed_without_suffix", bytes)).to_vector<uint8_t>(),
            read_idx(write_plain("plain_with_suffix.gz", bytes)).to_vector<uint8_t>());
}

TEST_F(IdxFiles, LabelsConvertToI64) {
  Bytes b = header(0x08, {4});
  for (unsigned char c : {9, 0, 3, 255}) b.push_back(c);
  Tensor t = read_idx(write_gzip("labels.gz", b), DType::I64);
  EXPECT_EQ(t.dtype(), DType::I64);
  EXPECT_EQ(t.shape(), Shape({4}));
  EXPECT_EQ(t.to_vector<int64_t>(), (std::vector<int64_t>{9, 0, 3, 255}));
}

TEST_F(IdxFiles, MultiByteTypesAreBigEndian) {
  Bytes i32 = header(0x0C, {3});
  put_u32(i32, 0x01020304u);
  put_u32(i32, 0xFFFFFFFEu);  // -2
  put_u32(i32, 0x80000000u);  // INT32_MIN
  Tensor a = read_idx(write_plain("i32", i32));
  EXPECT_EQ(a.dtype(), DType::I32);
  EXPECT_EQ(a.to_vector<int32_t>(), (std::vector<int32_t>{16909060, -2, INT32_MIN}));

  Bytes f32 = header(0x0D, {2});
  put_u32(f32, 0x3FC00000u);  // 1.5f
  put_u32(f32, 0xC0490FDBu);  // -3.14159274f
  Tensor f = read_idx(write_gzip("f32.gz", f32));
  EXPECT_EQ(f.dtype(), DType::F32);
  EXPECT_EQ(f.to_vector<float>(), (std::vector<float>{1.5f, -3.14159274f}));

  Bytes f64 = header(0x0E, {1, 1});
  put_u32(f64, 0xBFD00000u);  // -0.25
  put_u32(f64, 0x00000000u);
  Tensor d = read_idx(write_plain("f64", f64));
  EXPECT_EQ(d.dtype(), DType::F64);
  EXPECT_EQ(d.shape(), Shape({1, 1}));
  EXPECT_EQ(d.item<double>(), -0.25);
}

TEST_F(IdxFiles, NarrowSignedTypesWidenToI32) {
  Bytes i8 = header(0x09, {3});
  for (unsigned char c : {0x7F, 0x80, 0xFF}) i8.push_back(c);
  EXPECT_EQ(read_idx(write_plain("i8", i8)).to_vector<int32_t>(), (std::vector<int32_t>{127, -128, -1}));

  Bytes i16 = header(0x0B, {2});
  for (unsigned char c : {0x01, 0x02, 0xFF, 0xFE}) i16.push_back(c);
  Tensor t = read_idx(write_plain("i16", i16));
  EXPECT_EQ(t.dtype(), DType::I32);
  EXPECT_EQ(t.to_vector<int32_t>(), (std::vector<int32_t>{258, -2}));
}

TEST_F(IdxFiles, ZeroSizedDimGivesAnEmptyTensor) {
  Tensor t = read_idx(write_gzip("empty.gz", header(0x08, {0, 28, 28})));
  EXPECT_EQ(t.shape(), Shape({0, 28, 28}));
  EXPECT_EQ(t.numel(), 0);
}

TEST_F(IdxFiles, ZeroDimsIsAScalar) {
  Bytes b = header(0x0C, {});
  put_u32(b, 7);
  Tensor t = read_idx(write_plain("scalar", b));
  EXPECT_EQ(t.dim(), 0);
  EXPECT_EQ(t.item<int32_t>(), 7);
}

// ---- hostile input ----

TEST_F(IdxFiles, MissingFileNamesThePath) {
  const fs::path p = dir_ / "does-not-exist.gz";
  expect_io_error([&] { read_idx(p); }, {"read_idx", p.string(), "no such file"});
}

TEST_F(IdxFiles, DirectoryIsRejected) {
  expect_io_error([&] { read_idx(dir_); }, {dir_.string(), "directory"});
}

TEST_F(IdxFiles, EmptyFileIsTooShort) {
  const fs::path p = write_plain("empty", {});
  expect_io_error([&] { read_idx(p); }, {p.string(), "too short"});
}

TEST_F(IdxFiles, BadMagicIsRejected) {
  Bytes b = u8_images(1, 2, 2);
  b[0] = 0x1F;  // not two zero bytes
  const fs::path p = write_plain("bad_magic", b);
  expect_io_error([&] { read_idx(p); }, {p.string(), "bad magic number 0x1f000803"});
  // A PNG is not an IDX file either.
  const fs::path png = write_plain("image.png", {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A});
  expect_io_error([&] { read_idx(png); }, {png.string(), "bad magic number"});
}

TEST_F(IdxFiles, UnknownTypeCodeIsRejected) {
  const fs::path p = write_plain("bad_type", header(0x0A, {1}));
  expect_io_error([&] { read_idx(p); }, {p.string(), "unknown IDX type code 0x0a"});
}

TEST_F(IdxFiles, TooManyDimsIsRejected) {
  const fs::path p = write_plain("many_dims", {0, 0, 0x08, 200});
  expect_io_error([&] { read_idx(p); }, {p.string(), "200 dims"});
}

TEST_F(IdxFiles, TruncatedHeaderIsRejected) {
  Bytes b = header(0x08, {10, 28, 28});
  b.resize(9);  // stops inside the second dim
  const fs::path p = write_plain("short_header", b);
  expect_io_error([&] { read_idx(p); }, {p.string(), "truncated header"});
}

TEST_F(IdxFiles, TruncatedDataIsRejected) {
  Bytes b = u8_images(3, 4, 4);
  b.pop_back();
  const fs::path p = write_plain("short_data", b);
  expect_io_error([&] { read_idx(p); }, {p.string(), "truncated", "[3, 4, 4]", "need 48 bytes", "has 47"});
  const fs::path gz = write_gzip("short_data.gz", b);
  expect_io_error([&] { read_idx(gz); }, {gz.string(), "truncated", "has 47"});
}

TEST_F(IdxFiles, TrailingBytesAreRejected) {
  Bytes b = u8_images(1, 2, 2);
  b.push_back(0);
  b.push_back(0);
  const fs::path p = write_plain("long_data", b);
  expect_io_error([&] { read_idx(p); }, {p.string(), "2 bytes after the 4 bytes of data", "[1, 2, 2]"});
  const fs::path gz = write_gzip("long_data.gz", b);
  expect_io_error([&] { read_idx(gz); }, {gz.string(), "2 bytes after"});
}

TEST_F(IdxFiles, HugeDeclaredSizeFailsWithoutAllocatingIt) {
  // 2^20 x 2^20 x 2^10 u8 = 1 PiB declared, one byte present: must fail as truncated, not try to
  // allocate it.
  Bytes b = header(0x08, {1u << 20, 1u << 20, 1u << 10});
  b.push_back(1);
  const fs::path p = write_gzip("huge.gz", b);
  expect_io_error([&] { read_idx(p); }, {p.string(), "truncated", "has 1"});
}

TEST_F(IdxFiles, OverflowingDimsAreRejected) {
  const fs::path p = write_plain("overflow", header(0x0E, {0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu}));
  expect_io_error([&] { read_idx(p); }, {p.string(), "too large"});
}

TEST_F(IdxFiles, GzipCutInHalfIsRejected) {
  const fs::path full = write_gzip("full.gz", u8_images(4, 28, 28));
  Bytes gz = read_all(full);
  gz.resize(gz.size() / 2);
  const fs::path p = write_plain("half.gz", gz);
  expect_io_error([&] { read_idx(p); }, {p.string(), "truncated"});
}

TEST_F(IdxFiles, GzipWithBadCrcIsRejected) {
  Bytes gz = read_all(write_gzip("good.gz", u8_images(2, 28, 28)));
  ASSERT_GT(gz.size(), 8u);
  gz[gz.size() - 8] ^= 0xFF;  // first byte of the CRC-32 in the gzip trailer
  const fs::path p = write_plain("bad_crc.gz", gz);
  expect_io_error([&] { read_idx(p); }, {p.string(), "corrupt"});
}

TEST_F(IdxFiles, GzipWithCorruptDeflateDataIsRejected) {
  Bytes gz = read_all(write_gzip("good.gz", u8_images(8, 28, 28)));
  ASSERT_GT(gz.size(), 64u);
  for (size_t i = 20; i < 40; ++i) gz[i] ^= 0x5A;  // damage the compressed blocks after the 10-byte header
  const fs::path p = write_plain("bad_deflate.gz", gz);
  expect_io_error([&] { read_idx(p); }, {p.string()});
}

// ---- MNIST directories ----

TEST_F(IdxFiles, LoadMnistPairsImagesAndLabels) {
  write_gzip("t10k-images-idx3-ubyte.gz", u8_images(3, 2, 2));
  Bytes labels = header(0x08, {3});
  for (unsigned char c : {4, 0, 9}) labels.push_back(c);
  write_plain("t10k-labels-idx1-ubyte", labels);  // the plain form is found too
  EXPECT_TRUE(has_mnist(dir_, "t10k"));
  EXPECT_FALSE(has_mnist(dir_, "train"));
  MnistSplit s = load_mnist(dir_, "t10k");
  EXPECT_EQ(s.images.shape(), Shape({3, 2, 2}));
  EXPECT_EQ(s.labels.dtype(), DType::I64);
  EXPECT_EQ(s.labels.to_vector<int64_t>(), (std::vector<int64_t>{4, 0, 9}));
}

TEST_F(IdxFiles, LoadMnistRejectsMismatchedCounts) {
  write_gzip("train-images-idx3-ubyte.gz", u8_images(3, 2, 2));
  Bytes labels = header(0x08, {2});
  labels.push_back(1);
  labels.push_back(2);
  write_gzip("train-labels-idx1-ubyte.gz", labels);
  expect_io_error([&] { load_mnist(dir_, "train"); }, {"load_mnist", "3 images", "2 labels"});
}

TEST_F(IdxFiles, LoadMnistNamesTheMissingFile) {
  expect_io_error([&] { load_mnist(dir_, "train"); }, {"train-images-idx3-ubyte.gz", dir_.string()});
}

TEST(FashionMnist, RealTestSplitHasTheKnownShapeAndLabels) {
  const fs::path dir = fashion_mnist_dir();
  if (!has_mnist(dir, "t10k"))
    GTEST_SKIP() << "Fashion-MNIST not found in " << dir << " (install dataset-fashion-mnist: scripts/setup)";
  MnistSplit s = load_mnist(dir, "t10k");
  EXPECT_EQ(s.images.shape(), Shape({10000, 28, 28}));
  EXPECT_EQ(s.images.dtype(), DType::U8);
  EXPECT_EQ(s.labels.shape(), Shape({10000}));
  const auto labels = s.labels.to_vector<int64_t>();
  std::vector<int> per_class(10, 0);
  for (int64_t l : labels) {
    ASSERT_GE(l, 0);
    ASSERT_LE(l, 9);
    ++per_class[l];
  }
  for (int c = 0; c < 10; ++c) EXPECT_EQ(per_class[c], 1000) << "class " << c;  // the test split is balanced
  EXPECT_EQ((std::vector<int64_t>(labels.begin(), labels.begin() + 5)), (std::vector<int64_t>{9, 2, 1, 1, 6}));
  const auto first = s.images[0].to_vector<uint8_t>();
  int64_t pixel_sum = 0;
  for (uint8_t v : first) pixel_sum += v;
  EXPECT_EQ(pixel_sum, 33456);  // the first image (an ankle boot), summed with Python's gzip module
}

}  // namespace
}  // namespace strata::data
