#include "tensor/error.h"

#include <cstring>

namespace strata::detail {

void throw_error_kind(int kind, const std::string& msg, const char* file, int line) {
  // Keep only the path below the project root in messages.
  const char* short_file = file;
  for (const char* root : {"/tensor/", "/autograd/", "/kernels/", "/nn/", "/data/", "/train/", "/apps/"}) {
    if (const char* p = std::strstr(file, root)) {
      short_file = p + 1;
      break;
    }
  }
  const std::string full = fmt::format("{} ({}:{})", msg, short_file, line);
  switch (kind) {
    case 1: throw ShapeError(full);
    case 2: throw DTypeError(full);
    case 3: throw DeviceError(full);
    case 4: throw IndexError(full);
    case 5: throw IOError(full);
    case 6: throw ValueError(full);
    case 7: throw AutogradError(full);
    case 8: throw DispatchError(full);
    case 9: throw NotImplementedError(full);
    default: throw Error(full);
  }
}

}  // namespace strata::detail
