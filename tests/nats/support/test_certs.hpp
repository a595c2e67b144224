#pragma once
// Throw-away X.509 material for TLS tests, made by the openssl command line
// in a temp dir of its own (removed by the destructor): a CA, a server
// certificate for IP 127.0.0.1 signed by it, a client certificate signed by
// it, and a second, unrelated CA (one the servers do not trust).

#include <optional>
#include <string>

namespace grav::natstest {

// The openssl binary (`openssl` on PATH), or nullopt.
std::optional<std::string> openssl_binary();

class TestCerts {
public:
    // Throws std::runtime_error (with openssl's output) when a step fails.
    TestCerts();
    ~TestCerts();
    TestCerts(const TestCerts&) = delete;
    TestCerts& operator=(const TestCerts&) = delete;

    [[nodiscard]] std::string ca() const { return dir_ + "/ca.pem"; }
    [[nodiscard]] std::string server_cert() const { return dir_ + "/server.pem"; }
    [[nodiscard]] std::string server_key() const { return dir_ + "/server.key"; }
    [[nodiscard]] std::string client_cert() const { return dir_ + "/client.pem"; }
    [[nodiscard]] std::string client_key() const { return dir_ + "/client.key"; }
    [[nodiscard]] std::string other_ca() const { return dir_ + "/other-ca.pem"; }
    [[nodiscard]] std::string other_cert() const { return dir_ + "/other.pem"; }  // signed by other_ca
    [[nodiscard]] std::string other_key() const { return dir_ + "/other.key"; }

private:
    void run(const std::string& args) const;
    void make_ca(const std::string& name) const;
    void make_signed(const std::string& name, const std::string& ca, const std::string& extensions) const;
    std::string dir_;
};

}  // namespace grav::natstest
