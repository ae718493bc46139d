#pragma once
// Loads the HTTP module (libllama-pajamas-http.so, see http_exchange.h) and makes a listener
// with it. The module is looked for beside the executable (the build tree), then in
// ../lib/llama-pajamas/ (an install), or where LLAMA_PAJAMAS_HTTP_MODULE points.
#include <memory>

#include "serve/http_exchange.h"

namespace lp::serve {

// InputError naming where the module was looked for when it cannot be loaded.
std::unique_ptr<HttpListener> make_http_listener(const HttpListenerOptions& options, HttpHandler& handler);

}  // namespace lp::serve
