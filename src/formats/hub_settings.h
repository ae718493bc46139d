#pragma once
// Where the hub is and where its cache lives, read from the same environment variables
// huggingface_hub reads, so both tools agree on one cache and one token.
#include <filesystem>
#include <optional>
#include <string>

namespace lp {

struct HubSettings {
  std::string endpoint = "https://huggingface.co";  // HF_ENDPOINT, without a trailing '/'
  std::filesystem::path cache;                      // HF_HUB_CACHE, else $HF_HOME/hub
  std::optional<std::string> token;                 // HF_TOKEN, else the file $HF_HOME/token
  bool offline = false;                             // HF_HUB_OFFLINE=1 (or true/yes/on)
  long timeout_s = 10;                              // HF_HUB_DOWNLOAD_TIMEOUT: connect, and a stall
};

HubSettings hub_settings_from_environment();

}  // namespace lp
