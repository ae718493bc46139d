#pragma once
// report.html for `matrix`: one self-contained page (inline CSS and SVG, no scripts, nothing
// fetched; a Content-Security-Policy says so to the browser) that a reader can open from disk
// or attach to a ticket. It shows what report.json holds (schema in decide/matrix_report.h):
// the recommendation and its reasons first, then the tier table, quality-vs-size and
// speed-vs-size charts, the accuracy cliff, the memory tiers, the score working, the machines
// and the method.
//
// The report is read defensively: a missing or null field renders as "—" and a level without
// the data a chart needs is left out of that chart, because records from an interrupted run
// still deserve a page. Every string from the report is HTML-escaped.
//
// For tests: each chart is <svg id="quality-vs-size"> / <svg id="speed-vs-size">, and each
// plotted level is one element there with class="point" and data-level="LEVEL".
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>

namespace lp::decide {

std::string matrix_report_html(const nlohmann::json& report);

// & < > " ' as entities: safe in text and in quoted attributes.
std::string html_escape(std::string_view text);

}  // namespace lp::decide
