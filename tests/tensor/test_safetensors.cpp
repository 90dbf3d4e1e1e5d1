// safetensors: round trips of every dtype and layout, byte-exact compatibility with the reference
// writer, a table of malformed files that must each fail with a named IOError, a fuzz pass over
// truncations and header corruptions, atomic saves, and (when python3 has the `safetensors`
// package) a cross-check against the reference implementation itself.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "strata.h"

namespace strata {
namespace {

namespace fs = std::filesystem;

// Runs fn, expects it to throw E, and checks that what() contains every one of `parts`.
template <class E, class F>
void expect_error(F&& fn, std::initializer_list<std::string> parts) {
  try {
    fn();
  } catch (const E& e) {
    const std::string what = e.what();
    for (const auto& p : parts) EXPECT_NE(what.find(p), std::string::npos) << "missing '" << p << "' in: " << what;
    return;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "threw the wrong exception type: " << e.what();
    return;
  }
  ADD_FAILURE() << "did not throw";
}

std::string le64(uint64_t n) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  return s;
}

// A file from a header string and data bytes; the length field is the header's unless given.
std::string raw_file(const std::string& header, const std::string& data = "", std::optional<uint64_t> len = {}) {
  return le64(len.value_or(header.size())) + header + data;
}

std::string bytes_of(const Tensor& t) {
  const Tensor c = t.contiguous().cpu();
  return std::string(static_cast<const char*>(c.raw_data()), static_cast<size_t>(c.nbytes()));
}

void expect_same_tensor(const Tensor& got, const Tensor& want, const std::string& name) {
  ASSERT_TRUE(got.defined()) << name;
  EXPECT_EQ(got.dtype(), want.dtype()) << name;
  EXPECT_EQ(got.shape(), want.shape()) << name;
  EXPECT_TRUE(got.device().is_cpu()) << name;
  if (got.numel() > 0) {
    EXPECT_TRUE(got.is_contiguous()) << name;  // (is_contiguous() is false for some empty shapes)
  }
  EXPECT_EQ(bytes_of(got), bytes_of(want)) << name;
}

// A fresh directory under the system temp dir, removed afterwards.
class SafeTensorsFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    dir_ = fs::temp_directory_path() / ("strata_safetensors_" + std::to_string(rd()) + std::to_string(rd()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

// ---- writing: the exact bytes of the reference implementation ----

TEST(SafeTensorsBytes, OneF32TensorMatchesHandWrittenBytes) {
  const std::string header = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";  // 54 bytes
  ASSERT_EQ(header.size(), 54u);
  const std::string expected = le64(56) + header + "  " + std::string("\x00\x00\x80\x3f\x00\x00\x00\x40", 8);
  EXPECT_EQ(to_safetensors_bytes({{"a", tensor({1.f, 2.f})}}), expected);
}

// The reference implementation's own serialization test (safetensors/src/tensor.rs).
TEST(SafeTensorsBytes, MatchesReferenceSerializationTest) {
  const uint8_t want[] = {
      64,  0,   0,   0,   0,   0,   0,   0,   123, 34,  97,  116, 116, 110, 46,  48,  34,  58,  123, 34,  100,
      116, 121, 112, 101, 34,  58,  34,  70,  51,  50,  34,  44,  34,  115, 104, 97,  112, 101, 34,  58,  91,
      49,  44,  50,  44,  51,  93,  44,  34,  100, 97,  116, 97,  95,  111, 102, 102, 115, 101, 116, 115, 34,
      58,  91,  48,  44,  50,  52,  93,  125, 125, 0,   0,   0,   0,   0,   0,   128, 63,  0,   0,   0,   64,
      0,   0,   64,  64,  0,   0,   128, 64,  0,   0,   160, 64};
  const Tensor t = tensor({0.f, 1.f, 2.f, 3.f, 4.f, 5.f}, {1, 2, 3});
  EXPECT_EQ(to_safetensors_bytes({{"attn.0", t}}), std::string(reinterpret_cast<const char*>(want), sizeof(want)));
}

TEST(SafeTensorsBytes, EmptyFileAndMetadataOnlyMatchReference) {
  EXPECT_EQ(to_safetensors_bytes({}), le64(8) + "{}      ");
  EXPECT_EQ(to_safetensors_bytes({}, {{"framework", "pt"}}), le64(40) + R"({"__metadata__":{"framework":"pt"}})" + "     ");
}

TEST(SafeTensorsBytes, TensorsLaidOutByDescendingAlignmentThenName) {
  const std::map<std::string, Tensor> tensors = {
      {"a", tensor<uint8_t>({1, 2, 3})},
      {"b", tensor<double>({1.0})},
      {"c", tensor({1.f})},
      {"d", tensor<double>({2.0})},
      {"e", tensor<bool>({true})},
      {"f", tensor<int64_t>({7})},
  };
  const std::string bytes = to_safetensors_bytes(tensors);
  const std::string header =
      R"({"f":{"dtype":"I64","shape":[1],"data_offsets":[0,8]},)"
      R"("b":{"dtype":"F64","shape":[1],"data_offsets":[8,16]},)"
      R"("d":{"dtype":"F64","shape":[1],"data_offsets":[16,24]},)"
      R"("c":{"dtype":"F32","shape":[1],"data_offsets":[24,28]},)"
      R"("a":{"dtype":"U8","shape":[3],"data_offsets":[28,31]},)"
      R"("e":{"dtype":"BOOL","shape":[1],"data_offsets":[31,32]}})";
  const size_t padded = (header.size() + 7) / 8 * 8;
  ASSERT_EQ(bytes.size(), 8 + padded + 32);
  EXPECT_EQ(bytes.substr(0, 8), le64(padded));
  EXPECT_EQ(bytes.substr(8, padded), header + std::string(padded - header.size(), ' '));
  // Each tensor's data starts at a multiple of its element size in the file.
  EXPECT_EQ((8 + padded) % 8, 0u);
}

TEST(SafeTensorsBytes, MetadataSortedAndEscaped) {
  const std::string bytes = to_safetensors_bytes({}, {{"z", "1"}, {"a", "\xc3\xa9\n\"q\""}});
  const std::string header = R"({"__metadata__":{"a":"é\n\"q\"","z":"1"}})";
  EXPECT_EQ(bytes.substr(8, header.size()), header);
}

