#include "formats/hub_settings.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>

#include "core/text.h"

namespace lp {

namespace {

std::optional<std::string> hub_env(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string(value);
}

std::filesystem::path expand_home(const std::string& path) {
  if (path.rfind("~/", 0) == 0) {
    if (auto home = hub_env("HOME")) return std::filesystem::path(*home) / path.substr(2);
  }
  return path;
}

// huggingface_hub's reading of a boolean variable.
bool hub_env_true(const char* name) {
  auto value = hub_env(name);
  if (!value) return false;
  const std::string v = ascii_lower(*value);
  return v == "1" || v == "on" || v == "yes" || v == "true";
}

std::string trim_token(std::string text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  size_t start = 0;
  while (start < text.size() && std::isspace(static_cast<unsigned char>(text[start]))) ++start;
  return text.substr(start);
}

}  // namespace

HubSettings hub_settings_from_environment() {
  HubSettings s;
  if (auto endpoint = hub_env("HF_ENDPOINT")) {
    s.endpoint = *endpoint;
    while (!s.endpoint.empty() && s.endpoint.back() == '/') s.endpoint.pop_back();
  }
  std::filesystem::path home;
  if (auto hf_home = hub_env("HF_HOME")) {
    home = expand_home(*hf_home);
  } else if (auto xdg = hub_env("XDG_CACHE_HOME")) {
    home = std::filesystem::path(expand_home(*xdg)) / "huggingface";
  } else {
    home = expand_home("~/.cache/huggingface");
  }
  if (auto cache = hub_env("HF_HUB_CACHE")) {
    s.cache = expand_home(*cache);
  } else if (auto legacy = hub_env("HUGGINGFACE_HUB_CACHE")) {
    s.cache = expand_home(*legacy);
  } else {
    s.cache = home / "hub";
  }
  if (auto token = hub_env("HF_TOKEN")) {
    s.token = trim_token(*token);
  } else if (auto legacy = hub_env("HUGGING_FACE_HUB_TOKEN")) {
    s.token = trim_token(*legacy);
  } else {
    // `hf auth login` stores the token here (HF_TOKEN_PATH moves it).
    const auto token_path = hub_env("HF_TOKEN_PATH") ? expand_home(*hub_env("HF_TOKEN_PATH")) : home / "token";
    std::ifstream in(token_path);
    std::string text;
    if (in && std::getline(in, text) && !trim_token(text).empty()) s.token = trim_token(text);
  }
  if (s.token && s.token->empty()) s.token.reset();
  s.offline = hub_env_true("HF_HUB_OFFLINE");
  if (auto timeout = hub_env("HF_HUB_DOWNLOAD_TIMEOUT")) {
    const long t = std::strtol(timeout->c_str(), nullptr, 10);
    if (t > 0) s.timeout_s = t;
  }
  return s;
}

}  // namespace lp
