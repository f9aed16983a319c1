// Host-owned storage for one 32-bit partial tally (a thread's, or a copy of a device's).
#pragma once
#include <cstdint>
#include <vector>

#include "kernels/tally/hist_view.h"
#include "kernels/tally/tally_shape.h"

namespace chipcast {

class PartialTally {
 public:
  explicit PartialTally(TallyShape shape);
  PartialTally(int periods, int sub_bins) : PartialTally(TallyShape{periods, sub_bins}) {}
  HistView view() { return view_; }
  void clear();

 private:
  std::vector<uint32_t> counts_;  // one block: HistView::of_block
  HistView view_;
};

}  // namespace chipcast
