// untar_data and its pieces: hashes against published test vectors, URL names, the config file,
// and the whole download path against a local HTTP server (tests/support/http_server.h) serving
// archives written here with libarchive: download + extract + cache hit, 404, truncation, size and
// checksum failures, hostile archives, file:// URLs and offline mirrors (../shared/data when
// present).
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "data/external.h"
#include "data/external_hash.h"
#include "data/urls.h"
#include "support/expect_error.h"
#include "support/http_server.h"

namespace fs = std::filesystem;
using namespace strata;
using namespace strata::data;
using strata::testing::HttpResponse;
using strata::testing::LocalHttpServer;

namespace {

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string sha256_of(const std::string& s) {
  Sha256 h;
  h.update(s.data(), s.size());
  return h.hex();
}
std::string md5_of(const std::string& s) {
  Md5 h;
  h.update(s.data(), s.size());
  return h.hex();
}

class External : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("strata_test_external_" + std::to_string(::getpid()) + "_" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_ / "src");
    // Keep the user's real home and mirror out of the tests.
    if (const char* h = std::getenv("STRATA_HOME")) saved_home_ = h;
    if (const char* m = std::getenv("STRATA_DATA_MIRROR")) saved_mirror_ = m;
    ::setenv("STRATA_HOME", (root_ / "home").c_str(), 1);
    ::unsetenv("STRATA_DATA_MIRROR");
  }
  void TearDown() override {
    if (saved_home_) ::setenv("STRATA_HOME", saved_home_->c_str(), 1);
    else ::unsetenv("STRATA_HOME");
    if (saved_mirror_) ::setenv("STRATA_DATA_MIRROR", saved_mirror_->c_str(), 1);
    fs::remove_all(root_);
  }
  // Options that keep everything under root_ and ignore mirrors, with quick retries.
  UntarOptions opts(int retries = 0) const {
    UntarOptions o;
    o.dest = root_ / "data";
    o.archive_dir = root_ / "archive";
    o.mirror = "";
    o.download.retries = retries;
    o.download.progress = false;
    return o;
  }
  // A small data set archive with one top-level folder, as fastai's archives are.
  std::string make_tgz(const std::string& file, const std::string& top = "tiny_set") {
    const fs::path p = root_ / "src" / file;
    write_archive(p, {{.name = top + "/", .is_dir = true},
                      {.name = top + "/train/3/a.txt", .content = "three"},
                      {.name = top + "/train/7/b.txt", .content = "seven"},
                      {.name = top + "/labels.csv", .content = "name,label\na,3\n"}});
    return read_text(p);
  }
  fs::path root_;
  std::optional<std::string> saved_home_, saved_mirror_;
};

}  // namespace

