#include "usage_recording.h"

namespace reducto::cli {

void UsageFlags::Register(CLI::App* cmd) { AddSettingFlag(cmd, "usage"); }

}  // namespace reducto::cli
