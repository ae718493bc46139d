#pragma once
// libcurl, loaded (dlopen) when the first hub request is made rather than linked: libcurl and
// what it pulls in (OpenSSL, Kerberos, LDAP, SSH, HTTP/2 ...) add about 4.5 MB to the resident
// memory of every run of the tool, which the memory model counts as the process's own
// (decide/memory_model.h, kRuntimeBaseBytes), for the one command in many that downloads.
#include <curl/curl.h>

namespace lp {

struct CurlApi {
  CURLcode (*global_init)(long flags);
  CURL* (*easy_init)();
  void (*easy_cleanup)(CURL* curl);
  void (*easy_reset)(CURL* curl);
  CURLcode (*easy_setopt)(CURL* curl, CURLoption option, ...);
  CURLcode (*easy_perform)(CURL* curl);
  CURLcode (*easy_getinfo)(CURL* curl, CURLINFO info, ...);
  const char* (*easy_strerror)(CURLcode code);
  curl_slist* (*slist_append)(curl_slist* list, const char* text);
  void (*slist_free_all)(curl_slist* list);
};

// The library's entry points, loaded and initialised once (thread-safe). InputError, one
// sentence, when no libcurl is installed.
const CurlApi& curl_api();

}  // namespace lp
