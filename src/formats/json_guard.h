#pragma once
// Parsing JSON that came from a file we did not write. nlohmann's parser is iterative,
// but hostile nesting still costs memory and recursion elsewhere, so depth is bounded
// before parsing, and every failure becomes one InputError naming the file.
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace lp {

nlohmann::json parse_untrusted_json(std::string_view text, const std::string& source, int max_depth = 64);
// Reads and parses a JSON file (with the same checks); InputError if missing or invalid.
nlohmann::json read_json_file(const std::string& path);

}  // namespace lp
