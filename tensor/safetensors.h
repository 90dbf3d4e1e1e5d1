#pragma once
// safetensors: the tensor file format of the Hugging Face ecosystem, so weights move between
// Strata, PyTorch, JAX and friends without pickle.
//
// A file is an 8-byte little-endian u64 N, then N bytes of UTF-8 JSON, then the data buffer:
//
//   {"__metadata__": {"format": "pt"},
//    "w": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}, ...}
//
// Offsets count from the start of the data buffer; data is raw little-endian, row-major.
// Strata reads and writes the dtypes it has: F64 F32 F16 BF16 I64 I32 U8 BOOL.
//
//   save_safetensors("model.safetensors", {{"w", w}, {"b", b}}, {{"format", "pt"}});
//   SafeTensorsFile f = load_safetensors("model.safetensors");
//   Tensor w = f.at("w");
//
// Writing produces the same bytes as the reference implementation (safetensors.torch.save_file):
// compact JSON, tensors laid out by descending dtype alignment then by name (so every tensor's
// data is aligned to its element size), header padded with spaces to a multiple of 8 bytes,
// "__metadata__" first and only when there is metadata. Files are written atomically: a
// temporary file in the same directory, flushed to disk, then renamed over the target.
//
// Reading treats the file as hostile. Anything malformed (truncated file, header length past
// the end or over 100 MB, invalid JSON or UTF-8, duplicate keys, unknown dtype, bad shape,
// offsets that overflow, overlap, leave holes or run past the buffer, BOOL bytes other than
// 0/1, non-string metadata) throws IOError naming the file and the problem; no allocation is
// sized by a number the file has not proven. Tensors are copied out of the file into fresh
// CPU tensors. Unknown fields inside a tensor entry are ignored, like the reference does.
#include <filesystem>
#include <map>
#include <string>
#include <string_view>

#include "tensor/tensor.h"

namespace strata {

struct SafeTensorsFile {
  std::map<std::string, Tensor> tensors;         // by name; CPU, contiguous
  std::map<std::string, std::string> metadata;   // the "__metadata__" object, if any
  std::string source;                            // file name (or "<memory>"), for messages

  bool contains(const std::string& name) const { return tensors.count(name) != 0; }
  // The tensor called `name`; throws IndexError listing the names the file has.
  const Tensor& at(const std::string& name) const;
};

// The largest header accepted (and written), like the reference implementation.
inline constexpr uint64_t kSafeTensorsMaxHeaderBytes = 100'000'000;

// Writes `tensors` (any device, dtype, layout: copied to contiguous CPU as needed) and string
// `metadata` to `path`, atomically. Throws ValueError for an undefined tensor or a tensor named
// "__metadata__", IOError when the file cannot be written.
void save_safetensors(const std::filesystem::path& path, const std::map<std::string, Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

// Reads a whole file (one read into memory) and returns its tensors and metadata.
SafeTensorsFile load_safetensors(const std::filesystem::path& path);

// The same, in memory: the exact bytes save_safetensors writes, and the parser load uses.
std::string to_safetensors_bytes(const std::map<std::string, Tensor>& tensors,
                                 const std::map<std::string, std::string>& metadata = {});
SafeTensorsFile from_safetensors_bytes(std::string_view bytes, const std::string& source_name = "<memory>");

}  // namespace strata
