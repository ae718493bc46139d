#pragma once
// A labelled scatter plot as inline SVG, for report.html: axes with round-number ticks, a
// light grid, one marker per point coloured by its CSS class, the point's name beside it
// (moved off its neighbours' labels where they would collide) and an optional reference line.
// Plain SVG, no script, so the page stays self-contained and prints as it shows.
#include <optional>
#include <string>
#include <vector>

namespace lp::decide {

struct ChartPoint {
  std::string label;  // shown beside the point and written to data-level
  double x = 0, y = 0;
  std::string css_class;     // extra class for the marker (the tier), e.g. "tier-negligible"
  std::string tooltip;       // <title> text
  bool highlighted = false;  // the baseline: ringed, and its label says so
};

struct ChartSpec {
  std::string id, title, x_label, y_label;
  std::vector<ChartPoint> points;
  bool x_from_zero = true, y_from_zero = false;
  std::optional<double> reference_y;  // dashed horizontal line (the baseline's value)
  std::string reference_label;
};

// Round tick positions covering [lo, hi] with about `target` intervals.
struct Ticks {
  double lo = 0, hi = 1, step = 1;
  int decimals = 0;  // enough to tell neighbouring ticks apart
};
Ticks nice_ticks(double lo, double hi, int target = 5);

// Every string in the spec is escaped here. With no points the chart says "no data".
std::string scatter_svg(const ChartSpec& spec);

}  // namespace lp::decide