TEST(SafeTensorsBytes, RejectsReservedNameUndefinedTensorAndInvalidUtf8) {
  expect_error<ValueError>([] { to_safetensors_bytes({{"__metadata__", tensor({1.f})}}); }, {"__metadata__", "reserved"});
  expect_error<ValueError>([] { to_safetensors_bytes({{"w", Tensor()}}); }, {"'w'", "undefined"});
  expect_error<ValueError>([] { to_safetensors_bytes({{"bad\xff", tensor({1.f})}}); }, {"UTF-8"});
  expect_error<ValueError>([] { to_safetensors_bytes({}, {{"k", "\xc3"}}); }, {"UTF-8"});
}

// ---- round trips ----

TEST(SafeTensorsRoundTrip, EveryDTypeShapeAndLayout) {
  std::map<std::string, Tensor> tensors;
  const Tensor base = sub(arange(0.0, 24.0, 1.0, {.dtype = DType::F64}), 11.5).reshape({2, 3, 4});
  for (DType d : {DType::F32, DType::F64, DType::F16, DType::BF16, DType::I64, DType::I32, DType::U8, DType::Bool}) {
    const std::string n(dtype_name(d));
    const Tensor full = d == DType::U8 ? add(base, 12.0).to(d) : base.to(d);
    tensors[n + ".3d"] = full;
    tensors[n + ".0d"] = full.reshape({24})[5];                // 0-d view at an offset
    tensors[n + ".empty"] = empty({2, 0, 3}, {.dtype = d});    // no elements
    tensors[n + ".transposed"] = full.select(0, 1).t();        // non-contiguous, offset
    tensors[n + ".strided"] = full.reshape({24}).slice(0, 1, 24, 5);
    tensors[n + ".expanded"] = full.reshape({24})[3].expand({2, 2});  // stride 0
  }
  const std::map<std::string, std::string> metadata = {{"format", "pt"}, {"note", "round trip"}, {"empty", ""}};
  const SafeTensorsFile f = from_safetensors_bytes(to_safetensors_bytes(tensors, metadata));
  EXPECT_EQ(f.metadata, metadata);
  ASSERT_EQ(f.tensors.size(), tensors.size());
  for (const auto& [name, t] : tensors) expect_same_tensor(f.at(name), t, name);

  // Values, not just bytes: the transposed f32 view of base[1] is [[0.5, 4.5, 8.5], [1.5, ...]]...
  EXPECT_EQ(f.at("f32.transposed").shape(), Shape({4, 3}));
  EXPECT_EQ(f.at("f32.transposed").to_vector<float>(),
            (std::vector<float>{0.5f, 4.5f, 8.5f, 1.5f, 5.5f, 9.5f, 2.5f, 6.5f, 10.5f, 3.5f, 7.5f, 11.5f}));
  EXPECT_EQ(f.at("i64.strided").to_vector<int64_t>(), (std::vector<int64_t>{-10, -5, 0, 4, 9}));
  EXPECT_EQ(f.at("f64.0d").dim(), 0);
  EXPECT_EQ(f.at("f64.0d").item<double>(), -6.5);
  EXPECT_EQ(f.at("bool.3d").to_vector<bool>()[11], true);  // 11.5-11.5 rounds... -0.5 -> true
  EXPECT_EQ(f.at("u8.expanded").to_vector<uint8_t>(), (std::vector<uint8_t>{3, 3, 3, 3}));
}

