// Reading a whole input that a user names (a request script, a domain XML, a kernel profile): with a
// size cap, since a path can name /dev/zero, a FIFO or a file of gigabytes, and refusing a directory,
// which reads as empty on Linux. "-" is standard input.
#pragma once

#include <cstddef>
#include <string>

#include "base/expected.h"

namespace viommu {

struct InputFileError {
    bool too_large = false; // more than the cap
    std::string reason;     // strerror() text, "is a directory", or "larger than N MiB"
};

[[nodiscard]] Expected<std::string, InputFileError> read_input_file(const std::string& path, std::size_t max_bytes);

} // namespace viommu
