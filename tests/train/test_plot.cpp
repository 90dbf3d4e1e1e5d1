// Plots are real pictures: a PNG of the asked size with the series drawn in their colours.
#include <gtest/gtest.h>

#include <cstdlib>

#include "data/image.h"
#include "learner_fixture.h"
#include "support/expect_error.h"
#include "train/plot.h"

using namespace strata;
using namespace strata::train;
using namespace strata::train::testing;

namespace {

std::filesystem::path temp_png(const std::string& name) {
  return std::filesystem::temp_directory_path() / ("strata_plot_" + name + "_" + std::to_string(::getpid()) + ".png");
}

int count_colour(const data::Image& img, data::Color c) {
  int n = 0;
  for (int y = 0; y < img.h; ++y)
    for (int x = 0; x < img.w; ++x)
      if (img.at(y, x, 0) == c.r && img.at(y, x, 1) == c.g && img.at(y, x, 2) == c.b) ++n;
  return n;
}

}  // namespace

TEST(Plot, NiceTicksCoverTheRangeWithRoundSteps) {
  EXPECT_EQ(nice_ticks(0, 1, 5), (std::vector<double>{0, 0.2, 0.4, 0.6000000000000001, 0.8, 1.0}));
  auto t = nice_ticks(0.13, 9.7, 6);
  EXPECT_DOUBLE_EQ(t.front(), 2);
  EXPECT_DOUBLE_EQ(t[1] - t[0], 2);
}

TEST(Plot, LinePlotDrawsEachSeriesInItsColour) {
  auto p = temp_png("line");
  std::vector<double> x{0, 1, 2, 3}, y{1, 3, 2, 4};
  line_plot(p, {{.x = x, .y = y, .label = "a", .color = data::colors::blue},
                {.x = x, .y = {4, 3, 2, 1}, .label = "b", .color = data::colors::orange}},
            {.title = "T", .xlabel = "x", .ylabel = "y", .width = 300, .height = 200});
  auto img = data::load_image(p);
  EXPECT_EQ(img.w, 300);
  EXPECT_EQ(img.h, 200);
  EXPECT_GT(count_colour(img, data::colors::blue), 100);
  EXPECT_GT(count_colour(img, data::colors::orange), 100);
  EXPECT_GT(count_colour(img, data::colors::black), 100);  // axes, ticks, labels
  std::filesystem::remove(p);
  EXPECT_STRATA_ERROR(line_plot(p, {{.x = {1}, .y = {}}}), ValueError, {"line_plot", "1 x and 0 y"});
  EXPECT_STRATA_ERROR(line_plot(p, {{.x = {1}, .y = {NAN}}}), ValueError, {"no finite point"});
}

TEST(Plot, RecorderAndLrFindWritePngs) {
  auto dir = std::filesystem::temp_directory_path() / ("strata_plots_" + std::to_string(::getpid()));
  auto l = quiet_learner(regression_dls(256, 64, 16, true), affine_model(), {.path = dir});
  l->fit_one_cycle(3, {.lr_max = 0.05});
  l->recorder().plot_loss(dir / "loss.png");
  l->recorder().plot_sched(dir / "sched.png");
  auto r = l->lr_find({.plot = dir / "lr_find.png"});
  for (auto f : {"loss.png", "sched.png", "sched_mom.png", "lr_find.png"}) {
    ASSERT_TRUE(std::filesystem::exists(dir / f)) << f;
    auto img = data::load_image(dir / f);
    EXPECT_EQ(img.w, 640) << f;
    EXPECT_GT(count_colour(img, data::colors::black), 100) << f;
  }
  EXPECT_GT(count_colour(data::load_image(dir / "loss.png"), data::colors::orange), 20);  // validation points
  EXPECT_GT(count_colour(data::load_image(dir / "lr_find.png"), data::colors::orange), 20);  // the suggestion
  if (!std::getenv("STRATA_KEEP_PLOTS")) std::filesystem::remove_all(dir);
}
