// Which word of which extra Philox slot each event and shock of a period reads (part of the random-number contract).
#pragma once
#include "kernels/macros.h"
#include "models/parity/params.h"

namespace chipcast::parity {

// Extra-slot uniforms: event e uses index e; shock k uses kMaxEvents + k for
// its occurrence and kMaxEvents + kMaxShocks + k for its loss (read only when
// it occurs), index i being word i%4 of slot
// kSlotExtraBase + i/4.
CC_FUNCTION constexpr int event_uniform_index(int e) { return e; }
CC_FUNCTION constexpr int shock_uniform_index(int k) { return kMaxEvents + k; }
CC_FUNCTION constexpr int shock_loss_uniform_index(int k) { return kMaxEvents + kMaxShocks + k; }

}  // namespace chipcast::parity
