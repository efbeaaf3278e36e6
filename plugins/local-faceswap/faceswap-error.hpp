/* local-faceswap — the one exception type of the C++ core.
 *
 * The core knows nothing of GLib: it throws vhfs::Error with a class that
 * mirrors VhErrorClass, and the C boundary (faceswap-plugin.cpp) turns it
 * into a VH_ERROR.  Keeping the classes here lets the tests and the bench
 * use the core without libvhost. */
#pragma once

#include <stdexcept>
#include <string>

namespace vhfs {

enum class ErrorKind {
  Rejected,       /* no usable face: another provider may succeed */
  InvalidInput,   /* undecodable or truncated image: this row never succeeds here */
  Cancelled,      /* the run is stopping */
  Internal,       /* missing model file, a bug */
};

class Error : public std::runtime_error {
public:
  Error (ErrorKind kind, const std::string &message)
    : std::runtime_error (message), kind_ (kind) {}
  ErrorKind kind () const noexcept { return kind_; }
private:
  ErrorKind kind_;
};

} // namespace vhfs