TEST(SafeTensorsRoundTrip, ExtremeValuesKeepTheirBits) {
  const Tensor f = tensor({INFINITY, -INFINITY, NAN, -0.f, 1e-45f, 3.4e38f});
  const Tensor h = tensor(std::vector<Half>{Half::from_bits(0x7c00), Half::from_bits(0x0001), Half::from_bits(0xfe01)});
  const Tensor i = tensor<int64_t>({INT64_MIN, INT64_MAX, -1});
  const SafeTensorsFile file = from_safetensors_bytes(to_safetensors_bytes({{"f", f}, {"h", h}, {"i", i}}));
  expect_same_tensor(file.at("f"), f, "f");
  expect_same_tensor(file.at("h"), h, "h");
  EXPECT_EQ(file.at("i").to_vector<int64_t>(), (std::vector<int64_t>{INT64_MIN, INT64_MAX, -1}));
}

TEST(SafeTensorsRoundTrip, DetachesTensorsThatRequireGrad) {
  const Tensor w = tensor({1.f, 2.f}).requires_grad_();
  const Tensor y = w * w;
  const SafeTensorsFile f = from_safetensors_bytes(to_safetensors_bytes({{"w", w}, {"y", y}}));
  EXPECT_FALSE(f.at("w").requires_grad());
  EXPECT_EQ(f.at("y").to_vector<float>(), (std::vector<float>{1.f, 4.f}));
}

TEST(SafeTensorsRoundTrip, AtNamesTheMissingTensorAndTheOnesPresent) {
  const SafeTensorsFile f = from_safetensors_bytes(to_safetensors_bytes({{"a", tensor({1.f})}}), "m.safetensors");
  EXPECT_TRUE(f.contains("a"));
  EXPECT_FALSE(f.contains("b"));
  expect_error<IndexError>([&] { f.at("b"); }, {"m.safetensors", "'b'", "'a'"});
}

// ---- files ----

