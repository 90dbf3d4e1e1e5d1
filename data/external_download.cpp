// download_url with libcurl: one easy handle per attempt, the body streamed into dest.part, the
// HTTP status and byte counts inspected after the transfer, then the checks, then an atomic
// rename. Only transient failures (connection, timeouts, truncation, 5xx, 429) are retried; a 4xx
// answer will not change by asking again.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <thread>

#include "data/external.h"
#include "data/external_hash.h"
#include "tensor/error.h"

#if STRATA_HAVE_CURL
#include <curl/curl.h>
#endif

namespace fs = std::filesystem;

namespace strata::data {

std::string verify_file(const fs::path& path, const ExpectedFile& expected) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (ec) return "cannot read the file: " + ec.message();
  if (expected.size >= 0 && int64_t(size) != expected.size)
    return "size " + std::to_string(size) + " bytes, expected " + std::to_string(expected.size);
  if (!expected.sha256.empty()) {
    const std::string got = sha256_file(path);
    if (got != expected.sha256) return "SHA-256 " + got + ", expected " + expected.sha256;
  }
  if (!expected.md5_first_mib.empty()) {
    const std::string got = md5_file(path, 1 << 20);
    if (got != expected.md5_first_mib) return "MD5 (first MiB) " + got + ", expected " + expected.md5_first_mib;
  }
  return "";
}

namespace {

void finish(const fs::path& part, const fs::path& dest, const std::string& url, const ExpectedFile& expected) {
  const std::string bad = verify_file(part, expected);
  if (!bad.empty()) {
    std::error_code ec;
    fs::remove(part, ec);
    STRATA_THROW(IOError, "download {}: check failed: {}", url, bad);
  }
  std::error_code ec;
  fs::rename(part, dest, ec);
  if (ec) STRATA_THROW(IOError, "download {}: cannot move {} to {}: {}", url, part.string(), dest.string(), ec.message());
}

#if STRATA_HAVE_CURL

struct Transfer {
  std::ofstream* out = nullptr;
  int64_t received = 0;
  bool show_progress = false;
  std::string label;
  std::chrono::steady_clock::time_point last_draw{};
};

size_t write_body(char* ptr, size_t size, size_t nmemb, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t n = size * nmemb;
  t->out->write(ptr, std::streamsize(n));
  if (!*t->out) return 0;  // makes curl fail with CURLE_WRITE_ERROR
  t->received += int64_t(n);
  return n;
}

// A one-line bar on stderr, redrawn at most 10 times a second.
int progress_cb(void* user, curl_off_t total, curl_off_t now, curl_off_t, curl_off_t) {
  auto* t = static_cast<Transfer*>(user);
  if (!t->show_progress) return 0;
  const auto clock = std::chrono::steady_clock::now();
  const bool done = total > 0 && now >= total;
  if (!done && clock - t->last_draw < std::chrono::milliseconds(100)) return 0;
  t->last_draw = clock;
  constexpr int kWidth = 30;
  if (total > 0) {
    const int fill = int(kWidth * double(now) / double(total));
    std::fprintf(stderr, "\r%s [%-*s] %3d%% %.1f/%.1f MB", t->label.c_str(), kWidth,
                 std::string(size_t(std::min(fill, kWidth)), '#').c_str(), int(100.0 * double(now) / double(total)),
                 double(now) / 1e6, double(total) / 1e6);
  } else {
    std::fprintf(stderr, "\r%s %.1f MB", t->label.c_str(), double(now) / 1e6);
  }
  std::fflush(stderr);
  return 0;
}

struct Attempt {
  bool ok = false;
  bool transient = false;
  std::string error;
};

Attempt attempt(const std::string& url, const fs::path& part, const DownloadOptions& opts) {
  std::ofstream out(part, std::ios::binary | std::ios::trunc);
  if (!out) STRATA_THROW(IOError, "download {}: cannot write {}", url, part.string());
  Transfer t;
  t.out = &out;
  t.show_progress = opts.progress && ::isatty(STDERR_FILENO);
  t.label = url_file_name(url);
  CURL* h = curl_easy_init();
  if (!h) STRATA_THROW(IOError, "download {}: curl_easy_init failed", url);
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(h, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt(h, CURLOPT_USERAGENT, "strata-untar_data/1");
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, progress_cb);
  curl_easy_setopt(h, CURLOPT_XFERINFODATA, &t);
  curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, long(opts.connect_timeout_s * 1000));
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, std::max(1L, long(opts.stall_timeout_s)));
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  const CURLcode rc = curl_easy_perform(h);
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  curl_off_t declared = -1;
  curl_easy_getinfo(h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &declared);
  curl_easy_cleanup(h);
  out.close();
  if (t.show_progress) std::fprintf(stderr, "\n");

  Attempt a;
  if (rc == CURLE_PARTIAL_FILE || (rc == CURLE_OK && declared >= 0 && t.received != declared)) {
    a.transient = true;
    a.error = "truncated download: received " + std::to_string(t.received) + " of " + std::to_string(declared) +
              " bytes (size mismatch)";
    return a;
  }
  if (rc != CURLE_OK) {
    a.error = std::string(curl_easy_strerror(rc)) + (errbuf[0] ? std::string(": ") + errbuf : "");
    a.transient = rc == CURLE_COULDNT_CONNECT || rc == CURLE_OPERATION_TIMEDOUT || rc == CURLE_RECV_ERROR ||
                  rc == CURLE_SEND_ERROR || rc == CURLE_GOT_NOTHING || rc == CURLE_COULDNT_RESOLVE_HOST;
    return a;
  }
  if (status >= 400) {
    a.error = "HTTP status " + std::to_string(status);
    a.transient = status >= 500 || status == 429;
    return a;
  }
  a.ok = true;
  return a;
}

