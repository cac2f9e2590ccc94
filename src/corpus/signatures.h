// Detached corpus signatures, signatures/<key id>.sig (docs/corpus.md, "Signatures").
// SignCorpus, CheckCorpusSignatures and CheckCorpusTrust (reducto/signing.h) are built
// on these; CorpusStaging::Publish signs with them before a corpus appears.
#ifndef REDUCTO_CORPUS_SIGNATURES_H_
#define REDUCTO_CORPUS_SIGNATURES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "reducto/corpus.h"
#include "reducto/digest.h"
#include "reducto/signing.h"
#include "reducto/status.h"

namespace reducto {

// What a corpus signature signs: the domain string with its NUL, the corpus id's 36
// characters, the 32-byte manifest digest. FROZEN.
std::vector<uint8_t> SignatureMessage(const std::string& corpus_id, const Digest& manifest_digest);

// Writes <dir>/signatures/<key id>.sig for the corpus `info` describes, atomically,
// creating the signatures directory when needed. REQUIRES: info's id and manifest
// digest are those of <dir>/manifest.json. Returns the file's path.
Result<std::string> WriteCorpusSignature(const std::string& dir, const CorpusInfo& info,
                                         const SecretKey& key);

// Reads the secret key files, each once (a key named twice signs once).
Result<std::vector<SecretKey>> ReadSigningKeys(const std::vector<std::string>& paths);

}  // namespace reducto

#endif  // REDUCTO_CORPUS_SIGNATURES_H_