TEST_F(SafeTensorsFiles, SaveThenLoadAndReplaceAtomically) {
  const fs::path p = dir_ / "model.safetensors";
  save_safetensors(p, {{"w", tensor({1.f, 2.f, 3.f})}}, {{"format", "pt"}});
  SafeTensorsFile f = load_safetensors(p);
  EXPECT_EQ(f.source, p.string());
  EXPECT_EQ(f.at("w").to_vector<float>(), (std::vector<float>{1.f, 2.f, 3.f}));
  EXPECT_EQ(f.metadata.at("format"), "pt");

  save_safetensors(p, {{"v", tensor<int32_t>({4, 5})}});  // overwrite
  f = load_safetensors(p);
  EXPECT_FALSE(f.contains("w"));
  EXPECT_EQ(f.at("v").to_vector<int32_t>(), (std::vector<int32_t>{4, 5}));
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator{}), 1) << "temporary file left";

  // A save that fails leaves the old file intact and no temporary behind.
  const auto before = fs::file_size(p);
  expect_error<ValueError>([&] { save_safetensors(p, {{"x", Tensor()}}); }, {"undefined"});
  EXPECT_EQ(fs::file_size(p), before);
  EXPECT_EQ(load_safetensors(p).at("v").to_vector<int32_t>(), (std::vector<int32_t>{4, 5}));
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator{}), 1);
}

TEST_F(SafeTensorsFiles, FileErrorsNameThePath) {
  expect_error<IOError>([&] { load_safetensors(dir_ / "missing.safetensors"); },
                        {"load_safetensors", "missing.safetensors", "No such file"});
  expect_error<IOError>([&] { load_safetensors(dir_); }, {"not a regular file"});
  expect_error<IOError>([&] { save_safetensors(dir_ / "no_dir" / "m.safetensors", {{"a", tensor({1.f})}}); },
                        {"save_safetensors", "m.safetensors"});
  const fs::path bad = dir_ / "bad.safetensors";
  std::ofstream(bad, std::ios::binary) << raw_file("{}", "xyz");
  expect_error<IOError>([&] { load_safetensors(bad); }, {bad.string(), "belong to no tensor"});
}

// ---- malformed input ----

struct BadFile {
  const char* case_name;
  std::string bytes;
  const char* message;  // a substring of the IOError
};

