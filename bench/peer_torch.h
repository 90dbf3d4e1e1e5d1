#pragma once
// PyTorch figures for the same cases, measured in the same sitting, for strata/pytorch ratios.
//
// Runs the peer script (shared/peers/run-tuned torch_ops.py, see shared/peers/README.md) once per
// case name and parses the figure it prints ("name  <ms> ms  <figure> <unit>"). The script's
// directory comes from STRATA_PEERS (default /work/shared/peers); STRATA_BENCH_PEER=0 skips it.
// The machine is shared and noisy: the script runs STRATA_PEER_REPEATS times (default 2) and the
// best figure counts (every unit it prints is higher-is-better).
// When the script or PyTorch is missing the figure is absent and the ratio is printed as "n/a".
//
//   auto torch = bench::torch_figures({"add_4M", "exp_4M"});   // name -> figure
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace bench {

inline std::map<std::string, double> torch_figures(const std::vector<std::string>& cases) {
  std::map<std::string, double> out;
  if (const char* skip = std::getenv("STRATA_BENCH_PEER"); skip && std::string(skip) == "0") return out;
  const char* dir_env = std::getenv("STRATA_PEERS");
  const std::string dir = dir_env ? dir_env : "/work/shared/peers";
  const std::string runner = dir + "/run-tuned";
  if (FILE* f = std::fopen(runner.c_str(), "r")) {
    std::fclose(f);
  } else {
    std::printf("pytorch peer: %s not found; ratios skipped\n", runner.c_str());
    return out;
  }
  int repeats = 2;
  if (const char* r = std::getenv("STRATA_PEER_REPEATS")) repeats = std::max(1, std::atoi(r));
  for (int rep = 0; rep < repeats; ++rep) {
    for (const std::string& name : cases) {
      const std::string cmd = runner + " torch_ops.py --filter " + name + " 2>/dev/null";
      FILE* p = popen(cmd.c_str(), "r");
      if (!p) continue;
      char line[512];
      while (std::fgets(line, sizeof line, p)) {
        std::istringstream in(line);
        std::string got, ms_unit, unit;
        double ms = 0, figure = 0;
        if (in >> got >> ms >> ms_unit >> figure >> unit && got == name && ms_unit == "ms")
          out[name] = std::max(out[name], figure);
      }
      pclose(p);
    }
  }
  if (out.empty()) std::printf("pytorch peer: no figures (is python3-torch installed?); ratios skipped\n");
  return out;
}

// One summary row per case against a single peer figure (benches whose cases all compare with
// the same PyTorch case): "name  strata X  pytorch Y  ratio X/Y", or "n/a" without the peer.
// Cases with no figure of their own (best <= 0, e.g. filtered out) are skipped.
inline void print_ratio_rows(const std::vector<std::pair<std::string, double>>& strata_figures, double peer) {
  for (const auto& [name, s] : strata_figures) {
    if (s <= 0) continue;
    if (peer > 0)
      std::printf("  %-38s strata %7.3f  pytorch %7.3f  ratio %.2f\n", name.c_str(), s, peer, s / peer);
    else
      std::printf("  %-38s strata %7.3f  pytorch     n/a\n", name.c_str(), s);
  }
}

}  // namespace bench