TEST(ExternalHash, KnownVectors) {
  EXPECT_EQ(sha256_of(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_of("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(md5_of(""), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(md5_of("abc"), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(md5_of("The quick brown fox jumps over the lazy dog"), "9e107d9d372bb6826bd81d3542a419d6");
  // A million 'a's, fed in uneven pieces (exercises the block carry-over).
  Sha256 h;
  Md5 m;
  const std::string piece(997, 'a');
  size_t fed = 0;
  while (fed < 1000000) {
    const size_t n = std::min(piece.size(), 1000000 - fed);
    h.update(piece.data(), n);
    m.update(piece.data(), n);
    fed += n;
  }
  EXPECT_EQ(h.hex(), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  EXPECT_EQ(m.hex(), "7707d6ae4e027c70eea2a935c2296f21");
}

TEST(ExternalNames, FileNamesAndStems) {
  EXPECT_EQ(url_file_name(URLs::MNIST_TINY), "mnist_tiny.tgz");
  EXPECT_EQ(url_file_name("http://h:8/a/b.tar.gz?x=1#y"), "b.tar.gz");
  EXPECT_EQ(url_file_name("file:///usr/share/datasets/fashion-mnist/"), "fashion-mnist");
  EXPECT_STRATA_ERROR(url_file_name("http://host.example"), IOError, {"no file name"});
  EXPECT_EQ(archive_stem("mnist_tiny.tgz"), "mnist_tiny");
  EXPECT_EQ(archive_stem("imagenette2-160.tgz"), "imagenette2-160");
  EXPECT_EQ(archive_stem("a.tar.gz"), "a");
  EXPECT_EQ(archive_stem("ml-100k.zip"), "ml-100k");
  EXPECT_EQ(archive_stem("plain"), "plain");
  EXPECT_STREQ(URLs::PETS, "https://s3.amazonaws.com/fast-ai-imageclas/oxford-iiit-pet.tgz");
  EXPECT_STREQ(URLs::CAMVID_TINY, "https://s3.amazonaws.com/fast-ai-sample/camvid_tiny.tgz");
  EXPECT_STREQ(URLs::COCO_TINY, "https://s3.amazonaws.com/fast-ai-coco/coco_tiny.tgz");
  EXPECT_STREQ(URLs::IMAGENETTE_160, "https://s3.amazonaws.com/fast-ai-imageclas/imagenette2-160.tgz");
}

TEST_F(External, ConfigFileCreatedAndRead) {
  const DataConfig c = data_config();
  EXPECT_EQ(c.home, root_ / "home");
  EXPECT_EQ(c.data, root_ / "home" / "data");
  EXPECT_EQ(c.archive, root_ / "home" / "archive");
  EXPECT_TRUE(c.mirrors.empty());
  EXPECT_NE(read_text(root_ / "home" / "config.ini").find("archive = archive"), std::string::npos);
  {
    std::ofstream out(root_ / "home" / "config.ini");
    out << "# mine\n[paths]\ndata = d2\narchive = /abs/arch\nmirror = /m1:/m2\nmodel = ignored\n";
  }
  const DataConfig d = data_config();
  EXPECT_EQ(d.data, root_ / "home" / "d2");
  EXPECT_EQ(d.archive, fs::path("/abs/arch"));
  EXPECT_EQ(d.mirrors, (std::vector<fs::path>{"/m1", "/m2"}));
  {
    std::ofstream out(root_ / "home" / "config.ini");
    out << "data d2\n";
  }
  EXPECT_STRATA_ERROR(data_config(), IOError, {"config.ini:1", "key = value"});
}

TEST_F(External, DownloadExtractThenCacheHit) {
  LocalHttpServer server;
  server.add("/sample/tiny_set.tgz", {.body = make_tgz("tiny_set.tgz")});
  const std::string url = server.url("/sample/tiny_set.tgz");
  const fs::path p = untar_data(url, opts());
  EXPECT_EQ(p, root_ / "data" / "tiny_set");
  EXPECT_EQ(read_text(p / "train" / "3" / "a.txt"), "three");
  EXPECT_EQ(read_text(p / "labels.csv"), "name,label\na,3\n");
  EXPECT_TRUE(fs::exists(root_ / "archive" / "tiny_set.tgz"));
  EXPECT_FALSE(fs::exists(root_ / "archive" / "tiny_set.tgz.part"));
  EXPECT_EQ(server.requests("/sample/tiny_set.tgz"), 1);
  // Cached: nothing fetched again.
  EXPECT_EQ(untar_data(url, opts()), p);
  EXPECT_EQ(server.requests("/sample/tiny_set.tgz"), 1);
  // Extracted data gone but archive kept: re-extracted without downloading.
  fs::remove_all(p);
  EXPECT_EQ(read_text(untar_data(url, opts()) / "train" / "7" / "b.txt"), "seven");
  EXPECT_EQ(server.requests("/sample/tiny_set.tgz"), 1);
  // force_download fetches and extracts again.
  UntarOptions f = opts();
  f.force_download = true;
  EXPECT_EQ(untar_data(url, f), p);
  EXPECT_EQ(server.requests("/sample/tiny_set.tgz"), 2);
  // No temporary folders are left next to the data.
  int entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(root_ / "data")) ++entries;
  EXPECT_EQ(entries, 1);
}

TEST_F(External, ChecksumsAndSizesVerified) {
  LocalHttpServer server;
  const std::string body = make_tgz("tiny_set.tgz");
  server.add("/tiny_set.tgz", {.body = body});
  UntarOptions o = opts();
  o.download.expected.size = int64_t(body.size());
  o.download.expected.sha256 = sha256_of(body);
  o.download.expected.md5_first_mib = md5_of(body);
  EXPECT_TRUE(fs::is_directory(untar_data(server.url("/tiny_set.tgz"), o)));

  UntarOptions bad_size = opts();
  bad_size.force_download = true;
  bad_size.download.expected.size = int64_t(body.size()) + 1;
  EXPECT_STRATA_ERROR(untar_data(server.url("/tiny_set.tgz"), bad_size), IOError,
                      {"tiny_set.tgz", "check failed", "size " + std::to_string(body.size())});
  UntarOptions bad_hash = opts();
  bad_hash.force_download = true;
  bad_hash.download.expected.sha256 = std::string(64, '0');
  EXPECT_STRATA_ERROR(untar_data(server.url("/tiny_set.tgz"), bad_hash), IOError, {"SHA-256", sha256_of(body)});
  EXPECT_FALSE(fs::exists(root_ / "archive" / "tiny_set.tgz.part"));
}

TEST_F(External, NotFoundIsAClearErrorAndNotRetried) {
  LocalHttpServer server;
  EXPECT_STRATA_ERROR(untar_data(server.url("/nope/missing.tgz"), opts(3)), IOError,
                      {"missing.tgz", "HTTP status 404"});
  EXPECT_EQ(server.requests("/nope/missing.tgz"), 1);
  EXPECT_FALSE(fs::exists(root_ / "archive" / "missing.tgz"));
  EXPECT_FALSE(fs::exists(root_ / "data" / "missing"));
}

TEST_F(External, ServerErrorsAreRetried) {
  LocalHttpServer server;
  server.add("/busy.tgz", {.status = 503, .body = "busy"});
  EXPECT_STRATA_ERROR(untar_data(server.url("/busy.tgz"), opts(2)), IOError, {"busy.tgz", "HTTP status 503"});
  EXPECT_EQ(server.requests("/busy.tgz"), 3);
}

TEST_F(External, TruncatedDownloadIsASizeError) {
  LocalHttpServer server;
  const std::string body = make_tgz("tiny_set.tgz");
  server.add("/cut.tgz", {.body = body, .send_bytes = body.size() / 2});
  EXPECT_STRATA_ERROR(untar_data(server.url("/cut.tgz"), opts(1)), IOError,
                      {"cut.tgz", "truncated download", "of " + std::to_string(body.size()) + " bytes"});
  EXPECT_EQ(server.requests("/cut.tgz"), 2);  // truncation is transient: retried once
  EXPECT_FALSE(fs::exists(root_ / "archive" / "cut.tgz"));
  EXPECT_FALSE(fs::exists(root_ / "archive" / "cut.tgz.part"));
}

TEST_F(External, HostileArchivesRejected) {
  LocalHttpServer server;
  const fs::path evil = root_ / "src" / "evil.tgz";
  write_archive(evil, {{.name = "ok.txt", .content = "fine"}, {.name = "../evil", .content = "gotcha"}});
  server.add("/evil.tgz", {.body = read_text(evil)});
  EXPECT_STRATA_ERROR(untar_data(server.url("/evil.tgz"), opts()), IOError, {"evil.tgz", "'../evil'", ".."});
  EXPECT_FALSE(fs::exists(root_ / "data" / "evil"));
  EXPECT_FALSE(fs::exists(root_ / "evil"));
  EXPECT_FALSE(fs::exists(root_ / "data" / "evil" / ".." / "evil"));

  const fs::path dest = root_ / "x";
  fs::create_directories(dest);
  const fs::path deep = root_ / "src" / "deep.tar";
  write_archive(deep, {{.name = "a/b/../../../up.txt", .content = "x"}});
  EXPECT_STRATA_ERROR(extract_archive(deep, dest), IOError, {"a/b/../../../up.txt"});
  const fs::path abs = root_ / "src" / "abs.tgz";
  write_archive(abs, {{.name = (root_ / "abs.txt").string(), .content = "x"}});
  EXPECT_STRATA_ERROR(extract_archive(abs, dest), IOError, {"absolute path"});
  EXPECT_FALSE(fs::exists(root_ / "abs.txt"));
  const fs::path link = root_ / "src" / "link.tgz";
  write_archive(link, {{.name = "d/l", .symlink_target = "../../outside"}});
  EXPECT_STRATA_ERROR(extract_archive(link, dest), IOError, {"symlink", "d/l", "../../outside"});
  const fs::path zip = root_ / "src" / "evil.zip";
  write_archive(zip, {{.name = "../zipped", .content = "x"}});
  EXPECT_STRATA_ERROR(extract_archive(zip, dest), IOError, {"'../zipped'"});
  // A safe relative symlink inside the archive is fine; so is a zip.
  const fs::path good = root_ / "src" / "good.zip";
  write_archive(good, {{.name = "d/f.txt", .content = "hello"}, {.name = "d/l", .symlink_target = "f.txt"}});
  extract_archive(good, dest);
  EXPECT_EQ(read_text(dest / "d" / "l"), "hello");
  // A destination reached through a symlink (a home on a linked disk) is fine.
  fs::create_directories(root_ / "real");
  fs::create_symlink(root_ / "real", root_ / "linked");
  extract_archive(good, root_ / "linked");
  EXPECT_EQ(read_text(root_ / "real" / "d" / "f.txt"), "hello");
  // Not an archive at all.
  { std::ofstream(root_ / "src" / "junk.tgz") << "this is not gzip"; }
  EXPECT_STRATA_ERROR(extract_archive(root_ / "src" / "junk.tgz", dest), IOError, {"junk.tgz"});
}

TEST_F(External, FileUrlsAndLooseArchives) {
  // An archive without a single top folder lands in <data>/<stem> as a whole.
  const fs::path loose = root_ / "src" / "loose.zip";
  write_archive(loose, {{.name = "a.txt", .content = "A"}, {.name = "b.txt", .content = "B"}});
  const fs::path p = untar_data("file://" + loose.string(), opts());
  EXPECT_EQ(p, root_ / "data" / "loose");
  EXPECT_EQ(read_text(p / "a.txt"), "A");
  EXPECT_EQ(read_text(p / "b.txt"), "B");
  // A file:// directory is returned as it is.
  EXPECT_EQ(untar_data("file://" + (root_ / "src").string(), opts()), root_ / "src");
  EXPECT_STRATA_ERROR(untar_data("file://" + (root_ / "nothing.tgz").string(), opts()), IOError, {"does not exist"});
}

TEST_F(External, MirrorFoldersAndArchives) {
  LocalHttpServer server;  // must not be asked anything
  const fs::path mirror = root_ / "mirror";
  fs::create_directories(mirror / "tiny_set" / "train");
  UntarOptions o = opts();
  o.mirror = "/nonexistent:" + mirror.string();
  EXPECT_EQ(untar_data(server.url("/sample/tiny_set.tgz"), o), mirror / "tiny_set");
  // An archive in the mirror is extracted into the cache.
  write_archive(mirror / "other.tgz", {{.name = "other/x.txt", .content = "from mirror"}});
  const fs::path p = untar_data(server.url("/a/other.tgz"), o);
  EXPECT_EQ(p, root_ / "data" / "other");
  EXPECT_EQ(read_text(p / "x.txt"), "from mirror");
  EXPECT_EQ(server.requests("/sample/tiny_set.tgz") + server.requests("/a/other.tgz"), 0);
  // The environment variable works when the options do not name a mirror.
  ::setenv("STRATA_DATA_MIRROR", mirror.c_str(), 1);
  UntarOptions env = opts();
  env.mirror.reset();
  EXPECT_EQ(untar_data(server.url("/sample/tiny_set.tgz"), env), mirror / "tiny_set");
  ::unsetenv("STRATA_DATA_MIRROR");
}

TEST_F(External, SharedDataMirror) {
  const fs::path shared = fs::path(STRATA_SOURCE_DIR) / ".." / "shared" / "data";
  const fs::path shared_abs = fs::is_directory(shared) ? shared : fs::path("/work/shared/data");
  if (!fs::is_directory(shared_abs / "mnist_tiny")) GTEST_SKIP() << "no ../shared/data mirror on this machine";
  UntarOptions o = opts();
  o.mirror = shared_abs.string();
  EXPECT_EQ(untar_data(URLs::MNIST_TINY, o), shared_abs / "mnist_tiny");
  EXPECT_TRUE(fs::is_directory(untar_data(URLs::MNIST_TINY, o) / "train" / "3"));
  for (const char* url : {URLs::CAMVID_TINY, URLs::COCO_TINY, URLs::IMDB_SAMPLE, URLs::ADULT_SAMPLE, URLs::ML_SAMPLE})
    if (fs::is_directory(shared_abs / archive_stem(url_file_name(url))))
      EXPECT_EQ(untar_data(url, o), shared_abs / archive_stem(url_file_name(url))) << url;
}

TEST_F(External, FashionMnistIsDebiansFolder) {
  if (!fs::is_directory("/usr/share/datasets/fashion-mnist")) GTEST_SKIP() << "dataset-fashion-mnist not installed";
  const fs::path p = untar_data(URLs::FASHION_MNIST);
  EXPECT_EQ(p, fs::path("/usr/share/datasets/fashion-mnist"));
  EXPECT_TRUE(fs::exists(p / "t10k-labels-idx1-ubyte.gz"));
}