std::vector<BadFile> bad_files() {
  const std::string f32x2 = R"({"dtype":"F32","shape":[2],"data_offsets":[0,8]})";
  const std::string eight(8, '\0');
  auto one = [](const std::string& entry) { return "{\"a\":" + entry + "}"; };
  std::string deep = "{\"a\":" + std::string(200000, '[') + std::string(200000, ']') + "}";
  return {
      {"empty_file", "", "shorter than the 8-byte"},
      {"five_bytes", std::string(5, '\0'), "shorter than the 8-byte"},
      {"header_past_end", raw_file("{}", "", 100), "runs past the end of the file"},
      {"header_length_huge", raw_file("{}", "", uint64_t{1} << 63), "over the 100000000-byte limit"},
      {"header_length_just_over_limit", raw_file("{}", "", 100'000'001), "over the 100000000-byte limit"},
      {"header_empty", raw_file(""), "does not start with '{'"},
      {"header_is_array", raw_file("[1, 2]"), "does not start with '{'"},
      {"header_not_json", raw_file("{\"a\":"), "not valid JSON"},
      {"header_trailing_garbage", raw_file("{} x"), "not valid JSON"},
      {"header_invalid_utf8", raw_file("{\"\xff\":1}"), "not valid JSON"},
      {"header_nul_padding", raw_file(std::string("{}\0\0\0\0\0\0", 8)), "NUL byte at header offset 2"},
      {"header_nul_hides_text", raw_file(std::string("{}\0{\"a\":1}", 10)), "NUL byte"},
      {"entry_not_object", raw_file(one("3")), "is a JSON number, not an object"},
      {"entry_deeply_nested", raw_file(deep), "not an object"},
      {"dtype_missing", raw_file(one(R"({"shape":[2],"data_offsets":[0,8]})"), eight), "has no \"dtype\""},
      {"dtype_not_string", raw_file(one(R"({"dtype":4,"shape":[2],"data_offsets":[0,8]})"), eight), "not a string"},
      {"dtype_unknown", raw_file(one(R"({"dtype":"F17","shape":[2],"data_offsets":[0,8]})"), eight), "'F17'"},
      {"dtype_unsupported", raw_file(one(R"({"dtype":"I8","shape":[8],"data_offsets":[0,8]})"), eight),
       "dtype 'I8', which Strata does not read"},
      {"shape_missing", raw_file(one(R"({"dtype":"F32","data_offsets":[0,8]})"), eight), "has no \"shape\""},
      {"shape_not_list", raw_file(one(R"({"dtype":"F32","shape":2,"data_offsets":[0,8]})"), eight), "not a list"},
      {"shape_negative", raw_file(one(R"({"dtype":"F32","shape":[-2],"data_offsets":[0,8]})"), eight),
       "holds -2, not a non-negative integer"},
      {"shape_fraction", raw_file(one(R"({"dtype":"F32","shape":[2.5],"data_offsets":[0,8]})"), eight),
       "holds 2.5"},
      {"shape_string", raw_file(one(R"({"dtype":"F32","shape":["2"],"data_offsets":[0,8]})"), eight),
       "not a non-negative integer"},
      {"shape_past_u64", raw_file(one(R"({"dtype":"F32","shape":[18446744073709551616],"data_offsets":[0,8]})"), eight),
       "not a non-negative integer"},
      {"shape_product_overflow",
       raw_file(one(R"({"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]})"), eight),
       "more elements than fit in 64 bits"},
      {"shape_overflow_hidden_by_zero",
       raw_file(one(R"({"dtype":"F32","shape":[0,4611686018427387904,4],"data_offsets":[0,0]})")),
       "more elements than fit in 64 bits"},
      {"shape_bytes_overflow",
       raw_file(one(R"({"dtype":"F64","shape":[4611686018427387904],"data_offsets":[0,8]})"), eight),
       "more bytes than fit in 64 bits"},
      {"offsets_missing", raw_file(one(R"({"dtype":"F32","shape":[2]})"), eight), "has no \"data_offsets\""},
      {"offsets_one_number", raw_file(one(R"({"dtype":"F32","shape":[2],"data_offsets":[8]})"), eight),
       "not two non-negative integers"},
      {"offsets_three_numbers", raw_file(one(R"({"dtype":"F32","shape":[2],"data_offsets":[0,8,8]})"), eight),
       "not two non-negative integers"},
      {"offsets_negative", raw_file(one(R"({"dtype":"F32","shape":[2],"data_offsets":[-8,0]})"), eight),
       "not two non-negative integers"},
      {"offsets_strings", raw_file(one(R"({"dtype":"F32","shape":[2],"data_offsets":["0","8"]})"), eight),
       "not two non-negative integers"},
      {"offsets_begin_after_end", raw_file(one(R"({"dtype":"F32","shape":[2],"data_offsets":[8,0]})"), eight),
       "begin after they end"},
      {"offsets_past_buffer", raw_file(one(R"({"dtype":"F32","shape":[4],"data_offsets":[0,16]})"), eight),
       "run past the end of the 8-byte data buffer"},
      {"offsets_huge", raw_file(one(R"({"dtype":"U8","shape":[2],"data_offsets":[18446744073709551614,18446744073709551616]})"), eight),
       "not two non-negative integers"},
      {"size_mismatch", raw_file(one(R"({"dtype":"F32","shape":[2],"data_offsets":[0,4]})"), eight),
       "(8 bytes) but its data_offsets [0, 4] span 4 bytes"},
      {"overlap",
       raw_file(R"({"a":)" + f32x2 + R"(,"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", std::string(12, '\0')),
       "tensors 'a' [0, 8] and 'b' [4, 12] overlap"},
      {"empty_tensor_inside_another",
       raw_file(R"({"a":)" + f32x2 + R"(,"z":{"dtype":"F32","shape":[0],"data_offsets":[4,4]}})", eight), "overlap"},
      {"hole",
       raw_file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})",
                std::string(12, '\0')),
       "bytes [4, 8) of the data buffer belong to no tensor"},
      {"trailing_data", raw_file(one(R"({"dtype":"F32","shape":[1],"data_offsets":[0,4]})"), eight),
       "bytes [4, 8) at the end of the data buffer belong to no tensor"},
      {"duplicate_tensor", raw_file(R"({"a":)" + f32x2 + R"(,"a":)" + f32x2 + "}", eight), "key 'a' twice"},
      {"duplicate_field", raw_file(one(R"({"dtype":"F32","dtype":"F32","shape":[2],"data_offsets":[0,8]})"), eight),
       "key 'dtype' twice"},
      {"metadata_not_object", raw_file(R"({"__metadata__":"pt"})"), "\"__metadata__\" is a JSON string, not an object"},
      {"metadata_value_not_string", raw_file(R"({"__metadata__":{"epoch":3}})"), "value of 'epoch' is a JSON number"},
      {"bool_byte_not_0_or_1", raw_file(one(R"({"dtype":"BOOL","shape":[2],"data_offsets":[0,2]})"), std::string("\x01\x02", 2)),
       "holds the byte 2 at element 1"},
  };
}

