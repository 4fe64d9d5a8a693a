#include "capture/capture_mode.h"

#include "capture/logical/logical_pipeline.h"
#include "common/error.h"

namespace pg2ch::capture {

const CaptureMode& capture_mode(const std::string& mode) {
  static const CaptureMode logical_mode{logical::setup, logical::run, logical::status, logical::teardown};
  if (mode == "logical") return logical_mode;
  throw Error(ErrorKind::Config, "mode = \"" + mode + "\" is not available in this build yet",
              "use mode = \"logical\"");
}

}  // namespace pg2ch::capture
