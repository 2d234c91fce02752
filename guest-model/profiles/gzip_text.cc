#include "guest-model/profiles/gzip_text.h"

#include <zlib.h>

#include <fmt/format.h>

namespace viommu::guest::profiles {

bool is_gzip(const std::string& data)
{
    return data.size() >= 2 && static_cast<unsigned char>(data[0]) == 0x1f && static_cast<unsigned char>(data[1]) == 0x8b;
}

Expected<std::string, std::string> gunzip(const std::string& data, std::size_t max_bytes)
{
    z_stream z{};
    // 16 + MAX_WBITS: a gzip header and trailer around the deflate stream (zlib.h, inflateInit2).
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
        return unexpected(std::string("cannot start zlib's inflate"));
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    z.avail_in = static_cast<uInt>(data.size());
    std::string out;
    char buffer[64 * 1024];
    int status = Z_OK;
    while (status == Z_OK) {
        z.next_out = reinterpret_cast<Bytef*>(buffer);
        z.avail_out = sizeof buffer;
        status = inflate(&z, Z_NO_FLUSH);
        out.append(buffer, sizeof buffer - z.avail_out);
        if (out.size() > max_bytes) {
            inflateEnd(&z);
            return unexpected(fmt::format("inflates to more than {} MiB", max_bytes >> 20));
        }
        if (status == Z_BUF_ERROR && z.avail_in == 0)
            break; // the input ended before the stream did
    }
    inflateEnd(&z);
    if (status != Z_STREAM_END)
        return unexpected(std::string("not a complete gzip stream"));
    return out;
}

} // namespace viommu::guest::profiles
