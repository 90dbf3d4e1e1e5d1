// Image decoding / encoding through stb_image and stb_image_write, compiled into this file with
// STB_*_STATIC so their symbols stay private (Debian's libstb.so is not linked; no clash possible).
// stb trusts its input more than we do, so the checks stb leaves out are done here first: a header
// probe (stbi_info) bounds the dimensions before anything is allocated, and a JPEG must reach its
// end-of-image marker (stb quietly fills a truncated JPEG with grey).
#include "data/image.h"
#include "data/image_jpeg.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>

#include "data/image_png.h"
#include "tensor/error.h"

#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wconversion"
#pragma GCC diagnostic ignored "-Wdouble-promotion"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#endif
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STBI_NO_STDIO  // we read files ourselves (error messages, size checks)
#define STBI_FAILURE_USERMSG
#include <stb/stb_image.h>
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STBI_WRITE_NO_STDIO
#include <stb/stb_image_write.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

namespace strata::data {

namespace {

void check_channels(int c, const char* who) {
  STRATA_CHECK(c == 1 || c == 3 || c == 4, ValueError, "{}: channel count must be 1, 3 or 4, got {}", who, c);
}

// Reads a whole file; IOError when missing or unreadable.
std::vector<uint8_t> read_bytes(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec))
    STRATA_THROW(IOError, "image {}: file not found", path.string());
  if (std::filesystem::is_directory(path, ec))
    STRATA_THROW(IOError, "image {}: is a directory, not a file", path.string());
  std::ifstream in(path, std::ios::binary);
  if (!in) STRATA_THROW(IOError, "image {}: cannot open for reading", path.string());
  in.seekg(0, std::ios::end);
  const std::streamoff n = in.tellg();
  if (n < 0) STRATA_THROW(IOError, "image {}: cannot determine the file size", path.string());
  in.seekg(0, std::ios::beg);
  std::vector<uint8_t> bytes(static_cast<size_t>(n));
  if (n > 0 && !in.read(reinterpret_cast<char*>(bytes.data()), n))
    STRATA_THROW(IOError, "image {}: read error", path.string());
  return bytes;
}

bool is_jpeg(const uint8_t* b, size_t n) { return n >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF; }

// A JPEG's scan data byte-stuffs 0xFF as FF 00, so FF D9 after the first start-of-scan (FF DA) can
// only be the end-of-image marker: when it is missing the file was cut short.
bool jpeg_has_end(const uint8_t* b, size_t n) {
  size_t i = 2;
  bool in_scan = false;
  for (; i + 1 < n; ++i) {
    if (b[i] != 0xFF) continue;
    if (!in_scan && b[i + 1] == 0xDA) in_scan = true;
    else if (in_scan && b[i + 1] == 0xD9) return true;
  }
  return false;
}

void check_dims(int64_t w, int64_t h, const std::string& name) {
  if (w <= 0 || h <= 0) STRATA_THROW(IOError, "image {}: zero-sized image ({}x{})", name, w, h);
  if (w > kMaxImageSide || h > kMaxImageSide || w * h > kMaxImagePixels)
    STRATA_THROW(IOError, "image {}: dimensions {}x{} exceed the limit ({} per side, {} pixels)", name, w, h,
                 kMaxImageSide, kMaxImagePixels);
}

uint32_t le16(const uint8_t* p) { return uint32_t(p[0]) | (uint32_t(p[1]) << 8); }

// GIF and BMP headers state the size up front; read it so that a zero or absurd size gets a message
// that says so (stb reports these as a generic corrupt file). PNG is checked by check_png_structure.
void check_header_dims(const uint8_t* b, size_t n, const std::string& name) {
  if (n >= 10 && std::memcmp(b, "GIF8", 4) == 0) {
    check_dims(le16(b + 6), le16(b + 8), name);
  } else if (n >= 26 && b[0] == 'B' && b[1] == 'M') {
    const uint32_t hsize = le16(b + 14) | (le16(b + 16) << 16);
    if (hsize == 12) {
      check_dims(le16(b + 18), le16(b + 20), name);
    } else if (hsize >= 40) {
      const int32_t w = int32_t(le16(b + 18) | (le16(b + 20) << 16));
      const int32_t h = int32_t(le16(b + 22) | (le16(b + 24) << 16));
      check_dims(w, h < 0 ? -int64_t(h) : h, name);  // negative height: a top-down bitmap
    }
  }
}

