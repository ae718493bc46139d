// libFuzzer target: a --devices catalog file ({"devices": [...]}) merged into the built-in
// catalog (through the file, as --devices reads it), then a device selection over it, as
// `fit` and `matrix` use it.
#include <cstddef>
#include <cstdint>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "decide/device_catalog.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const lp::decide::DeviceCatalog builtin = lp::decide::builtin_device_catalog();
  try {
    lp::decide::DeviceCatalog catalog = builtin;
    lp::decide::add_devices_file(catalog, lp::fuzz::write_scratch_file("devices.json", lp::fuzz::as_text(data, size)));
    for (const lp::decide::Device* d : lp::decide::select_devices(catalog, "all")) (void)lp::decide::device_json(*d).dump();
    if (!catalog.devices.empty()) (void)lp::decide::select_devices(catalog, catalog.devices.back().name);
  } catch (const lp::InputError&) {
  }
  return 0;
}