TEST(SafeTensorsMalformed, EveryCaseIsAnIOErrorNamingFileAndProblem) {
  const auto cases = bad_files();
  EXPECT_GE(cases.size(), 15u);
  for (const auto& c : cases) {
    SCOPED_TRACE(c.case_name);
    expect_error<IOError>([&] { from_safetensors_bytes(c.bytes, "bad.safetensors"); },
                          {"safetensors file 'bad.safetensors'", c.message});
  }
}

// ---- fuzz ----

std::string sample_file() {
  return to_safetensors_bytes({{"w", arange(0.0, 6.0, 1.0, {.dtype = DType::F32}).reshape({2, 3})},
                               {"b", tensor<bool>({true, false})},
                               {"i", tensor<int64_t>({1, -2})},
                               {"h", tensor(std::vector<Half>{Half(1.5f)})},
                               {"e", empty({0}, {.dtype = DType::BF16})}},
                              {{"format", "pt"}});
}

TEST(SafeTensorsFuzz, EveryTruncationFailsCleanly) {
  const std::string good = sample_file();
  ASSERT_NO_THROW(from_safetensors_bytes(good));
  for (size_t n = 0; n < good.size(); ++n) {
    SCOPED_TRACE(n);
    EXPECT_THROW(from_safetensors_bytes(std::string_view(good).substr(0, n)), IOError);
  }
  // One byte too many is also refused.
  EXPECT_THROW(from_safetensors_bytes(good + "x"), IOError);
}

TEST(SafeTensorsFuzz, RandomHeaderCorruptionLoadsOrThrowsStrataError) {
  const std::string good = sample_file();
  uint64_t header_len = 0;
  std::memcpy(&header_len, good.data(), 8);
  std::mt19937_64 rng(1234);
  // STRATA_FUZZ_ITERS raises the count for a long run (e.g. under the sanitizers).
  const char* env = std::getenv("STRATA_FUZZ_ITERS");
  const int iters = env ? std::max(1, std::atoi(env)) : 3000;
  int loaded = 0, refused = 0;
  for (int iter = 0; iter < iters; ++iter) {
    std::string bad = good;
    const int flips = 1 + static_cast<int>(rng() % 3);
    for (int k = 0; k < flips; ++k) {
      const size_t pos = rng() % (8 + header_len);
      if (rng() % 2) {
        bad[pos] = static_cast<char>(rng() & 0xff);  // any byte
      } else {
        static constexpr char kJsonish[] = "{}[],:\"0123456789-.eE \\u";
        bad[pos] = kJsonish[rng() % (sizeof(kJsonish) - 1)];  // bytes that keep it JSON-like
      }
    }
    try {
      const SafeTensorsFile f = from_safetensors_bytes(bad);
      for (const auto& [name, t] : f.tensors) EXPECT_TRUE(t.defined());
      ++loaded;
    } catch (const Error&) {
      ++refused;
    }
  }
  EXPECT_EQ(loaded + refused, iters);
  EXPECT_GT(refused, 0);
}

