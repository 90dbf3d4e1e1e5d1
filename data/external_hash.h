#pragma once
// SHA-256 (FIPS 180-4) and MD5 (RFC 1321) for download checks, written here so that untar_data
// needs no crypto library. Neither is used for security against an adversary that controls the
// server — they catch truncated, corrupted or changed archives, as fastai's download checks do.
//
//   Sha256 h; h.update(bytes, n); std::string hex = h.hex();
//   std::string hex = sha256_file("archive.tgz");
//   std::string fastai = md5_file("archive.tgz", 1 << 20);   // fastdownload: md5 of the first MiB
#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

namespace strata::data {

class Sha256 {
 public:
  Sha256();
  void update(const void* data, size_t n);
  std::array<uint8_t, 32> digest();  // finishes; the object is spent afterwards
  std::string hex();

 private:
  void block(const uint8_t* p);
  uint32_t h_[8];
  uint8_t buf_[64];
  size_t buf_len_ = 0;
  uint64_t total_ = 0;
};

class Md5 {
 public:
  Md5();
  void update(const void* data, size_t n);
  std::array<uint8_t, 16> digest();
  std::string hex();

 private:
  void block(const uint8_t* p);
  uint32_t s_[4];
  uint8_t buf_[64];
  size_t buf_len_ = 0;
  uint64_t total_ = 0;
};

// Hex digests of a file (or of its first `limit` bytes); IOError when it cannot be read.
std::string sha256_file(const std::filesystem::path& path, uint64_t limit = UINT64_MAX);
std::string md5_file(const std::filesystem::path& path, uint64_t limit = UINT64_MAX);

}  // namespace strata::data
