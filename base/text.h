// Small helpers for the text people hand to the tools line by line (trace event files, kernel
// configurations), where a line may carry blanks around it or a CR from a file saved with CRLF endings.
#pragma once

#include <string_view>

namespace viommu {

// text without the spaces, tabs and CRs at either end.
std::string_view trim_blanks(std::string_view text);

} // namespace viommu
