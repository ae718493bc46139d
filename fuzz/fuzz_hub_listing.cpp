// libFuzzer target: the hub API's description of a repository (GET /api/models/{repo}/revision/
// {rev}), a hub id as a user types it, and an --include glob, then the choice of files. The input
// is "<json>\0<hub id>\0<glob>". Whatever the network or the user sends must end in a listing of
// safe paths, a selection, or an InputError.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/error.h"
#include "formats/hub_id.h"
#include "formats/hub_listing.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto parts = lp::fuzz::split_all_at_nul(lp::fuzz::as_text(data, size), 3);
  try {
    const lp::HubListing listing = lp::parse_hub_listing(parts[0], "fuzz/listing.json");
    std::vector<std::string> names;
    for (const auto& file : listing.files) {
      if (!lp::is_safe_repo_file(file.path)) __builtin_trap();  // unsafe names never leave the parser
      names.push_back(file.path);
    }
    const auto id = lp::parse_hub_id(parts.size() > 1 ? parts[1] : "org/repo");
    if (!id) return 0;
    std::vector<std::string> include;
    if (parts.size() > 2 && !parts[2].empty()) include.emplace_back(parts[2]);
    (void)lp::select_hub_files(names, *id, include);
  } catch (const lp::InputError&) {
  }
  return 0;
}
