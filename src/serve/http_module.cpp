#include "serve/http_module.h"

#include <dlfcn.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "core/error.h"

namespace lp::serve {
namespace {

std::vector<std::filesystem::path> module_candidates() {
  std::vector<std::filesystem::path> out;
  if (const char* env = std::getenv("LLAMA_PAJAMAS_HTTP_MODULE"); env && *env) out.emplace_back(env);
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    out.push_back(exe.parent_path() / kHttpModuleFile);
    out.push_back(exe.parent_path().parent_path() / "lib" / "llama-pajamas" / kHttpModuleFile);
  }
  return out;
}

}  // namespace

std::unique_ptr<HttpListener> make_http_listener(const HttpListenerOptions& options, HttpHandler& handler) {
  std::string tried, last_error;
  for (const auto& path : module_candidates()) {
    if (!std::filesystem::exists(path)) {
      tried += (tried.empty() ? "" : ", ") + path.string();
      continue;
    }
    // Kept loaded for the life of the process: the listener's code lives in it.
    void* module = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!module) {
      const char* why = dlerror();
      fail("cannot load the HTTP module {}: {}", path.string(), why ? why : "unknown error");
    }
    auto make = reinterpret_cast<MakeHttpListenerFn>(dlsym(module, kMakeHttpListenerSymbol));
    if (!make) fail("{} is not llama-pajamas' HTTP module (no {})", path.string(), kMakeHttpListenerSymbol);
    std::unique_ptr<HttpListener> listener(make(options, handler));
    if (!listener) fail("the HTTP module {} could not start a listener", path.string());
    return listener;
  }
  fail("serve needs its HTTP module {}, which is not installed (looked for {})", kHttpModuleFile, tried);
}

}  // namespace lp::serve
