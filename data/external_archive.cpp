// Archives through libarchive. Extraction checks every entry's path (and link target) itself, so
// the error names the offending entry, and additionally asks libarchive's disk writer for its own
// SECURE_* guarantees (no "..", no absolute paths, no writing through symlinks) as a second line.
#include <cstring>

#include "data/external.h"
#include "tensor/error.h"

#if STRATA_HAVE_LIBARCHIVE
#include <archive.h>
#include <archive_entry.h>
#endif

namespace fs = std::filesystem;

namespace strata::data {

namespace {

// Why `name` may not be extracted, or "" when it is safe: relative, no ".." component.
std::string unsafe_path_reason(const std::string& name) {
  if (name.empty()) return "an empty path";
  if (name[0] == '/' || name[0] == '\\') return "an absolute path";
  if (name.size() >= 2 && name[1] == ':') return "a drive-letter path";
  size_t start = 0;
  while (start <= name.size()) {
    size_t end = name.find_first_of("/\\", start);
    if (end == std::string::npos) end = name.size();
    if (name.compare(start, end - start, "..") == 0 && end - start == 2) return "a '..' component";
    start = end + 1;
  }
  return "";
}

}  // namespace

#if STRATA_HAVE_LIBARCHIVE

namespace {

struct ReadArchive {
  archive* a = archive_read_new();
  ~ReadArchive() { archive_read_free(a); }
};
struct DiskWriter {
  archive* a = archive_write_disk_new();
  ~DiskWriter() { archive_write_free(a); }
};

}  // namespace

void extract_archive(const fs::path& path, const fs::path& dest) {
  const std::string arch = path.string();
  STRATA_CHECK(fs::is_regular_file(path), IOError, "extract {}: no such archive", arch);
  STRATA_CHECK(fs::is_directory(dest), IOError, "extract {}: destination {} is not a folder", arch, dest.string());
  // Symlinks above the destination are the user's business: resolve them, so that
  // SECURE_SYMLINKS only polices links inside the extracted tree.
  const fs::path root = fs::canonical(dest);
  ReadArchive in;
  archive_read_support_filter_all(in.a);
  archive_read_support_format_all(in.a);
  if (archive_read_open_filename(in.a, arch.c_str(), 1 << 16) != ARCHIVE_OK)
    STRATA_THROW(IOError, "extract {}: cannot open: {}", arch, archive_error_string(in.a));
  DiskWriter out;
  // Entries are rewritten to dest/<name> (absolute), so NOABSOLUTEPATHS cannot be asked for; our
  // own check above rejects absolute entry names instead.
  archive_write_disk_set_options(out.a, ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
                                            ARCHIVE_EXTRACT_SECURE_SYMLINKS);
  archive_write_disk_set_standard_lookup(out.a);
  archive_entry* e = nullptr;
  int entries = 0;
  while (true) {
    const int r = archive_read_next_header(in.a, &e);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN)
      STRATA_THROW(IOError, "extract {}: corrupt archive after {} entries: {}", arch, entries, archive_error_string(in.a));
    ++entries;
    const char* raw = archive_entry_pathname(e);
    const std::string name = raw ? raw : "";
    if (const std::string why = unsafe_path_reason(name); !why.empty())
      STRATA_THROW(IOError, "extract {}: entry '{}' is {} (it would escape the destination)", arch, name, why);
    const mode_t type = archive_entry_filetype(e);
    if (type == AE_IFLNK) {
      const char* target = archive_entry_symlink(e);
      const std::string t = target ? target : "";
      // Only relative targets without "..": they point down from the link's folder, so no chain
      // of links can leave the destination (a lexical check of "../" targets could be fooled).
      if (!unsafe_path_reason(t).empty())
        STRATA_THROW(IOError, "extract {}: symlink entry '{}' has target '{}', which is absolute or climbs with '..' (only links pointing down, so never outside the destination, are extracted)", arch, name, t);
    } else if (type != AE_IFREG && type != AE_IFDIR) {
      STRATA_THROW(IOError, "extract {}: entry '{}' is a device, fifo or socket, which is not extracted", arch, name);
    }
    if (const char* hl = archive_entry_hardlink(e)) {
      if (const std::string why = unsafe_path_reason(hl); !why.empty())
        STRATA_THROW(IOError, "extract {}: hard link entry '{}' targets '{}', {}", arch, name, hl, why);
      archive_entry_copy_hardlink(e, (root / hl).c_str());
    }
    archive_entry_copy_pathname(e, (root / name).c_str());
    if (archive_write_header(out.a, e) < ARCHIVE_WARN)
      STRATA_THROW(IOError, "extract {}: cannot write entry '{}': {}", arch, name, archive_error_string(out.a));
    if (archive_entry_size(e) > 0) {
      const void* buf = nullptr;
      size_t size = 0;
      la_int64_t offset = 0;
      while (true) {
        const int rb = archive_read_data_block(in.a, &buf, &size, &offset);
        if (rb == ARCHIVE_EOF) break;
        if (rb < ARCHIVE_WARN)
          STRATA_THROW(IOError, "extract {}: entry '{}' is truncated or corrupt: {}", arch, name,
                       archive_error_string(in.a));
        if (archive_write_data_block(out.a, buf, size, offset) < ARCHIVE_WARN)
          STRATA_THROW(IOError, "extract {}: cannot write entry '{}': {}", arch, name, archive_error_string(out.a));
      }
    }
    if (archive_write_finish_entry(out.a) < ARCHIVE_WARN)
      STRATA_THROW(IOError, "extract {}: cannot finish entry '{}': {}", arch, name, archive_error_string(out.a));
  }
  STRATA_CHECK(entries > 0, IOError, "extract {}: not an archive, or an empty one", arch);
}

