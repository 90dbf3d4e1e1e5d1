#pragma once
// External data: fastai's untar_data (fastdownload) in C++.
//
//   fs::path p = untar_data(URLs::MNIST_TINY);   // ~/.strata/data/mnist_tiny, downloaded once
//
// Where things go (fastai's Config): a home directory, $STRATA_HOME or ~/.strata, holding
// config.ini (created with defaults on first use) whose `key = value` lines name
//
//   data    = <home>/data      extracted data sets, one folder per archive (<data>/<stem>)
//   archive = <home>/archive   downloaded archives
//   mirror  =                  offline mirror folders, ':'-separated (optional)
//
// untar_data(url) resolves, in order:
//   1. a file:// URL of a directory: that directory, as is (URLs::FASHION_MNIST works this way);
//   2. a mirror (options.mirror, else $STRATA_DATA_MIRROR, else config `mirror`): <mirror>/<stem>/
//      when it is a directory (returned as is, nothing copied), or <mirror>/<file name>, an
//      archive extracted like a download. The project's ../shared/data has this layout.
//   3. the cache: <data>/<stem> when it exists and force_download is off (nothing downloaded);
//   4. otherwise the archive (a file:// path, or downloaded with libcurl to <archive>/<file name>
//      through a .part file: retries with backoff, connect and stall timeouts, a progress bar when
//      stderr is a terminal, size / SHA-256 / fastai-style MD5 checks when known) is extracted with
//      libarchive into a temporary folder next to <data>/<stem>, then renamed into place (a lone
//      top-level folder becomes <stem> itself, as fastcore's untar_dir does). Entries with absolute
//      paths, `..` components, links leaving the destination, or device / fifo types are rejected
//      (IOError naming the entry) before anything is written.
// Concurrent calls for the same URL (threads or processes) are serialized by an flock on
// <archive>/<file name>.lock.
//
// <stem> is the URL's file name without .tgz / .tar.gz / .tar / .zip / .gz (mnist_tiny.tgz ->
// mnist_tiny). Every failure is an IOError naming the URL or file and the reason (HTTP status,
// curl's message, which check failed with expected and actual values).
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace strata::data {

// The configuration in effect (fastai's Config).
struct DataConfig {
  std::filesystem::path home;     // $STRATA_HOME or ~/.strata
  std::filesystem::path data;     // extracted data sets
  std::filesystem::path archive;  // downloaded archives
  std::vector<std::filesystem::path> mirrors;
};
// Reads <home>/config.ini, creating the home folder and the file with defaults when missing.
// Relative paths in the file are relative to home. Throws IOError when home cannot be created.
DataConfig data_config();

// Checks of a downloaded file; empty / negative members are not checked.
struct ExpectedFile {
  int64_t size = -1;
  std::string sha256;         // hex, of the whole file
  std::string md5_first_mib;  // hex, of the first 2^20 bytes (fastdownload's path_stats)
};

// "" when `path` satisfies `expected`, else what differs ("size 10 bytes, expected 12", ...).
std::string verify_file(const std::filesystem::path& path, const ExpectedFile& expected);

struct DownloadOptions {
  int retries = 3;                   // extra attempts after a transient failure (not after a 4xx)
  double connect_timeout_s = 15;
  double stall_timeout_s = 30;       // abort when under 1 byte/s for this long
  bool progress = true;              // shown only when stderr is a terminal
  ExpectedFile expected;
};
// Downloads url (http, https, file) to dest through dest + ".part" (renamed when complete and
// checked). Throws IOError on any failure, leaving no partial dest.
void download_url(const std::string& url, const std::filesystem::path& dest, const DownloadOptions& opts = {});

struct UntarOptions {
  std::filesystem::path dest;            // folder to extract into (default: config data)
  std::filesystem::path archive_dir;     // where downloads go (default: config archive)
  bool force_download = false;           // re-download and re-extract even when cached
  std::optional<std::string> mirror;     // ':'-separated folders; set: replaces env and config
  DownloadOptions download;
};
std::filesystem::path untar_data(const std::string& url, const UntarOptions& opts = {});

// ---- pieces, public for tools and tests ----
// The last path component of a URL, without query or fragment ("…/mnist_tiny.tgz?x=1" ->
// "mnist_tiny.tgz"). IOError when the URL has none.
std::string url_file_name(const std::string& url);
// File name without its archive suffix: .tgz, .tar.gz, .tar.bz2, .tar.xz, .tar, .zip, .gz.
std::string archive_stem(const std::string& file_name);

// Extracts archive (tar, optionally gzip/bzip2/xz compressed, or zip) into the existing folder
// dest, rejecting unsafe entries as described above. IOError naming the archive (and entry).
void extract_archive(const std::filesystem::path& archive, const std::filesystem::path& dest);

// One entry of an archive to write: a file (content), a folder (is_dir) or a symlink (target).
struct ArchiveEntry {
  std::string name;  // stored verbatim (even "../x", so tests can build hostile archives)
  std::string content;
  bool is_dir = false;
  std::string symlink_target;
};
// Writes an archive whose format follows the file name: .tgz / .tar.gz (gzip'd tar), .tar, .zip.
void write_archive(const std::filesystem::path& archive, const std::vector<ArchiveEntry>& entries);

}  // namespace strata::data
