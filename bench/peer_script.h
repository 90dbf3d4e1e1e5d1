#pragma once
// Figures from a peer script of this repository (bench/peers/*.py), run tuned through
// shared/peers/run-tuned in the same sitting, for strata/peer ratios.
//
// run-tuned starts "<its folder>/<script>", so the script is passed by its path relative to that
// folder (STRATA_PEERS, default /work/shared/peers). The script prints one line per case:
// "name  <ms> ms  <figure> <unit>" (higher is better); it runs STRATA_PEER_REPEATS times
// (default 2) and the best figure of each case counts. STRATA_BENCH_PEER=0 skips it; without
// run-tuned, python3 or torch the map is empty and the caller prints "n/a".
//
//   auto peer = bench::script_figures("torch_augment.py", "--repeat 10");   // name -> figure
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

namespace bench {

// bench/peers/<name> of this source tree: $STRATA_PEER_SCRIPTS/<name>, else found from this
// header's path (absolute when the build used absolute paths), from the executable (build/bench/
// next to the sources) or from the working directory.
inline std::filesystem::path peer_script_path(const std::string& name) {
  namespace fs = std::filesystem;
  std::vector<fs::path> dirs;
  if (const char* env = std::getenv("STRATA_PEER_SCRIPTS")) dirs.emplace_back(env);
  dirs.push_back(fs::absolute(fs::path(__FILE__)).parent_path() / "peers");
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    for (fs::path d = exe.parent_path(); !d.empty() && d != d.root_path(); d = d.parent_path())
      dirs.push_back(d / "bench" / "peers");
  }
  dirs.push_back(fs::absolute("bench/peers"));
  dirs.push_back(fs::absolute("../bench/peers"));
  for (const auto& d : dirs)
    if (fs::exists(d / name, ec)) return fs::weakly_canonical(d / name);
  return dirs.front() / name;
}

inline std::map<std::string, double> script_figures(const std::string& script, const std::string& args = "") {
  std::map<std::string, double> out;
  if (const char* skip = std::getenv("STRATA_BENCH_PEER"); skip && std::string(skip) == "0") return out;
  const char* dir_env = std::getenv("STRATA_PEERS");
  const std::filesystem::path dir = std::filesystem::absolute(dir_env ? dir_env : "/work/shared/peers");
  const std::filesystem::path path = peer_script_path(script);
  if (!std::filesystem::exists(dir / "run-tuned") || !std::filesystem::exists(path)) {
    std::printf("peer: %s or %s not found; ratios skipped\n", (dir / "run-tuned").c_str(), path.c_str());
    return out;
  }
  int repeats = 2;
  if (const char* r = std::getenv("STRATA_PEER_REPEATS")) repeats = std::max(1, std::atoi(r));
  const std::string cmd =
      "'" + (dir / "run-tuned").string() + "' '" + path.lexically_relative(std::filesystem::weakly_canonical(dir)).string() + "' " + args + " 2>/dev/null";
  for (int rep = 0; rep < repeats; ++rep) {
    FILE* p = popen(cmd.c_str(), "r");
    if (!p) continue;
    char line[512];
    while (std::fgets(line, sizeof line, p)) {
      std::istringstream in(line);
      std::string name, ms_unit, unit;
      double ms = 0, figure = 0;
      if (in >> name >> ms >> ms_unit >> figure >> unit && ms_unit == "ms") out[name] = std::max(out[name], figure);
    }
    pclose(p);
  }
  if (out.empty()) std::printf("peer: %s gave no figures (is python3-torch installed?); ratios skipped\n", script.c_str());
  return out;
}

}  // namespace bench
