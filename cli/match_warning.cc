#include "match_warning.h"

#include <cstdio>

namespace reducto::cli {
namespace {

// Why the match may be poor, and what to do, from what the streams look like.
std::string LikelyReason(const CompressStats& stats, const std::string& name) {
  if (stats.target_kind == StreamKind::kTar && stats.corpus_kind != StreamKind::kTar) {
    return name + " is a tar stream, but the corpus was not built from one (from a "
           "directory or plain files?): the tar headers between the files, and files "
           "shorter than a chunk, are never found in such a corpus. Build the corpus from a "
           "tar of the reference, made the same way: `tar -cf - DIR | reducto corpus build "
           "-o CORPUS -`";
  }
  if (IsCompressedKind(stats.target_kind)) {
    return name + " is " + StreamKindName(stats.target_kind) +
           "-compressed, which hides its content from the corpus: compress the "
           "uncompressed stream instead (`" + StreamKindName(stats.target_kind) +
           " -dc FILE | reducto compress ...`), against a corpus built from uncompressed "
           "streams";
  }
  if (stats.target_kind == StreamKind::kAr) {
    return name + " is an ar archive (a Debian package?), whose members are compressed, "
           "which hides their content from the corpus: compress the package's contents "
           "(`dpkg-deb --fsys-tarfile FILE | reducto compress ...`), against a corpus built "
           "the same way from the previous version";
  }
  if (stats.target_kind != stats.corpus_kind) {
    return std::string("the corpus was built from a different kind of stream (") +
           StreamKindName(stats.corpus_kind) + ") than " + name + " (" +
           StreamKindName(stats.target_kind) +
           "): build the corpus from the same kind of stream that you compress";
  }
  return "the corpus may hold other data, or a version too far from " + name +
         ": build it from the closest reference you have (the previous release, yesterday's "
         "image or dump), as the same kind of stream that you compress";
}

}  // namespace

void WarnIfPoorMatch(const CompressStats& stats, const std::string& input) {
  if (!stats.poor_match || stats.input_bytes == 0) return;
  const std::string name = input == "-" ? "stdin" : input;
  const double missing =
      100.0 * static_cast<double>(stats.literal_bytes) / static_cast<double>(stats.input_bytes);
  std::fprintf(stderr,
               "reducto: warning: corpus %s matched %s poorly: %.1f%% of it was not found in "
               "the corpus and was sent as new bytes. Likely reason: %s\n",
               stats.corpus_id.c_str(), name.c_str(), missing,
               LikelyReason(stats, name).c_str());
}

}  // namespace reducto::cli
