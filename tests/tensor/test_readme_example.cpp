// The tensor + autograd example of README.md, compiled and run. The lines between the markers
// below must equal the README's example (after its #include line): the first test compares them,
// so the README cannot drift from code that builds and gives these numbers.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "strata.h"

namespace {

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << "cannot read " << path;
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// Non-empty trimmed lines strictly between the line that is exactly `begin` and the next that is `end`.
std::vector<std::string> block(const std::vector<std::string>& lines, const std::string& begin, const std::string& end,
                               bool skip_includes) {
  std::vector<std::string> out;
  bool inside = false;
  for (const auto& raw : lines) {
    const std::string line = trim(raw);
    if (!inside) {
      inside = line == begin;
      continue;
    }
    if (line == end) return out;
    if (line.empty() || (skip_includes && line.rfind("#include", 0) == 0)) continue;
    out.push_back(line);
  }
  ADD_FAILURE() << "no block between '" << begin << "' and '" << end << "'";
  return out;
}

// The README's example: the ```cpp fence after the "<!-- README-EXAMPLE" comment, without
// #include lines and blank lines.
std::vector<std::string> readme_example(const std::vector<std::string>& lines) {
  std::vector<std::string> out;
  enum { kBefore, kMarker, kFence } state = kBefore;
  for (const auto& raw : lines) {
    const std::string line = trim(raw);
    if (state == kBefore && line.rfind("<!-- README-EXAMPLE", 0) == 0) {
      state = kMarker;
    } else if (state == kMarker && line.rfind("```cpp", 0) == 0) {
      state = kFence;
    } else if (state == kFence) {
      if (line.rfind("```", 0) == 0) return out;
      if (!line.empty() && line.rfind("#include", 0) != 0) out.push_back(line);
    }
  }
  ADD_FAILURE() << "README.md has no ```cpp block after a <!-- README-EXAMPLE --> comment";
  return out;
}

TEST(ReadmeExample, MatchesTheReadme) {
  const auto readme = readme_example(read_lines(STRATA_SOURCE_DIR "/README.md"));
  const auto here = block(read_lines(STRATA_SOURCE_DIR "/tests/tensor/test_readme_example.cpp"),
                          "// README-EXAMPLE-BEGIN", "// README-EXAMPLE-END", true);
  ASSERT_FALSE(here.empty());
  EXPECT_EQ(readme, here) << "README.md's example and tests/tensor/test_readme_example.cpp differ: update both";
}

TEST(ReadmeExample, RunsAndGivesTheDocumentedNumbers) {
  // README-EXAMPLE-BEGIN
  using namespace strata;
  Tensor x = tensor({1.0f, 2.0f, 3.0f});
  Tensor w = full({3}, 0.5).requires_grad_();         // a leaf: backward fills w.grad()
  Tensor y = sum(sigmoid(w * x) * x);                  // ops record the graph as they run
  y.backward();                                        // dy/dw = sigmoid'(w x) * x^2
  std::vector<float> grad = w.grad().to_vector<float>();  // {0.2350, 0.7864, 1.3423}
  {
    NoGradGuard no_grad;                               // an SGD step, not recorded
    add_(w, w.grad(), -0.1);                           // w -= 0.1 * grad
  }
  // README-EXAMPLE-END

  auto s = [](double v) { return 1.0 / (1.0 + std::exp(-v)); };
  EXPECT_NEAR(y.item<double>(), s(0.5) * 1 + s(1.0) * 2 + s(1.5) * 3, 1e-5);  // 4.5373
  ASSERT_EQ(grad.size(), 3u);
  const std::vector<float> xs = {1, 2, 3};
  for (size_t i = 0; i < 3; ++i) {
    const double si = s(0.5 * xs[i]);
    const double expected = si * (1 - si) * xs[i] * xs[i];
    EXPECT_NEAR(grad[i], expected, 1e-5) << "element " << i;
    EXPECT_NEAR(w.to_vector<float>()[i], 0.5 - 0.1 * expected, 1e-6) << "element " << i;
  }
  EXPECT_NEAR(grad[0], 0.2350, 1e-4);  // the numbers in the README's comment
  EXPECT_NEAR(grad[1], 0.7864, 1e-4);
  EXPECT_NEAR(grad[2], 1.3423, 1e-4);
  EXPECT_FALSE(x.requires_grad());
}

}  // namespace