TEST(SafeTensorsFuzz, RandomBytesNeverCrash) {
  std::mt19937_64 rng(99);
  for (int iter = 0; iter < 500; ++iter) {
    std::string junk(rng() % 64, '\0');
    for (char& c : junk) c = static_cast<char>(rng() & 0xff);
    if (junk.size() >= 8 && rng() % 2) {  // a plausible length field
      const std::string len = le64(junk.size() - 8 - rng() % (junk.size() - 7));
      junk.replace(0, 8, len);
    }
    EXPECT_THROW(from_safetensors_bytes(junk), Error);
  }
}

// ---- the reference implementation, when python3 has it ----

TEST_F(SafeTensorsFiles, CrossCheckWithPythonSafetensors) {
  if (std::system("python3 -c 'import safetensors.numpy, numpy' >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "python3 with the safetensors and numpy packages is not available";
  const std::map<std::string, Tensor> tensors = {
      {"f64", tensor<double>({1.5, -2.25}, {2, 1})},
      {"f32", arange(0.0, 6.0, 1.0, {.dtype = DType::F32}).reshape({2, 3}).t()},
      {"f16", tensor(std::vector<Half>{Half(0.5f), Half(-3.f)})},
      {"i64", tensor<int64_t>({INT64_MIN, 5})},
      {"i32", tensor<int32_t>({-7})},
      {"u8", tensor<uint8_t>({255, 0, 9})},
      {"bool", tensor<bool>({true, false, true})},
      {"scalar", scalar_tensor(4.0)},
      {"empty", empty({3, 0}, {.dtype = DType::I32})},
  };
  const fs::path ours = dir_ / "ours.safetensors", theirs = dir_ / "theirs.safetensors",
                 script = dir_ / "check.py";
  save_safetensors(ours, tensors, {{"format", "np"}});
  std::ofstream(script) << R"PY(
import sys, numpy as np
from safetensors.numpy import load_file, save, save_file
from safetensors import safe_open
ours, theirs = sys.argv[1], sys.argv[2]
t = load_file(ours)
with safe_open(ours, framework="numpy") as f:
    assert f.metadata() == {"format": "np"}, f.metadata()
expect = {
    "f64": np.array([[1.5], [-2.25]]),
    "f32": np.arange(6, dtype=np.float32).reshape(2, 3).T,
    "f16": np.array([0.5, -3], dtype=np.float16),
    "i64": np.array([np.iinfo(np.int64).min, 5], dtype=np.int64),
    "i32": np.array([-7], dtype=np.int32),
    "u8": np.array([255, 0, 9], dtype=np.uint8),
    "bool": np.array([True, False, True]),
    "scalar": np.array(4.0, dtype=np.float32),
    "empty": np.zeros((3, 0), dtype=np.int32),
}
assert sorted(t) == sorted(expect), sorted(t)
for k, v in expect.items():
    assert t[k].dtype == v.dtype and t[k].shape == v.shape and (t[k] == v).all(), (k, t[k], v)
# Byte-identical to the reference writer (one metadata key, so its map order cannot differ).
assert open(ours, "rb").read() == save({k: np.array(v, order="C") for k, v in expect.items()}, metadata={"format": "np"})
save_file({"x": np.arange(5, dtype=np.int32), "y": np.array([[1.0, 2.0]], dtype=np.float16)}, theirs, metadata={"by": "python"})
)PY";
  const std::string cmd = "python3 '" + script.string() + "' '" + ours.string() + "' '" + theirs.string() + "'";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << "the reference implementation disagrees; see the Python error above";
  const SafeTensorsFile f = load_safetensors(theirs);
  EXPECT_EQ(f.metadata, (std::map<std::string, std::string>{{"by", "python"}}));
  EXPECT_EQ(f.at("x").to_vector<int32_t>(), (std::vector<int32_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(f.at("y").dtype(), DType::F16);
  EXPECT_EQ(f.at("y").shape(), Shape({1, 2}));
  EXPECT_EQ(f.at("y").to_vector<float>(), (std::vector<float>{1.f, 2.f}));
}

}  // namespace
}  // namespace strata
