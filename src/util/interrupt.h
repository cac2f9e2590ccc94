// Cleanup on SIGINT, SIGTERM and SIGHUP (InstallInterruptCleanup, reducto/io.h): the
// handler removes the temporary files of uncommitted file sinks and the staging
// directories registered here, then exits with 128 + the signal number.
//
// Thread safety: Register/Unregister may be called from any thread. The handler uses
// only async-signal-safe calls (rename, openat, getdents64, unlinkat, write, _exit).
#ifndef REDUCTO_UTIL_INTERRUPT_H_
#define REDUCTO_UTIL_INTERRUPT_H_

#include <string>

namespace reducto {

// Registers a directory that an interruption must remove with all its contents (up to
// 6 levels deep). The handler first renames it to "<dir>-interrupted", so that it cannot
// remove a directory that another thread has just renamed into its final place; then
// it deletes that. Returns a slot for UnregisterInterruptDirectory, or -1 when `dir` is
// too long or all slots are taken (the directory is then simply not cleaned up).
int RegisterInterruptDirectory(const std::string& dir);
// Forgets the slot (-1 is ignored). Call before the directory is published or removed.
void UnregisterInterruptDirectory(int slot);

}  // namespace reducto

#endif  // REDUCTO_UTIL_INTERRUPT_H_
