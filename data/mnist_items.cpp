// MnistItems: IDX splits behind DataBlock getters (see mnist_items.h).
#include "data/mnist_items.h"

#include <cstring>

#include "data/image.h"
#include "tensor/ops.h"

namespace strata::data {

const std::vector<std::string>& fashion_mnist_classes() {
  static const std::vector<std::string> names{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                              "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  return names;
}

struct MnistItems::Data {
  MnistSplit train, test;
  std::vector<std::string> classes;
  int64_t n_train = 0, n_test = 0;

  // The split that holds `row`, with row rebased into it.
  const MnistSplit& split_of(int64_t& row) const {
    STRATA_CHECK(row >= 0 && row < n_train + n_test, IndexError, "MnistItems: row {} out of range [0, {})", row,
                 n_train + n_test);
    if (row < n_train) return train;
    row -= n_train;
    return test;
  }
  Item image(int64_t row) const {
    const MnistSplit& s = split_of(row);
    const int h = static_cast<int>(s.images.size(1)), w = static_cast<int>(s.images.size(2));
    auto img = std::make_shared<Image>(h, w, 1);
    img->kind = ImageKind::BW;
    const size_t bytes = static_cast<size_t>(h) * static_cast<size_t>(w);
    std::memcpy(img->data.data(), s.images.data<uint8_t>() + static_cast<size_t>(row) * bytes, bytes);
    return Item(ImagePtr(std::move(img)));
  }
  Item label(int64_t row) const {
    const MnistSplit& s = split_of(row);
    return Item(classes[static_cast<size_t>(s.labels.data<int64_t>()[row])]);
  }
};

MnistItems::MnistItems(MnistSplit train, MnistSplit test, std::vector<std::string> classes) {
  auto d = std::make_shared<Data>();
  d->classes = std::move(classes);
  const int64_t n_classes = static_cast<int64_t>(d->classes.size());
  for (auto [src, dst] : {std::pair{&train, &d->train}, std::pair{&test, &d->test}}) {
    STRATA_CHECK(src->images.dim() == 3 && src->images.dtype() == DType::U8 && src->labels.dim() == 1 &&
                     src->labels.size(0) == src->images.size(0),
                 ValueError, "MnistItems: expected u8 images [N, H, W] and labels [N], got {} {} and {} {}",
                 src->images.shape().str(), src->images.dtype(), src->labels.shape().str(), src->labels.dtype());
    dst->images = src->images.contiguous();
    dst->labels = src->labels.to(DType::I64).contiguous();
    if (dst->labels.numel() == 0) continue;
    const int64_t lo = min(dst->labels).item<int64_t>(), hi = max(dst->labels).item<int64_t>();
    STRATA_CHECK(lo >= 0 && hi < n_classes, ValueError,
                 "MnistItems: labels span [{}, {}] but {} class names were given", lo, hi, n_classes);
  }
  d->n_train = d->train.images.size(0);
  d->n_test = d->test.images.size(0);
  data_ = std::move(d);
}

int64_t MnistItems::n_train() const { return data_->n_train; }
int64_t MnistItems::n_test() const { return data_->n_test; }

std::vector<Item> MnistItems::items() const {
  std::vector<Item> rows;
  rows.reserve(static_cast<size_t>(data_->n_train + data_->n_test));
  for (int64_t i = 0; i < data_->n_train + data_->n_test; ++i) rows.emplace_back(i);
  return rows;
}

std::vector<Item> MnistItems::vocab() const {
  std::vector<Item> v;
  for (const auto& c : data_->classes) v.emplace_back(c);
  return v;
}

Item MnistItems::image(int64_t row) const { return data_->image(row); }
Item MnistItems::label(int64_t row) const { return data_->label(row); }

Getter MnistItems::image_getter() const {
  return [d = data_](const Item& row) { return d->image(row.as_int()); };
}
Getter MnistItems::label_getter() const {
  return [d = data_](const Item& row) { return d->label(row.as_int()); };
}
Splitter MnistItems::test_splitter() const {
  return FuncSplitter([first_test = data_->n_train](const Item& row) { return row.as_int() >= first_test; });
}

}  // namespace strata::data
