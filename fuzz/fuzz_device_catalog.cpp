// libFuzzer target: a device catalog (fit/matrix --devices FILE), then selecting from it by
// the names it defines, as --device does.
#include "decide/device_catalog.h"
#include "formats/json_guard.h"
#include "fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return lp::fuzz::accept_input_errors([&] {
    lp::decide::DeviceCatalog catalog = lp::decide::builtin_device_catalog();
    lp::decide::add_devices_file(catalog, lp::fuzz::input_file(lp::fuzz::as_text(data, size), "devices.json"));
    for (const lp::decide::Device& d : catalog.devices) (void)lp::decide::device_json(d);
  });
}
