// Partial-tally storage.
#include "tally/partial_tally.h"

#include <algorithm>

namespace chipcast {

PartialTally::PartialTally(TallyShape shape)
    : counts_(static_cast<size_t>(HistView::block_entries(shape)), 0),
      view_(HistView::of_block(counts_.data(), shape)) {}

void PartialTally::clear() { std::fill(counts_.begin(), counts_.end(), 0u); }

}  // namespace chipcast
