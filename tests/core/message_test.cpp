// Messages and ids: UUID text, typed payloads through cereal (and their
// decode failure), JSON rendering that real JSON parsers accept.
#include <grav/message.hpp>

#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <cstdio>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <set>

namespace grav {
namespace {

// Character-class patterns without std::regex (GCC 12 warns inside <regex>
// under ASan): 'x' lowercase hex, 'd' digit, 'v' one of 89ab, '+' one or
// more digits, anything else itself.
bool matches(std::string_view text, std::string_view pattern) {
    std::size_t i = 0;
    for (std::size_t p = 0; p < pattern.size(); ++p) {
        const char c = pattern[p];
        if (c == '+') {
            if (i >= text.size() || !std::isdigit(static_cast<unsigned char>(text[i]))) return false;
            while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
            continue;
        }
        if (i >= text.size()) return false;
        const char t = text[i++];
        const bool ok = c == 'x'   ? (std::isdigit(static_cast<unsigned char>(t)) || (t >= 'a' && t <= 'f'))
                        : c == 'd' ? std::isdigit(static_cast<unsigned char>(t)) != 0
                        : c == 'v' ? (t == '8' || t == '9' || t == 'a' || t == 'b')
                                   : t == c;
        if (!ok) return false;
    }
    return i == text.size();
}

struct Point {
    int x = 0;
    int y = 0;
    std::string label;
    std::vector<double> weights;
    template <class Archive>
    void serialize(Archive& ar) { ar(x, y, label, weights); }
    bool operator==(const Point&) const = default;
};

TEST(Uuid, RendersTheCanonicalVersion4Text) {
    constexpr std::string_view canonical = "xxxxxxxx-xxxx-4xxx-vxxx-xxxxxxxxxxxx";
    std::set<std::string> seen;
    for (int i = 0; i < 1000; ++i) {
        const std::string text = Uuid::random().str();
        ASSERT_TRUE(matches(text, canonical)) << text;
        seen.insert(text);
    }
    EXPECT_EQ(seen.size(), 1000U);  // random, not repeated
    EXPECT_EQ(Uuid().str(), "00000000-0000-0000-0000-000000000000");
    EXPECT_TRUE(Uuid().is_nil());
}

TEST(Uuid, ParsesItsOwnTextAndRejectsGarbage) {
    const Uuid u = Uuid::random();
    ASSERT_TRUE(Uuid::parse(u.str()).has_value());
    EXPECT_EQ(*Uuid::parse(u.str()), u);
    std::string upper = u.str();
    for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    EXPECT_EQ(Uuid::parse(upper), u);
    EXPECT_FALSE(Uuid::parse(""));
    EXPECT_FALSE(Uuid::parse(u.str().substr(1)));
    EXPECT_FALSE(Uuid::parse("zzzzzzzz-0000-0000-0000-000000000000"));
    EXPECT_FALSE(Uuid::parse("00000000+0000-0000-0000-000000000000"));
    EXPECT_EQ(u.short_str(), u.str().substr(0, 8));

    const NodeId node = NodeId::random();
    EXPECT_EQ(NodeId::parse(node.str()), node);
    EXPECT_NE(MessageId::random(), MessageId::random());
}

TEST(Message, NewMessagesHaveAFreshIdTypePayloadAndTimestamp) {
    const auto before = Clock::now();
    const Message a("chat.line", "hello");
    const Message b("chat.line", "hello");
    EXPECT_NE(a.id(), b.id());
    EXPECT_FALSE(a.id().is_nil());
    EXPECT_TRUE(a.reply_to().is_nil());
    EXPECT_EQ(a.type(), "chat.line");
    EXPECT_EQ(a.payload_view(), "hello");
    EXPECT_EQ(a.payload_size(), 5U);
    EXPECT_GE(a.timestamp(), before);
    EXPECT_LE(a.timestamp(), Clock::now());

    const std::byte raw[] = {std::byte{0}, std::byte{0xff}, std::byte{7}};
    const Message bin("blob", std::span<const std::byte>(raw));
    ASSERT_EQ(bin.payload().size(), 3U);
    EXPECT_EQ(bin.payload()[1], std::byte{0xff});
}

TEST(Message, TypedPayloadsRoundTrip) {
    const Point p{3, -4, "north", {0.5, 1.5}};
    const Message m = Message::of("geo.point", p);
    EXPECT_EQ(m.type(), "geo.point");
    auto back = m.as<Point>();
    ASSERT_TRUE(back.ok()) << back.error().what();
    EXPECT_EQ(*back, p);

    auto n = Message::of("n", std::uint64_t{42}).as<std::uint64_t>();
    ASSERT_TRUE(n.ok());
    EXPECT_EQ(*n, 42U);
}

TEST(Message, DecodingBytesThatAreNotTheTypeIsAnErrorNotAnException) {
    const Message m("geo.point", "xy");  // two bytes: not a Point
    Result<Point> r = m.as<Point>();
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), Errc::decode_failed);
    EXPECT_NE(r.error().reason().find("geo.point"), std::string::npos) << r.error().reason();
    EXPECT_THROW((void)r.value(), BadResultAccess);
}

