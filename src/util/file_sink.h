// The file sink behind OpenSink (reducto/io.h), with its choice of temporary file
// exposed so that tests reach the fallback that file systems without O_TMPFILE take.
#ifndef REDUCTO_UTIL_FILE_SINK_H_
#define REDUCTO_UTIL_FILE_SINK_H_

#include <memory>
#include <string>

#include "reducto/io.h"

namespace reducto {

enum class TemporaryFile {
  kUnnamedWhereSupported,  // O_TMPFILE, or a named one where the file system lacks it.
  kNamed,                  // Always a hidden `.NAME.reducto-XXXXXX` beside the output.
};

// OpenSink for a path that is not "-" nor a character device.
Result<std::unique_ptr<ByteSink>> OpenFileSink(const std::string& path, const SinkOptions& options,
                                               TemporaryFile temporary);

}  // namespace reducto

#endif  // REDUCTO_UTIL_FILE_SINK_H_
