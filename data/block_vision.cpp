// ImageBlock / MaskBlock and their transforms, over data/image.h's loaders.
#include "data/block_vision.h"

#include "data/block.h"
#include "data/splitters.h"
#include "tensor/ops.h"

namespace strata::data {

ImageCreate::ImageCreate(ImageMode m) : Transform(m == ImageMode::Gray ? "PILImageBW.create" : "PILImage.create"), mode(m) {
  auto load = [this](const std::filesystem::path& p) { return Item(ImagePtr(std::make_shared<const Image>(load_image(p, mode)))); };
  encodes<std::filesystem::path>(load);
  encodes<std::string>([load](const std::string& s) { return load(s); });
}

MaskCreate::MaskCreate() : Transform("PILMask.create") {
  auto load = [](const std::filesystem::path& p) { return Item::mask(std::make_shared<const Image>(load_mask(p))); };
  encodes<std::filesystem::path>(load);
  encodes<std::string>([load](const std::string& s) { return load(s); });
}

ToTensor::ToTensor() : Transform("ToTensor") {
  order = 5;
  encodes<ImagePtr>([](const ImagePtr& img) -> Item {
    STRATA_CHECK(img != nullptr, ValueError, "ToTensor: null image");
    if (img->c == 1) return Item(Tensor(image_to_tensor_bw(*img)));
    return Item(Tensor(image_to_tensor(*img)));
  });
  encodes<PILMask>([](const ImagePtr& img) -> Item {
    STRATA_CHECK(img != nullptr, ValueError, "ToTensor: null mask");
    return Item(Tensor(mask_to_tensor(*img)));
  });
  decodes<TensorImageBase>(
      [](const TensorImageBase& t) { return Item(ImagePtr(std::make_shared<const Image>(tensor_to_image(t)))); });
  decodes<TensorMask>([](const TensorMask& t) {
    return Item::mask(std::make_shared<const Image>(tensor_to_image(t.to(DType::U8))));
  });
}

IntToFloatTensor::IntToFloatTensor(double d) : Transform("IntToFloatTensor"), div(d) {
  order = 10;
  encodes<TensorImageBase>([this](const TensorImageBase& t) -> Item {
    if (t.is_floating_point()) return Item(Tensor(t));
    Tensor f = t.to(DType::F32);
    // In place (the converted copy is ours): one pass and one allocation less; the same values as
    // f / div (a correctly rounded f32 division by the scalar).
    div_(f, full({}, div, {.dtype = DType::F32, .device = f.device()}));
    return Item(f);
  });
  encodes<TensorMask>([](const TensorMask& t) { return Item(t.to(DType::I64)); });
  decodes<TensorImageBase>([this](const TensorImageBase& t) -> Item {
    if (!t.is_floating_point()) return Item(Tensor(t));
    Tensor x = clamp(t * div + 0.5, 0.0, 255.0);
    return Item(x.to(DType::U8));
  });
  decodes<TensorMask>([](const TensorMask& t) { return Item(Tensor(t)); });
}

AddMaskCodes::AddMaskCodes(std::vector<std::string> c) : Transform("AddMaskCodes"), codes(std::move(c)) {
  decodes<TensorMask>([this](const TensorMask& t) -> Item {
    if (codes.empty()) return Item(Tensor(t));
    return Item(with_meta(Tensor(t), std::make_shared<const CategoryMeta>(make_vocab(codes))));
  });
}

TransformBlock ImageBlock(ImageMode mode) {
  return {.name = "ImageBlock",
          .type_tfms = {std::make_shared<ImageCreate>(mode)},
          .item_tfms = {std::make_shared<ToTensor>()},
          .batch_tfms = {std::make_shared<IntToFloatTensor>()}};
}

TransformBlock MaskBlock(std::vector<std::string> codes) {
  return {.name = "MaskBlock",
          .type_tfms = {std::make_shared<MaskCreate>()},
          .item_tfms = {std::make_shared<AddMaskCodes>(std::move(codes)), std::make_shared<ToTensor>()},
          .batch_tfms = {std::make_shared<IntToFloatTensor>()}};
}

}  // namespace strata::data
