#pragma once
// IDX: the file format of MNIST and Fashion-MNIST (LeCun et al.). A file is
//
//   0x00 0x00 <type code> <ndims>          magic
//   ndims x uint32, big-endian             dims
//   prod(dims) elements, big-endian        data, row-major
//
// with type codes 0x08 u8, 0x09 i8, 0x0B i16, 0x0C i32, 0x0D f32, 0x0E f64. The files usually ship
// gzip-compressed (train-images-idx3-ubyte.gz); read_idx reads either form, telling them apart by
// content rather than by name.
//
//   Tensor images = strata::data::read_idx(dir / "t10k-images-idx3-ubyte.gz");   // u8 [10000, 28, 28]
//   Tensor labels = strata::data::read_idx(dir / "t10k-labels-idx1-ubyte.gz", DType::I64);
#include <filesystem>
#include <optional>

#include "tensor/tensor.h"

namespace strata::data {

// Reads an IDX file (plain or gzip) into a contiguous CPU tensor with the file's dims. Element
// types map to u8 -> u8, i8 / i16 / i32 -> i32, f32 -> f32, f64 -> f64; `dtype` converts the
// result (e.g. DType::I64 for class labels).
//
// The reader trusts nothing in the file: a missing or unreadable file, a bad magic number, an
// unknown type code, dims whose byte count overflows, data shorter than the dims declare
// (truncated), bytes left over after it, and a corrupt gzip stream (bad deflate data or CRC) all
// throw IOError with the file's path. Memory grows with the data actually read, so a header that
// declares terabytes cannot make it allocate them.
Tensor read_idx(const std::filesystem::path& path, std::optional<DType> dtype = std::nullopt);

}  // namespace strata::data
