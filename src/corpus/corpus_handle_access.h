// The reader behind a public Corpus handle, for the encoder and the decoder.
#ifndef REDUCTO_CORPUS_CORPUS_HANDLE_ACCESS_H_
#define REDUCTO_CORPUS_CORPUS_HANDLE_ACCESS_H_

#include "corpus/corpus_reader.h"
#include "reducto/corpus_handle.h"

namespace reducto {

const CorpusReader& ReaderOf(const Corpus& corpus);

// A handle to a corpus that `reader` reads (a corpus from a repository, src/remote).
CorpusHandle MakeCorpusHandle(std::unique_ptr<CorpusReader> reader);

}  // namespace reducto

#endif  // REDUCTO_CORPUS_CORPUS_HANDLE_ACCESS_H_