const char* format_name(const uint8_t* b, size_t n) {
  if (n >= 8 && std::memcmp(b, "\x89PNG\r\n\x1a\n", 8) == 0) return "PNG";
  if (is_jpeg(b, n)) return "JPEG";
  if (n >= 2 && b[0] == 'B' && b[1] == 'M') return "BMP";
  if (n >= 4 && std::memcmp(b, "GIF8", 4) == 0) return "GIF";
  return nullptr;
}

void append_bytes(void* ctx, void* data, int size) {
  auto* out = static_cast<std::vector<uint8_t>*>(ctx);
  const auto* p = static_cast<const uint8_t*>(data);
  out->insert(out->end(), p, p + size);
}

void write_bytes(const std::vector<uint8_t>& bytes, const std::filesystem::path& path) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) STRATA_THROW(IOError, "save image {}: cannot open for writing", path.string());
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!out) STRATA_THROW(IOError, "save image {}: write error", path.string());
}

}  // namespace

Image::Image(int h_, int w_, int c_, uint8_t fill) : h(h_), w(w_), c(c_) {
  check_channels(c_, "Image");
  STRATA_CHECK(h_ >= 0 && w_ >= 0, ValueError, "Image: negative size {}x{}", h_, w_);
  data.assign(size_t(h_) * size_t(w_) * size_t(c_), fill);
}

namespace {
// Drops the alpha byte of n RGBA pixels (AVX2 clone as for deinterleave3).
__attribute__((target_clones("arch=x86-64-v3", "default"))) void rgba_to_rgb(const uint8_t* __restrict__ s,
                                                                             uint8_t* __restrict__ d, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    d[3 * i] = s[4 * i];
    d[3 * i + 1] = s[4 * i + 1];
    d[3 * i + 2] = s[4 * i + 2];
  }
}
}  // namespace

Image decode_image(const uint8_t* bytes, size_t size, ImageMode mode, const std::string& name) {
  if (size == 0) STRATA_THROW(IOError, "image {}: empty file (0 bytes)", name);
  if (size > size_t(INT32_MAX)) STRATA_THROW(IOError, "image {}: file larger than 2 GiB", name);
  const int len = static_cast<int>(size);
  if (size >= 8 && std::memcmp(bytes, "\x89PNG\r\n\x1a\n", 8) == 0) detail::check_png_structure(bytes, size, name);
  check_header_dims(bytes, size, name);
  int w = 0, h = 0, comp = 0;
  if (!stbi_info_from_memory(bytes, len, &w, &h, &comp)) {
    const char* fmt_name = format_name(bytes, size);
    if (!fmt_name)
      STRATA_THROW(IOError, "image {}: unsupported or unrecognized image format (first bytes not a known signature)",
                   name);
    STRATA_THROW(IOError, "image {}: corrupt {} header ({})", name, fmt_name, stbi_failure_reason());
  }
  check_dims(w, h, name);
  if (is_jpeg(bytes, size) && !jpeg_has_end(bytes, size))
    STRATA_THROW(IOError, "image {}: truncated JPEG (no end-of-image marker after the scan data)", name);
  int want = 0;
  switch (mode) {
    case ImageMode::RGB: want = 3; break;
    case ImageMode::Gray: want = 1; break;
    case ImageMode::Unchanged: want = comp == 2 ? 4 : comp; break;
  }
  if (is_jpeg(bytes, size) && (want == 1 || want == 3) && detail::libjpeg_available()) {
    Image img;
    std::string error;
    if (!detail::decode_jpeg_libjpeg(bytes, size, want, img, error))
      STRATA_THROW(IOError, "image {}: corrupt or truncated JPEG data (libjpeg: {})", name, error);
    return img;
  }
  // stb converts JPEG YCbCr to RGB with SIMD only when writing 4 channels (3 takes its scalar
  // loop, a third of the decode time): ask for RGBA and drop alpha in the copy below.
  const int req = want == 3 && is_jpeg(bytes, size) ? 4 : want;
  int dw = 0, dh = 0, dc = 0;
  stbi_uc* px = stbi_load_from_memory(bytes, len, &dw, &dh, &dc, req);
  if (!px) {
    const char* fmt_name = format_name(bytes, size);
    STRATA_THROW(IOError, "image {}: corrupt or truncated {} data ({})", name, fmt_name ? fmt_name : "image",
                 stbi_failure_reason());
  }
  Image img;
  img.h = dh;
  img.w = dw;
  img.c = want;
  const size_t n = size_t(dh) * size_t(dw);
  if (req == want) {
    img.data.assign(px, px + n * size_t(want));
  } else {
    img.data.resize(n * 3);
    rgba_to_rgb(px, img.data.data(), n);
  }
  img.kind = want == 1 ? ImageKind::BW : ImageKind::Image;
  stbi_image_free(px);
  return img;
}