#endif  // STRATA_HAVE_CURL

}  // namespace

void download_url(const std::string& url, const fs::path& dest, const DownloadOptions& opts) {
  std::error_code ec;
  if (dest.has_parent_path()) fs::create_directories(dest.parent_path(), ec);
  const fs::path part = dest.string() + ".part";
  if (url.rfind("file://", 0) == 0 && url.find("://") == 4) {
    // Local copy without curl (libcurl's file:// would work too, but not without libcurl).
    std::string path = url.substr(7);
    if (path.rfind("localhost/", 0) == 0) path = path.substr(9);
    if (!fs::is_regular_file(path)) STRATA_THROW(IOError, "download {}: no such file {}", url, path);
    fs::copy_file(path, part, fs::copy_options::overwrite_existing, ec);
    if (ec) STRATA_THROW(IOError, "download {}: cannot copy to {}: {}", url, part.string(), ec.message());
    finish(part, dest, url, opts.expected);
    return;
  }
#if STRATA_HAVE_CURL
  static const bool curl_ready = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  STRATA_CHECK(curl_ready, IOError, "download {}: libcurl failed to initialize", url);
  std::string last;
  int tries = 0;
  for (int i = 0; i <= std::max(0, opts.retries); ++i) {
    ++tries;
    if (i > 0) std::this_thread::sleep_for(std::chrono::milliseconds(200 << std::min(i - 1, 5)));
    const Attempt a = attempt(url, part, opts);
    if (a.ok) {
      finish(part, dest, url, opts.expected);
      return;
    }
    last = a.error;
    if (!a.transient) break;
  }
  fs::remove(part, ec);
  STRATA_THROW(IOError, "download {}: {} ({} attempt{})", url, last, tries, tries == 1 ? "" : "s");
#else
  STRATA_THROW(IOError, "download {}: this build has no libcurl (install libcurl4-openssl-dev and reconfigure)", url);
#endif
}

}  // namespace strata::data
