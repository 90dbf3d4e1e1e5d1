#pragma once
// Host images: decoding and encoding image files, and conversion to and from semantic tensors.
//
// An Image is the host-side counterpart of fastai's PILImage / PILImageBW / PILMask: a plain
// row-major HWC byte buffer, cheap to crop and resize on the CPU before it becomes a tensor
// (item transforms run on Images, batch transforms on tensors). Decoding is stb_image's (PNG,
// JPEG, BMP, GIF first frame, plus TGA/PSD/PNM/HDR that stb also knows), except palette PNGs read
// as masks: stb expands palettes to colours, so load_mask decodes those itself to keep the index.
//
//   Image img = load_image("cat.jpg");                  // RGB, c == 3
//   TensorImage t = image_to_tensor(img);                // u8 [3, H, W]
//   Image mask = load_mask("labels/0001_P.png");         // c == 1, values are class codes
//   TensorMask m = mask_to_tensor(mask);                 // u8 [H, W]
//   save_png(tensor_to_image(t), "/tmp/out.png");
//
// Every failure to read a file (missing, empty, corrupt, truncated, zero-sized or absurdly large
// dimensions, an unsupported format) throws IOError whose message names the file and the reason.
// Dimensions are checked from the header before any pixel memory is allocated.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "tensor/semantic.h"
#include "tensor/tensor.h"

namespace strata::data {

// Largest image accepted by the decoders: 2^15 pixels per side and 2^28 pixels in all.
inline constexpr int64_t kMaxImageSide = int64_t{1} << 15;
inline constexpr int64_t kMaxImagePixels = int64_t{1} << 28;

// What an Image stands for (fastai's PILImage / PILImageBW / PILMask): transforms resample a
// Mask with nearest neighbour and ToTensor makes it a TensorMask. Geometric ops keep it.
enum class ImageKind { Image, BW, Mask };

// An 8-bit image, h rows of w pixels of c channels (1 gray, 3 RGB, 4 RGBA), row-major HWC.
struct Image {
  int h = 0;
  int w = 0;
  int c = 0;
  std::vector<uint8_t> data;  // h * w * c bytes
  ImageKind kind = ImageKind::Image;

  Image() = default;
  // A new image filled with `fill` in every channel. Throws ValueError for a channel count other
  // than 1, 3, 4 or a negative size.
  Image(int h, int w, int c, uint8_t fill = 0);

  bool empty() const { return h == 0 || w == 0; }
  size_t numel() const { return data.size(); }
  uint8_t* row(int y) { return data.data() + size_t(y) * size_t(w) * size_t(c); }
  const uint8_t* row(int y) const { return data.data() + size_t(y) * size_t(w) * size_t(c); }
  uint8_t* px(int y, int x) { return row(y) + size_t(x) * size_t(c); }
  const uint8_t* px(int y, int x) const { return row(y) + size_t(x) * size_t(c); }
  uint8_t& at(int y, int x, int ch) { return px(y, x)[ch]; }
  uint8_t at(int y, int x, int ch) const { return px(y, x)[ch]; }
  bool operator==(const Image&) const = default;
};

// How load_image maps the file's channels: RGB (3; gray is replicated, alpha dropped), Gray
// (1; colour is converted with stb's luma weights 77/150/29 over 256), Unchanged (the file's own:
// 1, 3 or 4; gray+alpha becomes RGBA).
enum class ImageMode { RGB, Gray, Unchanged, BW = Gray };  // BW: fastai's PILImageBW name

// Decodes an image file (kind BW for ImageMode::Gray or a 1-channel Unchanged file, else Image).
Image load_image(const std::filesystem::path& path, ImageMode mode = ImageMode::RGB);
// Decodes an image held in memory; `name` stands for the file in error messages.
Image decode_image(const uint8_t* bytes, size_t size, ImageMode mode, const std::string& name);

// Decodes a segmentation mask (kind Mask) into a 1-channel image of class codes: a palette (indexed) PNG keeps
// its palette indices (bit depths 1, 2, 4, 8; plain or interlaced); any other file is read as gray
// (fastai opens masks with PIL mode "L": colour files become luma, which is rarely what you want).
Image load_mask(const std::filesystem::path& path);

// Writes an image as PNG / JPEG (quality 1-100). Throws IOError when the file cannot be written
// and ValueError for an empty image.
void save_png(const Image& img, const std::filesystem::path& path);
void save_jpeg(const Image& img, const std::filesystem::path& path, int quality = 95);
// PNG / JPEG bytes in memory.
std::vector<uint8_t> encode_png(const Image& img);
std::vector<uint8_t> encode_jpeg(const Image& img, int quality = 95);

// Converts to the channel count `c` (1, 3 or 4) with the same rules as load_image's modes
// (RGBA -> RGB drops alpha; 1 -> 4 gives an opaque image). A Mask stays a Mask; otherwise 1
// channel gives kind BW and 3 or 4 kind Image.
Image convert_channels(const Image& img, int c);

// ---- tensors ----
// [C, H, W] u8 on the CPU with the image's channels, tagged TensorImage and carrying ImageMeta{h, w}
// (fastai's image2tensor). image_to_tensor_bw converts to 1 channel first and tags TensorImageBW.
TensorImage image_to_tensor(const Image& img);
TensorImageBW image_to_tensor_bw(const Image& img);
// [H, W] u8 TensorMask from a 1-channel image (ValueError otherwise).
TensorMask mask_to_tensor(const Image& mask);

// Back to an image from [C, H, W] (C in 1, 3, 4) or [H, W], any device and dtype: u8 is taken as
// is, other integer types are clamped to 0-255, floating types are taken as 0-1 intensities
// (multiplied by 255, rounded, clamped) as IntToFloatTensor leaves them. Kind: Mask for a
// TensorMask, BW for 1 channel, else Image.
Image tensor_to_image(const Tensor& t);

}  // namespace strata::data
