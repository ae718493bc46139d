#include "formats/hub_curl.h"

#include <dlfcn.h>

#include <mutex>
#include <string>

#include "core/error.h"

namespace lp {

namespace {

template <class F>
void load_curl_symbol(void* library, const char* name, F& function) {
  function = reinterpret_cast<F>(dlsym(library, name));
  if (function == nullptr) fail("the installed libcurl lacks {}; install libcurl4 7.85 or newer", name);
}

CurlApi load_curl() {
  void* library = nullptr;
  // libcurl.so.4 is the SONAME of every libcurl since 7.16; Debian's GnuTLS build has another name.
  for (const char* name : {"libcurl.so.4", "libcurl-gnutls.so.4", "libcurl.so"}) {
    library = dlopen(name, RTLD_NOW | RTLD_LOCAL);
    if (library != nullptr) break;
  }
  if (library == nullptr) fail("downloading from the hub needs libcurl, which is not installed (apt install libcurl4)");
  CurlApi api{};
  load_curl_symbol(library, "curl_global_init", api.global_init);
  load_curl_symbol(library, "curl_easy_init", api.easy_init);
  load_curl_symbol(library, "curl_easy_cleanup", api.easy_cleanup);
  load_curl_symbol(library, "curl_easy_reset", api.easy_reset);
  load_curl_symbol(library, "curl_easy_setopt", api.easy_setopt);
  load_curl_symbol(library, "curl_easy_perform", api.easy_perform);
  load_curl_symbol(library, "curl_easy_getinfo", api.easy_getinfo);
  load_curl_symbol(library, "curl_easy_strerror", api.easy_strerror);
  load_curl_symbol(library, "curl_slist_append", api.slist_append);
  load_curl_symbol(library, "curl_slist_free_all", api.slist_free_all);
  if (api.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) fail("libcurl failed to initialise");
  return api;  // the library stays loaded for the process's life
}

}  // namespace

const CurlApi& curl_api() {
  static std::once_flag once;
  static CurlApi api;
  static std::string error;
  std::call_once(once, [] {
    try {
      api = load_curl();
    } catch (const InputError& e) {
      error = e.what();
    }
  });
  if (!error.empty()) throw InputError(error);
  return api;
}

}  // namespace lp
