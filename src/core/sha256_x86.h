#pragma once
// SHA-256's compression function on the x86 SHA extensions (SHA-NI: Intel since Goldmont and
// Ice Lake, AMD since Zen): about five times the portable code's rate, so checking a
// downloaded model or hashing one for a record keeps up with a fast network or disk.
#include <cstddef>
#include <cstdint>

namespace lp {

// True when this CPU has the SHA extensions (and SSE4.1, which the code also uses).
bool sha256_x86_available();
// Runs `count` 64-byte blocks from `p` through the state `h` (the eight words, in order).
void sha256_x86_blocks(uint32_t h[8], const uint8_t* p, size_t count);

}  // namespace lp
