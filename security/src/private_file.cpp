#include "private_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace grav::security::detail {

namespace {

// Owns a file descriptor.
class Fd {
public:
    explicit Fd(int fd) : fd_(fd) {}
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() {
        if (fd_ >= 0) ::close(fd_);
    }
    [[nodiscard]] int get() const { return fd_; }
    [[nodiscard]] bool ok() const { return fd_ >= 0; }

private:
    int fd_;
};

std::string describe(std::string_view what, const std::filesystem::path& path) {
    return std::string(what) + " " + path.string();
}

std::string octal_mode(mode_t mode) {
    std::array<char, 8> buf{};
    std::snprintf(buf.data(), buf.size(), "%04o", static_cast<unsigned>(mode & 07777));
    return buf.data();
}

}  // namespace

Result<std::string> read_private_file(const std::filesystem::path& path, std::string_view what) {
    const Fd fd{::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY)};
    if (!fd.ok()) {
        return Error{Errc::invalid_argument,
                     "cannot open " + describe(what, path) + ": " + std::strerror(errno)};
    }
    // fstat on the opened file, not stat on the name: the file checked is the file read.
    struct stat info {};
    if (::fstat(fd.get(), &info) != 0) {
        return Error{Errc::invalid_argument,
                     "cannot stat " + describe(what, path) + ": " + std::strerror(errno)};
    }
    if (!S_ISREG(info.st_mode)) {
        return Error{Errc::invalid_argument, describe(what, path) + " is not a regular file"};
    }
    if ((info.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
        return Error{Errc::invalid_argument, describe(what, path) + " has mode " + octal_mode(info.st_mode) +
                                                 ": group or others may access it; run chmod 600 " +
                                                 path.string()};
    }
    constexpr off_t max_size = 64 * 1024;  // a key file is ~150 bytes; refuse to slurp anything big
    if (info.st_size > max_size) {
        return Error{Errc::invalid_argument, describe(what, path) + " is too large to be a key or secret"};
    }
    std::string content(static_cast<std::size_t>(info.st_size), '\0');
    std::size_t done = 0;
    while (done < content.size()) {
        const ssize_t n = ::read(fd.get(), content.data() + done, content.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            return Error{Errc::invalid_argument,
                         "cannot read " + describe(what, path) + ": " + std::strerror(errno)};
        }
        if (n == 0) break;  // shrank under us: use what is there
        done += static_cast<std::size_t>(n);
    }
    content.resize(done);
    return content;
}

Status write_private_file(const std::filesystem::path& path, std::string_view content,
                          std::string_view what) {
    // O_EXCL: never replace an existing key (it may be the only copy of an identity).
    const Fd fd{::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, S_IRUSR | S_IWUSR)};
    if (!fd.ok()) {
        const int err = errno;
        if (err == EEXIST) {
            return Error{Errc::invalid_argument,
                         describe(what, path) + " already exists; refusing to overwrite it"};
        }
        return Error{Errc::invalid_argument,
                     "cannot create " + describe(what, path) + ": " + std::strerror(err)};
    }
    std::size_t done = 0;
    while (done < content.size()) {
        const ssize_t n = ::write(fd.get(), content.data() + done, content.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            const int err = errno;
            ::unlink(path.c_str());
            return Error{Errc::invalid_argument,
                         "cannot write " + describe(what, path) + ": " + std::strerror(err)};
        }
        done += static_cast<std::size_t>(n);
    }
    if (::fsync(fd.get()) != 0) {
        const int err = errno;
        ::unlink(path.c_str());
        return Error{Errc::invalid_argument,
                     "cannot sync " + describe(what, path) + ": " + std::strerror(err)};
    }
    return success();
}

}  // namespace grav::security::detail