Image load_image(const std::filesystem::path& path, ImageMode mode) {
  const std::vector<uint8_t> bytes = read_bytes(path);
  return decode_image(bytes.data(), bytes.size(), mode, path.string());
}

Image load_mask(const std::filesystem::path& path) {
  const std::vector<uint8_t> bytes = read_bytes(path);
  Image m = detail::is_palette_png(bytes.data(), bytes.size())
                ? detail::decode_palette_png(bytes.data(), bytes.size(), path.string())
                : decode_image(bytes.data(), bytes.size(), ImageMode::Gray, path.string());
  m.kind = ImageKind::Mask;
  return m;
}

Image convert_channels(const Image& img, int c) {
  check_channels(c, "convert_channels");
  check_channels(img.c, "convert_channels (input)");
  if (img.c == c) return img;
  Image out(img.h, img.w, c);
  out.kind = img.kind == ImageKind::Mask ? ImageKind::Mask : c == 1 ? ImageKind::BW : ImageKind::Image;
  const size_t n = size_t(img.h) * size_t(img.w);
  const uint8_t* s = img.data.data();
  uint8_t* d = out.data.data();
  for (size_t i = 0; i < n; ++i, s += img.c, d += c) {
    if (c == 1) {
      // stb's luma: (77 r + 150 g + 29 b) >> 8.
      d[0] = static_cast<uint8_t>((77 * s[0] + 150 * s[1] + 29 * s[2]) >> 8);
    } else {
      if (img.c == 1) d[0] = d[1] = d[2] = s[0];
      else { d[0] = s[0]; d[1] = s[1]; d[2] = s[2]; }
      if (c == 4) d[3] = img.c == 4 ? s[3] : 255;
    }
  }
  return out;
}

std::vector<uint8_t> encode_png(const Image& img) {
  STRATA_CHECK(!img.empty(), ValueError, "encode_png: empty image ({}x{})", img.h, img.w);
  check_channels(img.c, "encode_png");
  std::vector<uint8_t> out;
  const int ok = stbi_write_png_to_func(append_bytes, &out, img.w, img.h, img.c, img.data.data(), img.w * img.c);
  STRATA_CHECK(ok, IOError, "encode_png: stb_image_write failed for a {}x{}x{} image", img.h, img.w, img.c);
  return out;
}

std::vector<uint8_t> encode_jpeg(const Image& img, int quality) {
  STRATA_CHECK(!img.empty(), ValueError, "encode_jpeg: empty image ({}x{})", img.h, img.w);
  check_channels(img.c, "encode_jpeg");
  STRATA_CHECK(quality >= 1 && quality <= 100, ValueError, "encode_jpeg: quality must be in 1..100, got {}", quality);
  std::vector<uint8_t> out;
  const int ok = stbi_write_jpg_to_func(append_bytes, &out, img.w, img.h, img.c, img.data.data(), quality);
  STRATA_CHECK(ok, IOError, "encode_jpeg: stb_image_write failed for a {}x{}x{} image", img.h, img.w, img.c);
  return out;
}

void save_png(const Image& img, const std::filesystem::path& path) { write_bytes(encode_png(img), path); }
void save_jpeg(const Image& img, const std::filesystem::path& path, int quality) {
  write_bytes(encode_jpeg(img, quality), path);
}

// ---- tensors ----

namespace {
// RGB pixels to three planes; compiled for AVX2 as well (its byte shuffles vectorize the stride-3
// loads; baseline SSE2 stays scalar), chosen at load time.
__attribute__((target_clones("arch=x86-64-v3", "default"))) void deinterleave3(const uint8_t* __restrict__ s,
                                                                               uint8_t* __restrict__ r,
                                                                               uint8_t* __restrict__ g,
                                                                               uint8_t* __restrict__ b, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    r[i] = s[3 * i];
    g[i] = s[3 * i + 1];
    b[i] = s[3 * i + 2];
  }
}

