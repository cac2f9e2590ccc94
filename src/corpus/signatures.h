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
#include "storage/storage.h"

namespace reducto {

// What a corpus signature signs: the domain string with its NUL, the corpus id's 36
// characters, the 32-byte manifest digest. FROZEN.
std::vector<uint8_t> SignatureMessage(const std::string& corpus_id, const Digest& manifest_digest);

// Publishes signatures/<key id>.sig in `storage` for the corpus `info` describes,
// atomically, replacing the signer's earlier one (a local directory creates the
// signatures folder when needed). REQUIRES: info's id and manifest digest are those of
// the storage's manifest.json. Returns the file's path (Storage::PathOf).
Result<std::string> WriteCorpusSignature(Storage& storage, const CorpusInfo& info,
                                         const SecretKey& key);
// The same in the corpus directory `dir`.
Result<std::string> WriteCorpusSignature(const std::string& dir, const CorpusInfo& info,
                                         const SecretKey& key);

// CheckCorpusSignatures (reducto/signing.h) of the signature files in signatures/ of
// `storage`, the corpus's storage.
Result<std::vector<SignatureCheck>> CheckCorpusSignatures(const Storage& storage,
                                                          const CorpusInfo& info,
                                                          const std::vector<PublicKey>& trusted);

// Reads the secret key files, each once (a key named twice signs once).
Result<std::vector<SecretKey>> ReadSigningKeys(const std::vector<std::string>& paths);

}  // namespace reducto

#endif  // REDUCTO_CORPUS_SIGNATURES_H_
