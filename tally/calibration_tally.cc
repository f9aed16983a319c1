// A calibrate run's decision counts (calibration_tally.h).
#include "tally/calibration_tally.h"

#include <algorithm>
#include <stdexcept>

namespace chipcast {
namespace {

std::vector<int32_t> drawn_parameters(const parity::ModelParams& p) {
  std::vector<int32_t> v;
  for (int i = 0; i < parity::kMaxParams; ++i)
    if (p.params[i].kind != DistKind::fixed) v.push_back(i);
  return v;
}

}  // namespace

CalibrationTally::CalibrationTally(const parity::ModelParams& p)
    : params(drawn_parameters(p)),
      observations(p.num_observations),
      rejects(static_cast<size_t>(p.num_observations), 0),
      prior_u(params.size() * kUniformBins, 0),
      posterior_u(params.size() * kUniformBins, 0),
      prior_obs(static_cast<size_t>(p.num_observations) * kLevelBins, 0),
      posterior_obs(static_cast<size_t>(p.num_observations) * kLevelBins, 0) {}

void CalibrationTally::merge(const CalibrationTally& o) {
  if (o.params != params || o.observations != observations || o.prior_u.size() != prior_u.size() ||
      o.posterior_u.size() != posterior_u.size() || o.rejects.size() != rejects.size() ||
      o.prior_obs.size() != prior_obs.size() || o.posterior_obs.size() != posterior_obs.size())
    throw std::invalid_argument("CalibrationTally::merge: the tallies have different parameters or observations");
  trajectories += o.trajectories;
  accepted += o.accepted;
  for (size_t i = 0; i < rejects.size(); ++i) rejects[i] += o.rejects[i];
  for (size_t i = 0; i < prior_u.size(); ++i) prior_u[i] += o.prior_u[i];
  for (size_t i = 0; i < posterior_u.size(); ++i) posterior_u[i] += o.posterior_u[i];
  for (size_t i = 0; i < prior_obs.size(); ++i) prior_obs[i] += o.prior_obs[i];
  for (size_t i = 0; i < posterior_obs.size(); ++i) posterior_obs[i] += o.posterior_obs[i];
}

void CalibrationTally::add(const parity::DecisionCounts& partial, uint64_t n, uint64_t n_accepted) {
  trajectories += n;
  accepted += n_accepted;
  for (size_t i = 0; i < rejects.size(); ++i) rejects[i] += partial.rejects[i];
  for (size_t i = 0; i < prior_u.size(); ++i) prior_u[i] += partial.prior_u[i];
  for (size_t i = 0; i < posterior_u.size(); ++i) posterior_u[i] += partial.posterior_u[i];
  for (size_t i = 0; i < prior_obs.size(); ++i) prior_obs[i] += partial.prior_obs[i];
  for (size_t i = 0; i < posterior_obs.size(); ++i) posterior_obs[i] += partial.posterior_obs[i];
}

bool CalibrationTally::operator==(const CalibrationTally& o) const {
  return params == o.params && observations == o.observations && trajectories == o.trajectories &&
         accepted == o.accepted && rejects == o.rejects && prior_u == o.prior_u && posterior_u == o.posterior_u &&
         prior_obs == o.prior_obs && posterior_obs == o.posterior_obs;
}

std::string CalibrationTally::inconsistency() const {
  if (rejects.size() != static_cast<size_t>(observations) || prior_u.size() != params.size() * kUniformBins ||
      posterior_u.size() != prior_u.size() || prior_obs.size() != rejects.size() * kLevelBins ||
      posterior_obs.size() != prior_obs.size())
    return "the decision counts' sizes do not match their parameters and observations";
  if (accepted > trajectories) return "more trajectories accepted than decided";
  for (size_t j = 0; j < params.size(); ++j) {
    uint64_t a = 0, b = 0;
    for (int k = 0; k < kUniformBins; ++k) {
      a += prior_row(j)[k];
      b += posterior_row(j)[k];
    }
    if (a != trajectories || b != accepted) return "a parameter's uniform histogram does not sum to the trajectories";
  }
  for (uint64_t r : rejects)
    if (r > trajectories) return "an observation rejects more trajectories than were decided";
  for (size_t j = 0; j < rejects.size(); ++j) {
    uint64_t a = 0, b = 0;
    for (int k = 0; k < kLevelBins; ++k) {
      a += prior_observed_row(j)[k];
      b += posterior_observed_row(j)[k];
    }
    if (a > trajectories || b > accepted || b > a)
      return "an observation's histogram holds more trajectories than were decided or accepted";
  }
  return "";
}

DecisionPartial::DecisionPartial(const parity::ModelParams& p) {
  std::vector<int32_t> drawn = drawn_parameters(p);
  const size_t hist = drawn.size() * kUniformBins;
  const size_t nobs = static_cast<size_t>(p.num_observations);
  counts_.assign(2 * hist + nobs + 2 * nobs * kLevelBins, 0u);
  std::fill(std::begin(view_.slot), std::end(view_.slot), -1);
  for (size_t j = 0; j < drawn.size(); ++j) view_.slot[drawn[j]] = static_cast<int32_t>(j);
  view_.prior_u = counts_.data();
  view_.posterior_u = counts_.data() + hist;
  view_.rejects = counts_.data() + 2 * hist;
  view_.prior_obs = view_.rejects + nobs;
  view_.posterior_obs = view_.prior_obs + nobs * kLevelBins;
}

void DecisionPartial::clear() { std::fill(counts_.begin(), counts_.end(), 0u); }

}  // namespace chipcast
