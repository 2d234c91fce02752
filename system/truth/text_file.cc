#include "system/truth/text_file.h"

#include <fstream>
#include <sstream>

namespace viommu::system::truth {

std::optional<std::string> read_text_file(const std::filesystem::path& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return std::nullopt;
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

} // namespace viommu::system::truth