Tensor hwc_to_chw(const Image& img) {
  check_channels(img.c, "image_to_tensor");
  Tensor t = empty({img.c, img.h, img.w}, {.dtype = DType::U8});
  uint8_t* d = t.data<uint8_t>();
  const size_t plane = size_t(img.h) * size_t(img.w);
  const uint8_t* s = img.data.data();
  if (img.c == 1) {
    std::memcpy(d, s, plane);
  } else if (img.c == 3) {  // the common case, with the stride known to the compiler
    deinterleave3(s, d, d + plane, d + 2 * plane, plane);
  } else {
    for (size_t i = 0; i < plane; ++i)
      for (int ch = 0; ch < img.c; ++ch) d[size_t(ch) * plane + i] = s[i * size_t(img.c) + size_t(ch)];
  }
  return t;
}
}  // namespace

TensorImage image_to_tensor(const Image& img) {
  Tensor t = hwc_to_chw(img);
  return TensorImage(with_meta(cast(t, TensorImage::type()), std::make_shared<ImageMeta>(ImageSize{img.h, img.w})));
}

TensorImageBW image_to_tensor_bw(const Image& img) {
  Tensor t = hwc_to_chw(img.c == 1 ? img : convert_channels(img, 1));
  return TensorImageBW(
      with_meta(cast(t, TensorImageBW::type()), std::make_shared<ImageMeta>(ImageSize{img.h, img.w})));
}

TensorMask mask_to_tensor(const Image& mask) {
  STRATA_CHECK(mask.c == 1, ValueError, "mask_to_tensor: a mask has 1 channel, got {}", mask.c);
  Tensor t = empty({mask.h, mask.w}, {.dtype = DType::U8});
  if (!mask.data.empty()) std::memcpy(t.data<uint8_t>(), mask.data.data(), mask.data.size());
  return TensorMask(with_meta(cast(t, TensorMask::type()), std::make_shared<ImageMeta>(ImageSize{mask.h, mask.w})));
}

Image tensor_to_image(const Tensor& t_in) {
  STRATA_CHECK(t_in.defined(), ValueError, "tensor_to_image: undefined tensor");
  STRATA_CHECK(t_in.dim() == 2 || t_in.dim() == 3, ShapeError,
               "tensor_to_image: expected [C, H, W] or [H, W], got shape {}", t_in.shape());
  Tensor t = t_in.dim() == 2 ? t_in.unsqueeze(0) : t_in;
  const int64_t c = t.shape()[0], h = t.shape()[1], w = t.shape()[2];
  STRATA_CHECK(c == 1 || c == 3 || c == 4, ShapeError,
               "tensor_to_image: channel count must be 1, 3 or 4, got shape {}", t_in.shape());
  t = cast(t, nullptr).cpu();
  std::vector<uint8_t> chw(size_t(c * h * w));
  if (t.dtype() == DType::U8) {
    Tensor u = t.contiguous();
    if (!chw.empty()) std::memcpy(chw.data(), u.data<uint8_t>(), chw.size());
  } else {
    const bool fp = is_floating(t.dtype());
    Tensor f = t.to(DType::F64).contiguous();
    const double* p = f.data<double>();
    for (size_t i = 0; i < chw.size(); ++i) {
      double v = fp ? std::nearbyint(p[i] * 255.0) : p[i];
      if (!(v >= 0)) v = 0;  // also NaN
      chw[i] = static_cast<uint8_t>(std::min(v, 255.0));
    }
  }
  Image img{static_cast<int>(h), static_cast<int>(w), static_cast<int>(c)};
  img.kind = is_a<TensorMask>(t_in) ? ImageKind::Mask : c == 1 ? ImageKind::BW : ImageKind::Image;
  const size_t plane = size_t(h * w);
  for (size_t i = 0; i < plane; ++i)
    for (int64_t ch = 0; ch < c; ++ch) img.data[i * size_t(c) + size_t(ch)] = chw[size_t(ch) * plane + i];
  return img;
}

}  // namespace strata::data
