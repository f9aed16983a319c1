// One sourced, uncertain measurement of an annual total (MODEL-v2.md section 7), as validated.
#pragma once
#include <string>

namespace chipcast {

// What an observation measures: a metric's annual output, or one of the
// supply quantities of MODEL-v2.md section 7.
enum class ObservedQuantity { units, compute, memory, wafers, hbm, packaging };
// Whose: a bloc, or the ratio domestic / foreign of the two blocs' values.
enum class ObservedBloc { domestic, foreign, ratio };

const char* quantity_name(ObservedQuantity q);
const char* observed_bloc_name(ObservedBloc b);

// One `[[observations]]` entry after validation. The measurement error is
// lognormal: ln(observed) ~ N(ln(true), sd_log^2), so an interval [low, high]
// (a 90 % interval) means value = sqrt(low * high), sd_log = ln(high / low) / (2 * 1.6449).
struct Observation {
  int year = 0;  // calendar year
  ObservedBloc bloc = ObservedBloc::domestic;
  ObservedQuantity quantity = ObservedQuantity::units;
  double value = 0;       // > 0
  double sd_log = 0;      // > 0
  bool interval = false;  // given as low/high (kept for the reports)
  double low = 0, high = 0;
  std::string source;
  std::string file;  // where it was written, for messages
  std::string key;   // "observations[3]"

  // "2024 domestic units" (for tables and messages).
  std::string label() const;
};

// The z of a two-sided 90 % normal interval, Boost.Math's quantile(normal, 0.95) to the
// digits MODEL-v2.md uses.
constexpr double kObservationIntervalZ = 1.6449;

}  // namespace chipcast
