#include "test_certs.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <unistd.h>

namespace fs = std::filesystem;

namespace grav::natstest {

std::optional<std::string> openssl_binary() {
    const char* path = std::getenv("PATH");
    std::stringstream dirs(path != nullptr ? path : "/usr/bin:/bin");
    for (std::string d; std::getline(dirs, d, ':');) {
        const std::string candidate = d + "/openssl";
        if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    }
    return std::nullopt;
}

TestCerts::TestCerts() {
    if (!openssl_binary()) throw std::runtime_error("openssl not found on PATH");
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/grav-certs-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp " + pattern + " failed");
    dir_ = pattern;
    try {
        make_ca("ca");
        make_ca("other-ca");
        make_signed("server", "ca", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
        make_signed("client", "ca", "extendedKeyUsage=clientAuth\n");
        make_signed("other", "other-ca", "extendedKeyUsage=clientAuth\n");
    } catch (...) {
        std::error_code ignored;
        fs::remove_all(dir_, ignored);
        throw;
    }
}

TestCerts::~TestCerts() {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
}

void TestCerts::run(const std::string& args) const {
    const std::string log = dir_ + "/openssl.log";
    const std::string command = *openssl_binary() + " " + args + " >" + log + " 2>&1";
    if (std::system(command.c_str()) != 0) {
        std::ifstream in(log);
        std::stringstream out;
        out << in.rdbuf();
        throw std::runtime_error("openssl " + args + " failed:\n" + out.str());
    }
}

void TestCerts::make_ca(const std::string& name) const {
    const std::string base = dir_ + "/" + name;
    run("req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=grav-test-" + name + " -keyout " + base +
        ".key -out " + base + ".pem");
}

void TestCerts::make_signed(const std::string& name, const std::string& ca,
                            const std::string& extensions) const {
    const std::string base = dir_ + "/" + name;
    const std::string ext = base + ".ext";
    std::ofstream(ext) << extensions;
    run("req -newkey rsa:2048 -nodes -subj /CN=grav-test-" + name + " -keyout " + base + ".key -out " + base +
        ".csr");
    run("x509 -req -in " + base + ".csr -CA " + dir_ + "/" + ca + ".pem -CAkey " + dir_ + "/" + ca +
        ".key -CAcreateserial -days 2 -extfile " + ext + " -out " + base + ".pem");
}

}  // namespace grav::natstest