void write_archive(const fs::path& path, const std::vector<ArchiveEntry>& entries) {
  const std::string p = path.string();
  archive* a = archive_write_new();
  auto ends_with = [&](const char* s) {
    const size_t n = std::strlen(s);
    return p.size() >= n && p.compare(p.size() - n, n, s) == 0;
  };
  if (ends_with(".zip")) {
    archive_write_set_format_zip(a);
  } else if (ends_with(".tgz") || ends_with(".tar.gz")) {
    archive_write_add_filter_gzip(a);
    archive_write_set_format_pax_restricted(a);
  } else if (ends_with(".tar")) {
    archive_write_set_format_pax_restricted(a);
  } else {
    archive_write_free(a);
    STRATA_THROW(ValueError, "write_archive: unknown archive type for {} (use .tgz, .tar.gz, .tar or .zip)", p);
  }
  if (archive_write_open_filename(a, p.c_str()) != ARCHIVE_OK) {
    const std::string err = archive_error_string(a);
    archive_write_free(a);
    STRATA_THROW(IOError, "write_archive: cannot create {}: {}", p, err);
  }
  for (const ArchiveEntry& ent : entries) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, ent.name.c_str());
    if (ent.is_dir) {
      archive_entry_set_filetype(e, AE_IFDIR);
      archive_entry_set_perm(e, 0755);
    } else if (!ent.symlink_target.empty()) {
      archive_entry_set_filetype(e, AE_IFLNK);
      archive_entry_set_symlink(e, ent.symlink_target.c_str());
      archive_entry_set_perm(e, 0777);
    } else {
      archive_entry_set_filetype(e, AE_IFREG);
      archive_entry_set_perm(e, 0644);
      archive_entry_set_size(e, la_int64_t(ent.content.size()));
    }
    const bool ok = archive_write_header(a, e) == ARCHIVE_OK &&
                    (ent.content.empty() || ent.is_dir ||
                     archive_write_data(a, ent.content.data(), ent.content.size()) == la_ssize_t(ent.content.size()));
    archive_entry_free(e);
    if (!ok) {
      const std::string err = archive_error_string(a) ? archive_error_string(a) : "write failed";
      archive_write_free(a);
      STRATA_THROW(IOError, "write_archive: {}: entry '{}': {}", p, ent.name, err);
    }
  }
  const bool closed = archive_write_close(a) == ARCHIVE_OK;
  archive_write_free(a);
  STRATA_CHECK(closed, IOError, "write_archive: cannot finish {}", p);
}

#else  // no libarchive

void extract_archive(const fs::path& path, const fs::path&) {
  (void)unsafe_path_reason;
  STRATA_THROW(IOError, "extract {}: this build has no libarchive (install libarchive-dev and reconfigure)",
               path.string());
}
void write_archive(const fs::path& path, const std::vector<ArchiveEntry>&) {
  STRATA_THROW(IOError, "write_archive {}: this build has no libarchive", path.string());
}

#endif

}  // namespace strata::data