rapidjson::Document parse_json(const std::string& text) {
    rapidjson::Document doc;
    doc.Parse(text.c_str(), text.size());
    return doc;
}

TEST(Message, JsonIsOneLineThatParsesWithEveryField) {
    Message m("chat.line", "he said \"hi\"\n\tand left \xc3\xa9");
    m.set_parent_id(MessageId::random());
    const std::string json = m.to_json();
    EXPECT_EQ(json.find('\n'), std::string::npos) << json;
    const auto doc = parse_json(json);
    ASSERT_FALSE(doc.HasParseError()) << json;
    ASSERT_TRUE(doc.IsObject());
    EXPECT_EQ(std::string(doc["id"].GetString()), m.id().str());
    EXPECT_EQ(std::string(doc["parent_id"].GetString()), m.parent_id().str());
    EXPECT_EQ(std::string(doc["type"].GetString()), "chat.line");
    EXPECT_EQ(std::string(doc["payload"].GetString()), std::string(m.payload_view()));
    EXPECT_TRUE(doc.HasMember("origin"));
    const std::string ts = doc["timestamp"].GetString();
    EXPECT_TRUE(matches(ts, "dddd-dd-ddTdd:dd:dd.+Z") || matches(ts, "dddd-dd-ddTdd:dd:ddZ")) << ts;
}

TEST(Message, BinaryPayloadsRenderAsBase64) {
    const std::byte raw[] = {std::byte{0xff}, std::byte{0xfe}, std::byte{0x00}, std::byte{0x80}};
    const Message m("blob", std::span<const std::byte>(raw));
    const auto doc = parse_json(m.to_json());
    ASSERT_FALSE(doc.HasParseError()) << m.to_json();
    EXPECT_FALSE(doc.HasMember("payload"));
    ASSERT_TRUE(doc.HasMember("payload_base64"));
    EXPECT_EQ(std::string(doc["payload_base64"].GetString()), "//4AgA==");
}

// A second, independent parser: Python's json module, when python3 exists.
TEST(Message, JsonParsesWithPython) {
    if (std::system("python3 -c 'import json' >/dev/null 2>&1") != 0) GTEST_SKIP() << "no python3";
    const std::string path = ::testing::TempDir() + "grav_message.json";
    {
        std::ofstream out(path);
        out << Message("chat.line", "quote \" backslash \\ ctrl \x01 end").to_json() << '\n';
        const std::byte raw[] = {std::byte{0xc0}, std::byte{0x80}};  // overlong: not UTF-8
        out << Message("blob", std::span<const std::byte>(raw)).to_json() << '\n';
    }
    const std::string cmd = "python3 -c 'import json,sys\nfor l in open(sys.argv[1]): json.loads(l)' " + path;
    EXPECT_EQ(std::system(cmd.c_str()), 0);
    std::remove(path.c_str());
}

}  // namespace
}  // namespace grav
