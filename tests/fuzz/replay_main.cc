// A main() for fuzz targets built without libFuzzer (SerenityOS's EntryShim.cpp): every file named on
// the command line, and every file inside a directory named there, goes once through
// LLVMFuzzerTestOneInput. This is how g++ builds and CI replay the seed corpora and the saved
// regressions, and how a crasher is replayed under a debugger. Arguments that start with '-' are
// libFuzzer flags and are ignored, so a libFuzzer command line works here too.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size);
extern "C" [[gnu::weak]] int LLVMFuzzerInitialize(int* argc, char*** argv);

namespace {

bool run_file(const std::filesystem::path& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        std::fprintf(stderr, "cannot read %s\n", path.c_str());
        return false;
    }
    const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // A crash or an abort from here on names the input that caused it.
    std::fprintf(stderr, "running %s (%zu bytes)\n", path.c_str(), bytes.size());
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
    return true;
}

} // namespace

int main(int argc, char** argv)
{
    if (LLVMFuzzerInitialize)
        LLVMFuzzerInitialize(&argc, &argv);
    std::size_t inputs = 0;
    for (int i = 1; i < argc; ++i) {
        const std::filesystem::path arg(argv[i]);
        if (argv[i][0] == '-')
            continue;
        if (!std::filesystem::exists(arg)) {
            std::fprintf(stderr, "%s does not exist\n", argv[i]);
            return 1;
        }
        std::vector<std::filesystem::path> files;
        if (std::filesystem::is_directory(arg)) {
            // Dot files (.gitkeep in an empty regressions directory) are not inputs.
            for (const auto& entry : std::filesystem::recursive_directory_iterator(arg))
                if (entry.is_regular_file() && entry.path().filename().string()[0] != '.')
                    files.push_back(entry.path());
            std::sort(files.begin(), files.end());
        } else {
            files.push_back(arg);
        }
        for (const auto& f : files) {
            if (!run_file(f))
                return 1;
            ++inputs;
        }
    }
    // Replaying nothing is a mistake (a corpus path that moved), not a pass.
    if (inputs == 0) {
        std::fprintf(stderr, "no inputs: name files or directories of inputs\n");
        return 1;
    }
    std::printf("%zu inputs replayed without a finding\n", inputs);
    return 0;
}
