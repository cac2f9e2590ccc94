// The warning compress prints when the corpus matched the target poorly
// (CompressStats::poor_match): how much was not found, the likely reason read from the
// kinds of the target and corpus streams, and what to do.
#ifndef REDUCTO_CLI_MATCH_WARNING_H_
#define REDUCTO_CLI_MATCH_WARNING_H_

#include <string>

#include "reducto/codec.h"

namespace reducto::cli {

// Prints the warning to stderr when stats.poor_match; `input` names the target ("-"
// for stdin).
void WarnIfPoorMatch(const CompressStats& stats, const std::string& input);

}  // namespace reducto::cli

#endif  // REDUCTO_CLI_MATCH_WARNING_H_
