#include "decide/svg_chart.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>

#include "decide/report_html.h"

namespace lp::decide {
namespace {

// The drawing area inside a 640 x 400 viewBox; the margins hold tick labels and axis titles.
constexpr double kWidth = 640, kHeight = 400;
constexpr double kLeft = 70, kRight = 24, kTop = 40, kBottom = 56;
constexpr double kPlotW = kWidth - kLeft - kRight, kPlotH = kHeight - kTop - kBottom;
// Label boxes are estimated, not measured (no layout engine here): the system UI fonts at
// 12px average a little under 7px per character.
constexpr double kCharW = 6.8, kLabelH = 13;

struct Box {
  double x0, y0, x1, y1;
  bool overlaps(const Box& o) const { return x0 < o.x1 && o.x0 < x1 && y0 < o.y1 && o.y0 < y1; }
};

std::string tick_text(double v, int decimals) {
  if (std::abs(v) < 1e-12) v = 0;  // no "-0"
  return fmt::format("{:.{}f}", v, decimals);
}

// Marker labels to the right of their point, else left, above or below, whichever first
// clears the labels already placed and the plot's edge. Points are visited left to right so
// a run of close sizes fans out predictably.
struct Placed {
  double x, y;
  const char* anchor;
};
Placed place_label(double px, double py, size_t chars, std::vector<Box>& taken) {
  const double w = static_cast<double>(chars) * kCharW;
  struct Candidate {
    double dx, dy;
    const char* anchor;
  } const candidates[] = {{9, -7, "start"},  {9, 14, "start"},  {-9, -7, "end"},  {-9, 14, "end"},  {0, -12, "middle"},
                          {0, 22, "middle"}, {9, -21, "start"}, {9, 28, "start"}, {-9, -21, "end"}, {-9, 28, "end"}};
  auto box_of = [&](const Candidate& c) {
    const double x = px + c.dx, base = py + c.dy;
    const double x0 = c.anchor[0] == 's' ? x : c.anchor[0] == 'e' ? x - w : x - w / 2;
    return Box{x0, base - kLabelH + 3, x0 + w, base + 3};
  };
  for (const Candidate& c : candidates) {
    const Box b = box_of(c);
    const bool inside = b.x0 >= kLeft && b.x1 <= kLeft + kPlotW && b.y0 >= kTop - 14 && b.y1 <= kTop + kPlotH;
    if (!inside || std::any_of(taken.begin(), taken.end(), [&](const Box& t) { return t.overlaps(b); })) continue;
    taken.push_back(b);
    return {px + c.dx, py + c.dy, c.anchor};
  }
  // Crowded: keep the first choice (a readable overlap beats a missing name).
  taken.push_back(box_of(candidates[0]));
  return {px + candidates[0].dx, py + candidates[0].dy, candidates[0].anchor};
}

}  // namespace

Ticks nice_ticks(double lo, double hi, int target) {
  if (!std::isfinite(lo) || !std::isfinite(hi)) lo = 0, hi = 1;
  if (lo > hi) std::swap(lo, hi);
  if (hi - lo < 1e-9) {  // one value (or all equal): give it some room either side
    const double pad = std::abs(hi) > 1e-9 ? std::abs(hi) * 0.1 : 1;
    lo -= pad;
    hi += pad;
  }
  const double rough = (hi - lo) / std::max(1, target);
  const double magnitude = std::pow(10.0, std::floor(std::log10(rough)));
  const double norm = rough / magnitude;
  const double step = (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * magnitude;
  Ticks t;
  t.step = step;
  t.lo = std::floor(lo / step + 1e-9) * step;
  t.hi = std::ceil(hi / step - 1e-9) * step;
  t.decimals = std::max(0, -static_cast<int>(std::floor(std::log10(step) + 1e-9)));
  return t;
}

std::string scatter_svg(const ChartSpec& spec) {
  std::string out = fmt::format(
      "<svg id=\"{0}\" class=\"chart\" viewBox=\"0 0 {1:g} {2:g}\" role=\"img\" aria-labelledby=\"{0}-title\" "
      "xmlns=\"http://www.w3.org/2000/svg\">\n<title id=\"{0}-title\">{3}</title>\n"
      "<text class=\"chart-title\" x=\"{4:g}\" y=\"22\">{3}</text>\n",
      html_escape(spec.id), kWidth, kHeight, html_escape(spec.title), kLeft);
  if (spec.points.empty()) {
    out += fmt::format(
        "<text class=\"no-data\" x=\"{:g}\" y=\"{:g}\" text-anchor=\"middle\">no level has the data</text>\n</svg>\n",
        kLeft + kPlotW / 2, kTop + kPlotH / 2);
    return out;
  }

  double x_lo = spec.points[0].x, x_hi = x_lo, y_lo = spec.points[0].y, y_hi = y_lo;
  for (const ChartPoint& p : spec.points) {
    x_lo = std::min(x_lo, p.x), x_hi = std::max(x_hi, p.x);
    y_lo = std::min(y_lo, p.y), y_hi = std::max(y_hi, p.y);
  }
  if (spec.reference_y) y_lo = std::min(y_lo, *spec.reference_y), y_hi = std::max(y_hi, *spec.reference_y);
  if (spec.x_from_zero) x_lo = std::min(0.0, x_lo);
  if (spec.y_from_zero) y_lo = std::min(0.0, y_lo);
  // Headroom above the highest point for its label.
  const Ticks xt = nice_ticks(x_lo, x_hi + (x_hi - x_lo) * 0.04);
  const Ticks yt = nice_ticks(y_lo, y_hi + (y_hi - y_lo) * 0.06);
  auto sx = [&](double v) { return kLeft + (v - xt.lo) / (xt.hi - xt.lo) * kPlotW; };
  auto sy = [&](double v) { return kTop + kPlotH - (v - yt.lo) / (yt.hi - yt.lo) * kPlotH; };

  // Grid and tick labels.
  out += "<g class=\"grid\">\n";
  for (double v = xt.lo; v <= xt.hi + xt.step * 1e-6; v += xt.step) {
    out += fmt::format(
        "<line x1=\"{0:.1f}\" y1=\"{1:g}\" x2=\"{0:.1f}\" y2=\"{2:g}\"/>"
        "<text class=\"tick\" x=\"{0:.1f}\" y=\"{3:g}\" text-anchor=\"middle\">{4}</text>\n",
        sx(v), kTop, kTop + kPlotH, kTop + kPlotH + 18, tick_text(v, xt.decimals));
  }
  for (double v = yt.lo; v <= yt.hi + yt.step * 1e-6; v += yt.step) {
    out += fmt::format(
        "<line x1=\"{0:g}\" y1=\"{1:.1f}\" x2=\"{2:g}\" y2=\"{1:.1f}\"/>"
        "<text class=\"tick\" x=\"{3:g}\" y=\"{4:.1f}\" text-anchor=\"end\">{5}</text>\n",
        kLeft, sy(v), kLeft + kPlotW, kLeft - 8, sy(v) + 4, tick_text(v, yt.decimals));
  }
  out += "</g>\n";
  out += fmt::format("<rect class=\"frame\" x=\"{:g}\" y=\"{:g}\" width=\"{:g}\" height=\"{:g}\"/>\n", kLeft, kTop,
                     kPlotW, kPlotH);
  out += fmt::format("<text class=\"axis-label\" x=\"{:g}\" y=\"{:g}\" text-anchor=\"middle\">{}</text>\n",
                     kLeft + kPlotW / 2, kHeight - 12, html_escape(spec.x_label));
  out += fmt::format(
      "<text class=\"axis-label\" transform=\"translate(18 {:g}) rotate(-90)\" text-anchor=\"middle\">{}</text>\n",
      kTop + kPlotH / 2, html_escape(spec.y_label));

  std::vector<Box> taken;
  if (spec.reference_y) {
    const double y = sy(*spec.reference_y);
    out += fmt::format("<line class=\"reference\" x1=\"{:g}\" y1=\"{:.1f}\" x2=\"{:g}\" y2=\"{:.1f}\"/>\n", kLeft, y,
                       kLeft + kPlotW, y);
    // At the left end: small files sit below the baseline's accuracy, so that corner is clear.
    if (!spec.reference_label.empty()) {
      const double w = static_cast<double>(spec.reference_label.size()) * kCharW;
      out += fmt::format("<text class=\"reference-label\" x=\"{:g}\" y=\"{:.1f}\">{}</text>\n", kLeft + 6, y - 5,
                         html_escape(spec.reference_label));
      taken.push_back({kLeft + 6, y - 5 - kLabelH + 3, kLeft + 6 + w, y - 2});
    }
  }

  // Markers first (so labels can avoid every marker, not only those already drawn), then labels.
  std::vector<const ChartPoint*> order;
  for (const ChartPoint& p : spec.points) order.push_back(&p);
  std::stable_sort(order.begin(), order.end(), [](const ChartPoint* a, const ChartPoint* b) { return a->x < b->x; });
  for (const ChartPoint* p : order) taken.push_back({sx(p->x) - 6, sy(p->y) - 6, sx(p->x) + 6, sy(p->y) + 6});
  std::string markers, labels;
  for (const ChartPoint* p : order) {
    const double px = sx(p->x), py = sy(p->y);
    if (p->highlighted)
      markers += fmt::format("<circle class=\"baseline-ring\" cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"9\"/>\n", px, py);
    markers += fmt::format(
        "<circle class=\"point {}\" data-level=\"{}\" cx=\"{:.1f}\" cy=\"{:.1f}\" "
        "r=\"5.5\"><title>{}</title></circle>\n",
        html_escape(p->css_class), html_escape(p->label), px, py, html_escape(p->tooltip));
    const std::string text = p->highlighted ? p->label + " (baseline)" : p->label;
    const Placed at = place_label(px, py, text.size(), taken);
    labels += fmt::format("<text class=\"point-label{}\" x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"{}\">{}</text>\n",
                          p->highlighted ? " baseline" : "", at.x, at.y, at.anchor, html_escape(text));
  }
  out += markers + labels + "</svg>\n";
  return out;
}

}  // namespace lp::decide
